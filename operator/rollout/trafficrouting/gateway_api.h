// Gateway API routing, the pure half: backendRef weights of an HTTPRoute.
//
// The user's HTTPRoute (spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute) lists both the
// stable and the canary Service as backendRefs of the rules that carry the application's traffic;
// Gantry only rewrites their weights: canary = weight, stable = 100 - weight. Rules that do not
// name both Services are left alone, so one HTTPRoute can carry other applications too. Pure
// functions; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "operator/common/status.h"

namespace gantry::rollout::gatewayapi {

struct BackendWeights {
  std::string stable_service;
  std::string canary_service;
  int32_t weight = 0;  // the canary's share, 0..100
};

// A copy of `route` (gateway.networking.k8s.io HTTPRoute) with the weights set in every rule
// that has backendRefs for both Services. InvalidArgument naming the HTTPRoute when no rule has
// both, so that the user learns which backendRef to add.
Result<nlohmann::json> WithBackendWeights(const nlohmann::json& route, const BackendWeights& w);

// The canary weight the route sends today: the canary backendRef's share of the first rule
// that names both Services (weights default to 1, as in the Gateway API). nullopt when no rule
// names both.
std::optional<int32_t> CanaryWeightOf(const nlohmann::json& route, const std::string& stable,
                                      const std::string& canary);

}  // namespace gantry::rollout::gatewayapi
