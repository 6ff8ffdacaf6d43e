// Names for Kubernetes objects as Gantry passes them between modules.
//
// An object is a plain nlohmann::json, like client-go's Unstructured: every module reads the
// fields it needs and nobody keeps a typed copy of every kind. The helpers here read metadata
// leniently (a missing field reads as empty) because objects come from the API server, from
// Git and from tests, and only the caller knows which fields it requires. All functions are
// pure and safe from any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry::kube {

using Object = nlohmann::json;

// apiVersion + kind, split the way the REST mapping needs it. The core group is "".
struct GroupVersionKind {
  std::string group;
  std::string version;
  std::string kind;

  // "v1" for the core group, "apps/v1" otherwise.
  std::string ApiVersion() const;
  // "apps/v1, Kind=Deployment", as Kubernetes prints it in errors.
  std::string ToString() const;

  // Splits "apps/v1" into group and version.
  static GroupVersionKind FromApiVersion(std::string_view api_version, std::string_view kind);
  // Reads apiVersion and kind of `object`; InvalidArgument naming the object when either is
  // missing or not a string.
  static Result<GroupVersionKind> FromObject(const Object& object);

  auto operator<=>(const GroupVersionKind&) const = default;
};

// What a reconciler is asked about: namespace (empty for cluster-scoped) and name.
struct ObjectKey {
  std::string ns;
  std::string name;

  // "ns/name", or "name" for a cluster-scoped object: the cache key format of client-go.
  std::string ToString() const;
  // Parses what ToString writes.
  static ObjectKey Parse(std::string_view key);

  auto operator<=>(const ObjectKey&) const = default;
};

struct ObjectKeyHash {
  size_t operator()(const ObjectKey& k) const {
    return std::hash<std::string>()(k.ns) * 31 + std::hash<std::string>()(k.name);
  }
};

// One object (or, with an empty name, one collection) of one kind.
struct ResourceRef {
  GroupVersionKind gvk;
  std::string ns;
  std::string name;

  // Reads gvk, namespace and name from an object.
  static Result<ResourceRef> FromObject(const Object& object);
  // "apps/v1, Kind=Deployment ns/name", for messages.
  std::string ToString() const;
};

// metadata accessors; each returns "" (or 0) when the field is absent or of another type.
const std::string& NameOf(const Object& object);
const std::string& NamespaceOf(const Object& object);
const std::string& ResourceVersionOf(const Object& object);
const std::string& UidOf(const Object& object);
int64_t GenerationOf(const Object& object);
ObjectKey KeyOf(const Object& object);
// metadata.labels, or an empty object when there are none.
const Object& LabelsOf(const Object& object);
// "Deployment ns/name", the way log lines name an object.
std::string Describe(const Object& object);

}  // namespace gantry::kube
