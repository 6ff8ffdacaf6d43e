// NGINX Ingress canary routing, the pure half: what the managed canary Ingress should look like.
//
// ingress-nginx splits traffic with a second Ingress for the same host and paths that carries
// `nginx.ingress.kubernetes.io/canary: "true"` and `nginx.ingress.kubernetes.io/canary-weight:
// "<0-100>"`. Gantry derives it
// from the user's stable Ingress (spec.strategy.canary.trafficRouting.nginx.stableIngress): the
// same rules, restricted to the paths that route to the stable Service and pointed at the canary
// Service instead. It is named `<stableIngress>-<rollout>-canary` and owned by the Rollout, so it
// disappears with it. ingress-nginx ignores every other nginx annotation on a canary Ingress, so
// only the ingress class is carried over. Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry::rollout::nginx {

inline constexpr std::string_view kDefaultAnnotationPrefix = "nginx.ingress.kubernetes.io";

// "<stableIngress>-<rollout>-canary".
std::string CanaryIngressName(std::string_view stable_ingress, std::string_view rollout);

struct CanaryIngressParams {
  std::string rollout;         // the Rollout's name
  std::string stable_service;  // spec.strategy.canary.stableService
  std::string canary_service;  // spec.strategy.canary.canaryService
  int32_t weight = 0;          // 0..100
  // trafficRouting.nginx.annotationPrefix (empty: kDefaultAnnotationPrefix), for controllers
  // started with another --annotations-prefix.
  std::string annotation_prefix;
  // trafficRouting.nginx.additionalIngressAnnotations: "canary-by-header" -> "X-Canary" and the
  // like, written under the prefix.
  std::map<std::string, std::string> additional_annotations;
  // The owner reference (a JSON object) that ties the canary Ingress to the Rollout.
  const nlohmann::json* owner_reference = nullptr;
};

// The canary Ingress for `stable_ingress` (a networking.k8s.io/v1 Ingress as read from the
// API). InvalidArgument naming the Ingress when none of its paths routes to the stable Service,
// since then no traffic could ever reach the canary.
Result<nlohmann::json> DesiredCanaryIngress(const nlohmann::json& stable_ingress,
                                            const CanaryIngressParams& params);

// The weight an existing canary Ingress sends to the canary: its <prefix>/canary-weight
// annotation, 0 when it is missing, nullopt when it is not a number in 0..100.
std::optional<int32_t> CanaryIngressWeight(const nlohmann::json& canary_ingress,
                                           std::string_view annotation_prefix = "");

// True when `live` already says what `desired` says (annotations, labels, owner, spec), so that
// no write is needed. Fields the API server adds (status, resourceVersion, ...) are ignored.
bool CanaryIngressUpToDate(const nlohmann::json& live, const nlohmann::json& desired);

}  // namespace gantry::rollout::nginx
