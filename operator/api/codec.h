// Internal to operator/api: the JSON codec behind every FromJson/ToJson. Other modules use the
// FromJson/ToJson/Validate members of the kinds instead.
//
// Each struct describes its fields once, in a `Fields(c, v)` template that works in both
// directions: with a Reader it decodes (recording type errors with their JSON paths), with a
// Writer it encodes. Keys a struct does not know go to its `extra` member on decode and come
// back out on encode, which is what makes status round trips lossless.
//
// Encoding rules, matching Go's `omitempty` where Kubernetes types use it:
//   std::string          omitted when empty (unless kAlways)
//   int64_t, bool        always written (an int64_t with kOmitEmpty: omitted when 0)
//   std::optional<T>     written when set (an optional string even when empty)
//   vector, map          omitted when empty
//   nested struct        always written (an empty one as {})
//   nlohmann::json       omitted when null
#pragma once

#include <fmt/format.h>

#include <concepts>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "operator/api/conditions.h"
#include "operator/api/int_or_string.h"
#include "operator/api/meta.h"
#include "operator/common/status.h"

namespace gantry::api::internal {

// `V` is `T` or `const T`: lets one Fields() template serve decode (mutable) and encode (const).
template <typename V, typename T>
concept Is = std::is_same_v<std::remove_const_t<V>, T>;

// "spec" + "url" -> "spec.url"; "" + "spec" -> "spec".
std::string ChildPath(std::string_view parent, std::string_view key);
// "spec.steps" + 2 -> "spec.steps[2]".
std::string IndexPath(std::string_view parent, size_t index);

// Field errors collected across a whole object, so that a user sees every problem at once.
class FieldErrors {
 public:
  void Add(std::string path, std::string message);
  bool empty() const { return errors_.empty(); }
  const std::vector<StatusCause>& errors() const { return errors_; }
  // OK if empty; else InvalidArgument "<object>: <path>: <message>; <path>: <message>" with one
  // StatusCause {field: path, reason: "FieldValueInvalid", message} per error.
  Status ToStatus(std::string_view object) const;

 private:
  std::vector<StatusCause> errors_;
};

enum class Emit { kOmitEmpty, kAlways };

// Enums are encoded by the names in their EnumTraits (meta.h).
template <typename E>
concept CodecEnum = std::is_enum_v<E> && requires {
  EnumTraits<E>::kNames;
};

class Reader {
 public:
  // `json` must outlive the Reader. A value that is neither an object nor null is an error at
  // `path` and reads as empty.
  Reader(const nlohmann::json& json, std::string path, FieldErrors& errors);

  const std::string& path() const { return path_; }
  FieldErrors& errors() { return errors_; }
  // Present and not null.
  bool Has(std::string_view key) const;

  void Field(std::string_view key, std::string& out, Emit = Emit::kOmitEmpty);
  void Field(std::string_view key, int64_t& out, Emit = Emit::kAlways);
  void Field(std::string_view key, bool& out);
  void Field(std::string_view key, IntOrString& out);
  void Field(std::string_view key, std::optional<Time>& out);
  void Field(std::string_view key, std::map<std::string, std::string>& out);
  void Field(std::string_view key, std::vector<std::string>& out);
  void Field(std::string_view key, nlohmann::json& out);

  template <CodecEnum E>
  void Field(std::string_view key, E& out) {
    const nlohmann::json* v = Take(key);
    if (v == nullptr) return;
    std::optional<E> parsed;
    if (v->is_string()) parsed = ParseEnum<E>(v->get_ref<const std::string&>());
    if (parsed.has_value()) {
      out = *parsed;
    } else {
      errors_.Add(ChildPath(path_, key), fmt::format("must be one of {}", EnumChoices<E>()));
    }
  }

  template <typename T>
  void Field(std::string_view key, std::optional<T>& out) {
    if (!Has(key)) {
      Take(key);
      return;
    }
    T value{};
    Field(key, value);
    out = std::move(value);
  }

  template <typename T>
  void Field(std::string_view key, std::vector<T>& out) {
    const nlohmann::json* v = Take(key);
    if (v == nullptr) return;
    std::string path = ChildPath(path_, key);
    if (!v->is_array()) {
      errors_.Add(path, "must be a list");
      return;
    }
    out.clear();
    out.reserve(v->size());
    for (size_t i = 0; i < v->size(); ++i) {
      Reader sub((*v)[i], IndexPath(path, i), errors_);
      T item{};
      Fields(sub, item);
      out.push_back(std::move(item));
    }
  }

  // A nested struct with its own Fields().
  template <typename T>
  requires std::is_class_v<T>
  void Field(std::string_view key, T& out) {
    const nlohmann::json* v = Take(key);
    if (v == nullptr) return;
    Reader sub(*v, ChildPath(path_, key), errors_);
    Fields(sub, out);
  }

  // Marks `key` as handled elsewhere (apiVersion, kind), so it does not land in `extra`.
  void Skip(std::string_view key) { Take(key); }

  // Stores every key not read so far; call last.
  void Extra(nlohmann::json& out) const;

 private:
  // The value at `key` if present and not null, marking the key as read.
  const nlohmann::json* Take(std::string_view key);

  const nlohmann::json& json_;
  std::string path_;
  FieldErrors& errors_;
  bool is_object_ = false;
  std::set<std::string, std::less<>> read_;
};

class Writer {
 public:
  Writer() = default;

