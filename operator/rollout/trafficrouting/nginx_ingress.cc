#include "operator/rollout/trafficrouting/nginx_ingress.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

namespace gantry::rollout::nginx {
namespace {

using nlohmann::json;

// The label that marks an Ingress as managed by a Rollout, so that it is never mistaken for a
// user's own.
constexpr std::string_view kRolloutLabel = "gantry.io/rollout";
constexpr std::string_view kIngressClassAnnotation = "kubernetes.io/ingress.class";

const std::string& StringAt(const json& object, const char* key) {
  static const std::string kEmpty;
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get_ref<const std::string&>() : kEmpty;
}

// networking.k8s.io/v1 names the backend service in backend.service.name.
bool RoutesTo(const json& backend, std::string_view service) {
  if (!backend.is_object()) return false;
  auto svc = backend.find("service");
  return svc != backend.end() && StringAt(*svc, "name") == service;
}

std::string IngressDescription(const json& ingress) {
  const json& meta =
      ingress.is_object() && ingress.contains("metadata") ? ingress["metadata"] : json::object();
  return fmt::format("Ingress {}/{}", StringAt(meta, "namespace"), StringAt(meta, "name"));
}

}  // namespace

std::string CanaryIngressName(std::string_view stable_ingress, std::string_view rollout) {
  std::string name = fmt::format("{}-{}-canary", stable_ingress, rollout);
  // A name is at most 253 characters; keep the distinguishing suffix.
  if (name.size() > 253) name = name.substr(name.size() - 253);
  return name;
}

Result<json> DesiredCanaryIngress(const json& stable_ingress, const CanaryIngressParams& params) {
  if (!stable_ingress.is_object() || !stable_ingress.contains("metadata")) {
    return InvalidArgument("stable Ingress is not an object with metadata");
  }
  const json& meta = stable_ingress["metadata"];
  const std::string& stable_name = StringAt(meta, "name");
  const json spec = stable_ingress.value("spec", json::object());

  json rules = json::array();
  if (spec.contains("rules") && spec["rules"].is_array()) {
    for (const json& rule : spec["rules"]) {
      if (!rule.is_object() || !rule.contains("http")) continue;
      const json& http = rule["http"];
      if (!http.is_object() || !http.contains("paths") || !http["paths"].is_array()) continue;
      json paths = json::array();
      for (const json& path : http["paths"]) {
        if (!path.is_object() || !RoutesTo(path.value("backend", json()), params.stable_service)) {
          continue;
        }
        json canary_path = path;
        canary_path["backend"]["service"]["name"] = params.canary_service;
        paths.push_back(std::move(canary_path));
      }
      if (paths.empty()) continue;
      json canary_rule = rule;
      canary_rule["http"]["paths"] = std::move(paths);
      rules.push_back(std::move(canary_rule));
    }
  }
  if (rules.empty()) {
    return InvalidArgument(fmt::format(
        "{} has no path with backend service {}: the canary Ingress would route nothing; point "
        "a path of the stable Ingress at spec.strategy.canary.stableService",
        IngressDescription(stable_ingress), params.stable_service));
  }

  json annotations = json::object();
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    const std::string& cls = StringAt(meta["annotations"], kIngressClassAnnotation.data());
    if (!cls.empty()) annotations[std::string(kIngressClassAnnotation)] = cls;
  }
  const std::string prefix = params.annotation_prefix.empty()
                                 ? std::string(kDefaultAnnotationPrefix)
                                 : params.annotation_prefix;
  for (const auto& [key, value] : params.additional_annotations) {
    annotations[fmt::format("{}/{}", prefix, key)] = value;
  }
  annotations[prefix + "/canary"] = "true";
  annotations[prefix + "/canary-weight"] = std::to_string(std::clamp(params.weight, 0, 100));

  json canary_spec = json::object();
  canary_spec["rules"] = std::move(rules);
  if (spec.contains("ingressClassName")) canary_spec["ingressClassName"] = spec["ingressClassName"];

  json canary_meta = json::object();
  canary_meta["name"] = CanaryIngressName(stable_name, params.rollout);
  canary_meta["namespace"] = StringAt(meta, "namespace");
  canary_meta["labels"] = json{{std::string(kRolloutLabel), params.rollout}};
  canary_meta["annotations"] = std::move(annotations);
  if (params.owner_reference != nullptr) {
    canary_meta["ownerReferences"] = json::array({*params.owner_reference});
  }
  return json{{"apiVersion", "networking.k8s.io/v1"},
              {"kind", "Ingress"},
              {"metadata", std::move(canary_meta)},
              {"spec", std::move(canary_spec)}};
}

std::optional<int32_t> CanaryIngressWeight(const json& canary_ingress,
                                           std::string_view annotation_prefix) {
  const std::string key = fmt::format(
      "{}/canary-weight", annotation_prefix.empty() ? kDefaultAnnotationPrefix : annotation_prefix);
  if (!canary_ingress.is_object() || !canary_ingress.contains("metadata")) return 0;
  const json& meta = canary_ingress["metadata"];
  if (!meta.contains("annotations")) return 0;
  const json& annotations = meta["annotations"];
  if (!annotations.is_object() || !annotations.contains(key)) return 0;
  const std::string& text = StringAt(annotations, key.c_str());
  int32_t value = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0 || value > 100) {
    return std::nullopt;
  }
  return value;
}

bool CanaryIngressUpToDate(const json& live, const json& desired) {
  if (!live.is_object()) return false;
  const json live_meta = live.value("metadata", json::object());
  const json& want_meta = desired["metadata"];
  for (const char* key : {"labels", "annotations"}) {
    const json have = live_meta.value(key, json::object());
    for (const auto& [k, v] : want_meta[key].items()) {
      if (!have.contains(k) || have[k] != v) return false;
    }
  }
  if (want_meta.contains("ownerReferences") &&
      live_meta.value("ownerReferences", json::array()) != want_meta["ownerReferences"]) {
    return false;
  }
  const json live_spec = live.value("spec", json::object());
  for (const auto& [k, v] : desired["spec"].items()) {
    if (!live_spec.contains(k) || live_spec[k] != v) return false;
  }
  return true;
}

}  // namespace gantry::rollout::nginx
