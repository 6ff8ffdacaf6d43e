// Kubernetes metadata and small shared shapes used by every Gantry custom resource: the
// group/version, ObjectMeta, label selectors, object references, timestamps.
//
// These are plain values: copyable, comparable, safe to hand between threads once built.
// nlohmann::json appears in these headers on purpose: it is the currency the kube module
// speaks, and the `extra` members below keep fields this version does not know about (see
// "Round trips" in types.h).
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gantry::api {

inline constexpr std::string_view kGroup = "gantry.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "gantry.io/v1alpha1";

// A metav1.Time: RFC 3339, second precision on the wire.
using Time = std::chrono::system_clock::time_point;

// The part of metav1.ObjectMeta that reconcilers read; everything else (ownerReferences,
// managedFields, generateName, ...) stays in `extra` and is written back unchanged.
struct ObjectMeta {
  std::string name;
  std::string namespace_;  // empty for cluster-scoped kinds
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> finalizers;
  std::optional<Time> creation_timestamp;
  std::optional<Time> deletion_timestamp;
  nlohmann::json extra = nlohmann::json::object();

  // "namespace/name", or "name" for cluster-scoped objects; used in every error and log line.
  std::string Key() const;

  bool operator==(const ObjectMeta&) const = default;
};

// metav1.LabelSelectorRequirement.
struct LabelSelectorRequirement {
  std::string key;
  std::string operator_;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const LabelSelectorRequirement&) const = default;
};

// metav1.LabelSelector. All terms are ANDed.
struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;
  nlohmann::json extra = nlohmann::json::object();

  bool Empty() const { return match_labels.empty() && match_expressions.empty(); }

  // True if `labels` satisfy every term. An empty selector matches everything, as in
  // Kubernetes; an unknown operator matches nothing.
  bool Matches(const std::map<std::string, std::string>& labels) const;

  // The string form the scale subresource and `kubectl get -l` use: "app=web,tier in (a,b)".
  std::string ToString() const;

  bool operator==(const LabelSelector&) const = default;
};

// A reference to an object in the same namespace, by name (Secret, Service, ...).
struct LocalObjectReference {
  std::string name;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const LocalObjectReference&) const = default;
};

// A reference by name and optional namespace; an empty namespace means the referrer's own.
struct NamespacedObjectReference {
  std::string name;
  std::string namespace_;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const NamespacedObjectReference&) const = default;
};

// The YAML names of an enum's values. Each enum in a resource specializes it with
//   static constexpr std::array<std::pair<E, std::string_view>, N> kNames{...};
// which gives it ToString, ParseEnum and a codec.
template <typename E>
struct EnumTraits;

template <typename E>
concept NamedEnum = requires {
  EnumTraits<E>::kNames;
};

template <NamedEnum E>
std::string_view ToString(E value) {
  for (const auto& [v, name] : EnumTraits<E>::kNames) {
    if (v == value) return name;
  }
  return "";
}

// The value named `text` (exact, case-sensitive, as Kubernetes compares enums), or nullopt.
template <NamedEnum E>
std::optional<E> ParseEnum(std::string_view text) {
  for (const auto& [v, name] : EnumTraits<E>::kNames) {
    if (name == text) return v;
  }
  return std::nullopt;
}

// "Healthy, Progressing, Paused, Degraded": for error messages.
template <NamedEnum E>
std::string EnumChoices() {
  std::string out;
  for (const auto& [v, name] : EnumTraits<E>::kNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace gantry::api