  void Field(std::string_view key, const std::string& v, Emit emit = Emit::kOmitEmpty);
  void Field(std::string_view key, const int64_t& v, Emit emit = Emit::kAlways);
  void Field(std::string_view key, const bool& v);
  void Field(std::string_view key, const IntOrString& v);
  void Field(std::string_view key, const std::optional<Time>& v);
  // Set means written, even when empty: "" is a value (an analysis argument's, for one).
  void Field(std::string_view key, const std::optional<std::string>& v);
  void Field(std::string_view key, const std::map<std::string, std::string>& v);
  void Field(std::string_view key, const std::vector<std::string>& v);
  void Field(std::string_view key, const nlohmann::json& v);

  template <CodecEnum E>
  void Field(std::string_view key, const E& v) {
    json_[std::string(key)] = std::string(ToString(v));
  }

  template <typename T>
  void Field(std::string_view key, const std::optional<T>& v) {
    if (v.has_value()) Field(key, *v);
  }

  template <typename T>
  void Field(std::string_view key, const std::vector<T>& v) {
    if (v.empty()) return;
    nlohmann::json list = nlohmann::json::array();
    for (const T& item : v) {
      Writer sub;
      Fields(sub, item);
      list.push_back(std::move(sub).Take());
    }
    json_[std::string(key)] = std::move(list);
  }

  template <typename T>
  requires std::is_class_v<T>
  void Field(std::string_view key, const T& v) {
    Writer sub;
    Fields(sub, v);
    json_[std::string(key)] = std::move(sub).Take();
  }

  void Skip(std::string_view) {}

  // Adds back the unknown keys kept at decode time; known keys already written win.
  void Extra(const nlohmann::json& extra);

  nlohmann::json Take() && { return std::move(json_); }

 private:
  nlohmann::json json_ = nlohmann::json::object();
};

// Encodes any struct with a Fields() template.
template <typename T>
nlohmann::json Encode(const T& v) {
  Writer w;
  Fields(w, v);
  return std::move(w).Take();
}

// --- Fields of the shared shapes ---------------------------------------------------------

template <typename C, Is<ObjectMeta> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("namespace", v.namespace_);
  c.Field("uid", v.uid);
  c.Field("resourceVersion", v.resource_version);
  c.Field("generation", v.generation, Emit::kOmitEmpty);  // 0: not yet created
  c.Field("labels", v.labels);
  c.Field("annotations", v.annotations);
  c.Field("finalizers", v.finalizers);
  c.Field("creationTimestamp", v.creation_timestamp);
  c.Field("deletionTimestamp", v.deletion_timestamp);
  c.Extra(v.extra);
}

template <typename C, Is<LabelSelectorRequirement> V>
void Fields(C& c, V& v) {
  c.Field("key", v.key);
  c.Field("operator", v.operator_);
  c.Field("values", v.values);
  c.Extra(v.extra);
}

template <typename C, Is<LabelSelector> V>
void Fields(C& c, V& v) {
  c.Field("matchLabels", v.match_labels);
  c.Field("matchExpressions", v.match_expressions);
  c.Extra(v.extra);
}

template <typename C, Is<LocalObjectReference> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Extra(v.extra);
}

template <typename C, Is<NamespacedObjectReference> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("namespace", v.namespace_);
  c.Extra(v.extra);
}

template <typename C, Is<Condition> V>
void Fields(C& c, V& v) {
  c.Field("type", v.type);
  c.Field("status", v.status);
  c.Field("observedGeneration", v.observed_generation);
  c.Field("lastTransitionTime", v.last_transition_time);
  c.Field("reason", v.reason);
  c.Field("message", v.message, Emit::kAlways);
  c.Extra(v.extra);
}

// --- Whole objects -------------------------------------------------------------------------

// "Rollout default/web", "ClusterAnalysisTemplate shared", "Rollout (unnamed)": how errors
// name an object.
std::string ObjectName(std::string_view kind, const ObjectMeta& meta);

// Decodes a top-level object of `kind`: checks apiVersion and kind when present (objects from
// a List may lack them), then reads metadata, spec, status and the rest through Fields(). Errors
// name the object and every bad field's path.
template <typename T>
Result<T> DecodeObject(const nlohmann::json& json, std::string_view kind) {
  if (!json.is_object()) {
    return InvalidArgument(
        fmt::format("{}: must be a JSON object, got {}", kind, json.type_name()));
  }
  FieldErrors errors;
  T object;
  // Metadata first, so that every later message can name the object.
  if (auto it = json.find("metadata"); it != json.end() && !it->is_null()) {
    Reader meta(*it, "metadata", errors);
    Fields(meta, object.metadata);
  }
  std::string name = ObjectName(kind, object.metadata);
  if (auto it = json.find("apiVersion"); it != json.end() && *it != kApiVersion) {
    errors.Add("apiVersion", fmt::format("must be {}, got {}", kApiVersion, it->dump()));
  }
  if (auto it = json.find("kind"); it != json.end() && *it != kind) {
    errors.Add("kind", fmt::format("must be {}, got {}", kind, it->dump()));
  }
  if (!errors.empty()) return errors.ToStatus(name);
  Reader r(json, "", errors);
  Fields(r, object);
  if (!errors.empty()) return errors.ToStatus(name);
  return object;
}

// Encodes a top-level object with its apiVersion and kind.
template <typename T>
nlohmann::json EncodeObject(const T& object, std::string_view kind) {
  nlohmann::json json = Encode(object);
  json["apiVersion"] = kApiVersion;
  json["kind"] = kind;
  return json;
}

}  // namespace gantry::api::internal
