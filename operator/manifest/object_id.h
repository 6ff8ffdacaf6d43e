// Identity of Kubernetes objects: apiVersion split into group and version, and the inventory id
// "<namespace>_<name>_<group>_<kind>" that Application status.inventory stores (DESIGN.md §2).
//
// The id format is the one Flux (sigs.k8s.io/cli-utils ObjMetadata) writes, so inventories read
// the same way in both tools: an empty namespace for cluster-scoped objects, an empty group for
// the core API, and ':' in names (RBAC names such as "system:auth-delegator") written as "__".
// Pure functions and values; safe from any thread.
#pragma once

#include <compare>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "operator/common/status.h"

namespace gantry::manifest {

struct GroupVersion {
  std::string group;    // "" for the core API ("v1")
  std::string version;  // "v1", "v1beta1"

  // "apps/v1", or "v1" for the core group.
  std::string ToString() const;
  auto operator<=>(const GroupVersion&) const = default;
};

// Splits an apiVersion: "apps/v1" -> {apps, v1}; "v1" -> {"", v1}. InvalidArgument for an empty
// string, an empty part ("apps/", "/v1") or more than one '/'.
Result<GroupVersion> ParseApiVersion(std::string_view api_version);

struct GroupKind {
  std::string group;  // "" for the core API
  std::string kind;

  // "Deployment.apps", or "ConfigMap" for the core group (kubectl's spelling).
  std::string ToString() const;
  auto operator<=>(const GroupKind&) const = default;
};

struct ObjectId {
  std::string namespace_;  // "" for cluster-scoped objects
  std::string name;
  std::string group;  // "" for the core API
  std::string kind;

  // "<namespace>_<name>_<group>_<kind>", with ':' in the name written as "__".
  std::string ToString() const;

  // The inverse of ToString. InvalidArgument (quoting the id) when there are fewer than four
  // fields, or the name or kind is empty.
  static Result<ObjectId> Parse(std::string_view id);

  GroupKind group_kind() const { return GroupKind{group, kind}; }
  auto operator<=>(const ObjectId&) const = default;
};

// The id of a JSON object from apiVersion, kind, metadata.namespace and metadata.name.
// InvalidArgument when apiVersion, kind or metadata.name is missing or not a string.
Result<ObjectId> ObjectIdOf(const nlohmann::json& object);

// The group and kind of a JSON object; InvalidArgument as for ObjectIdOf.
Result<GroupKind> GroupKindOf(const nlohmann::json& object);

}  // namespace gantry::manifest
