#include "operator/rollout/traffic_router.h"

#include <fmt/format.h>

#include "operator/rollout/trafficrouting/routers.h"

namespace gantry::rollout {

Result<std::unique_ptr<TrafficRouter>> NewTrafficRouter(const api::Rollout& rollout,
                                                        const OwnerInfo& owner,
                                                        kube::KubeClient& client,
                                                        std::string field_manager) {
  const auto& canary = rollout.spec.strategy.canary;
  if (!canary || !canary->traffic_routing) return std::unique_ptr<TrafficRouter>();
  const api::TrafficRouting& tr = *canary->traffic_routing;
  if (canary->canary_service.empty() || canary->stable_service.empty()) {
    return InvalidArgument(fmt::format(
        "Rollout {}: trafficRouting needs spec.strategy.canary.canaryService and stableService",
        rollout.metadata.Key()));
  }
  if (tr.nginx) {
    return NewNginxIngressRouter(rollout, owner, client, std::move(field_manager));
  }
  if (tr.gateway_api) {
    return NewGatewayApiRouter(rollout, client, std::move(field_manager));
  }
  return InvalidArgument(fmt::format(
      "Rollout {}: spec.strategy.canary.trafficRouting names no supported router (nginx, "
      "gatewayAPI)",
      rollout.metadata.Key()));
}

}  // namespace gantry::rollout
