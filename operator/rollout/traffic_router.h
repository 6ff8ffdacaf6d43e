// TrafficRouter: how a canary's traffic weight reaches the thing that routes requests.
//
// Without a router the canary's share of traffic is its share of ready pods behind a common
// Service (replica_math.h). With spec.strategy.canary.trafficRouting the router enforces the
// weight exactly and the stable ReplicaSet stays at full size until promotion:
//   nginx       a managed canary Ingress next to the user's stable Ingress
//               (trafficrouting/nginx_ingress.h)
//   gatewayAPI  backendRef weights in the user's HTTPRoute (trafficrouting/gateway_api.h)
//
// A router is built per pass for one Rollout and used from that pass's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "operator/api/rollout.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"
#include "operator/rollout/replicaset.h"

namespace gantry::rollout {

class TrafficRouter {
 public:
  virtual ~TrafficRouter() = default;

  // "nginx" or "gatewayAPI", for events and `gantry rollout get`.
  virtual std::string_view Name() const = 0;

  // Sends `weight` percent (0..100) of the traffic to the canary Service and the rest to the
  // stable one. Writes only when the cluster says something else; returns true when it wrote.
  // NotFound when the object the router edits is missing; InvalidArgument when it cannot
  // carry the split (no rule routes to the stable Service); API errors otherwise. Each names
  // the object.
  virtual Result<bool> SetWeight(int32_t weight) = 0;

  // Reads the weight back from the cluster: true when `weight` is in effect.
  virtual Result<bool> VerifyWeight(int32_t weight) = 0;
};

// The router for `rollout`'s trafficRouting, or nullptr without one. `owner` is the Rollout,
// set as owner of anything the router creates. The router borrows `client`.
Result<std::unique_ptr<TrafficRouter>> NewTrafficRouter(const api::Rollout& rollout,
                                                        const OwnerInfo& owner,
                                                        kube::KubeClient& client,
                                                        std::string field_manager);

}  // namespace gantry::rollout
