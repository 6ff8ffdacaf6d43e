// The TrafficRouter implementations; NewTrafficRouter (traffic_router.h) picks one. Internal to
// operator/rollout.
#pragma once

#include <memory>
#include <string>

#include "operator/api/rollout.h"
#include "operator/kube/kube_client.h"
#include "operator/rollout/replicaset.h"
#include "operator/rollout/traffic_router.h"

namespace gantry::rollout {

// Precondition: rollout has canary.trafficRouting.nginx.
std::unique_ptr<TrafficRouter> NewNginxIngressRouter(const api::Rollout& rollout,
                                                     const OwnerInfo& owner,
                                                     kube::KubeClient& client,
                                                     std::string field_manager);

// Precondition: rollout has canary.trafficRouting.gatewayAPI.
std::unique_ptr<TrafficRouter> NewGatewayApiRouter(const api::Rollout& rollout,
                                                   kube::KubeClient& client,
                                                   std::string field_manager);

}  // namespace gantry::rollout
