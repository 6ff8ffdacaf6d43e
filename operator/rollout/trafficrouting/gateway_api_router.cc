// GatewayApiRouter: the TrafficRouter over a Gateway API HTTPRoute's backendRef weights. The
// pure half is in gateway_api.h.
#include <fmt/format.h>

#include <memory>

#include "operator/rollout/traffic_router.h"
#include "operator/rollout/trafficrouting/gateway_api.h"
#include "operator/rollout/trafficrouting/routers.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

class GatewayApiRouter final : public TrafficRouter {
 public:
  GatewayApiRouter(const api::Rollout& rollout, kube::KubeClient& client, std::string field_manager)
      : client_(client), field_manager_(std::move(field_manager)) {
    const auto& canary = *rollout.spec.strategy.canary;
    const auto& gw = *canary.traffic_routing->gateway_api;
    ns_ = gw.namespace_.empty() ? rollout.metadata.namespace_ : gw.namespace_;
    route_ = gw.http_route;
    weights_.stable_service = canary.stable_service;
    weights_.canary_service = canary.canary_service;
  }

  std::string_view Name() const override { return "gatewayAPI"; }

  Result<bool> SetWeight(int32_t weight) override {
    Result<kube::Object> live = GetRoute();
    if (!live.ok()) return live.status();
    weights_.weight = weight;
    Result<json> desired = gatewayapi::WithBackendWeights(*live, weights_);
    if (!desired.ok()) return desired.status();
    if (*desired == *live) return false;
    // A full update with the resourceVersion just read: a concurrent edit of the route
    // (another controller, a user) makes this a Conflict and the next pass starts over.
    Result<kube::Object> written = client_.Update(*desired, {false, field_manager_});
    if (!written.ok()) {
      return written.status().WithContext(fmt::format("updating HTTPRoute {}/{}", ns_, route_));
    }
    return true;
  }

  Result<bool> VerifyWeight(int32_t weight) override {
    Result<kube::Object> live = GetRoute();
    if (!live.ok()) return live.status();
    return gatewayapi::CanaryWeightOf(*live, weights_.stable_service, weights_.canary_service) ==
           weight;
  }

 private:
  // HTTPRoute is served as gateway.networking.k8s.io/v1 since Gateway API 1.0; older installs
  // serve v1beta1 only.
  Result<kube::Object> GetRoute() {
    Status last;
    for (const char* version : {"v1", "v1beta1"}) {
      kube::GroupVersionKind gvk{"gateway.networking.k8s.io", version, "HTTPRoute"};
      Result<kube::Object> got = client_.Get({gvk, ns_, route_});
      if (got.ok()) return got;
      last = got.status();
      // A missing version of the kind is NotFound from discovery; a missing route is NotFound
      // from the server for a served version. Either way try the next version.
      if (last.code() != StatusCode::kNotFound) break;
    }
    return last.WithContext(fmt::format(
        "HTTPRoute {}/{} (spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute)", ns_, route_));
  }

  kube::KubeClient& client_;
  const std::string field_manager_;
  std::string ns_;
  std::string route_;
  gatewayapi::BackendWeights weights_;
};

}  // namespace

std::unique_ptr<TrafficRouter> NewGatewayApiRouter(const api::Rollout& rollout,
                                                   kube::KubeClient& client,
                                                   std::string field_manager) {
  return std::make_unique<GatewayApiRouter>(rollout, client, std::move(field_manager));
}

}  // namespace gantry::rollout
