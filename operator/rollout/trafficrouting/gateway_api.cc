#include "operator/rollout/trafficrouting/gateway_api.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gantry::rollout::gatewayapi {
namespace {

using nlohmann::json;

// A backendRef names a Service when its kind is Service (the default) in the core group.
bool IsServiceRef(const json& ref, const std::string& name) {
  if (!ref.is_object()) return false;
  if (ref.value("name", std::string()) != name) return false;
  const std::string kind = ref.value("kind", std::string("Service"));
  const std::string group = ref.value("group", std::string());
  return kind == "Service" && group.empty();
}

bool NamesBoth(const json& rule, const std::string& stable, const std::string& canary) {
  if (!rule.is_object() || !rule.contains("backendRefs") || !rule["backendRefs"].is_array()) {
    return false;
  }
  bool has_stable = false, has_canary = false;
  for (const json& ref : rule["backendRefs"]) {
    has_stable = has_stable || IsServiceRef(ref, stable);
    has_canary = has_canary || IsServiceRef(ref, canary);
  }
  return has_stable && has_canary;
}

std::string RouteDescription(const json& route) {
  json meta = route.is_object() ? route.value("metadata", json::object()) : json::object();
  return fmt::format("HTTPRoute {}/{}", meta.value("namespace", std::string()),
                     meta.value("name", std::string()));
}

}  // namespace

Result<json> WithBackendWeights(const json& route, const BackendWeights& w) {
  json out = route;
  const int32_t weight = std::clamp(w.weight, 0, 100);
  bool any = false;
  if (out.is_object() && out.contains("spec") && out["spec"].contains("rules") &&
      out["spec"]["rules"].is_array()) {
    for (json& rule : out["spec"]["rules"]) {
      if (!NamesBoth(rule, w.stable_service, w.canary_service)) continue;
      any = true;
      for (json& ref : rule["backendRefs"]) {
        if (IsServiceRef(ref, w.canary_service)) {
          ref["weight"] = weight;
        } else if (IsServiceRef(ref, w.stable_service)) {
          ref["weight"] = 100 - weight;
        }
      }
    }
  }
  if (!any) {
    return InvalidArgument(fmt::format(
        "{} has no rule whose backendRefs name both the stable Service {} and the canary "
        "Service {}; add both to the rule that carries the application's traffic",
        RouteDescription(route), w.stable_service, w.canary_service));
  }
  return out;
}

std::optional<int32_t> CanaryWeightOf(const json& route, const std::string& stable,
                                      const std::string& canary) {
  if (!route.is_object() || !route.contains("spec") || !route["spec"].contains("rules") ||
      !route["spec"]["rules"].is_array()) {
    return std::nullopt;
  }
  for (const json& rule : route["spec"]["rules"]) {
    if (!NamesBoth(rule, stable, canary)) continue;
    int64_t canary_weight = 0, total = 0;
    for (const json& ref : rule["backendRefs"]) {
      const int64_t weight = ref.value("weight", int64_t{1});
      if (IsServiceRef(ref, canary)) canary_weight += weight;
      if (IsServiceRef(ref, canary) || IsServiceRef(ref, stable)) total += weight;
    }
    if (total <= 0) return 0;
    return static_cast<int32_t>((canary_weight * 100 + total / 2) / total);
  }
  return std::nullopt;
}

}  // namespace gantry::rollout::gatewayapi
