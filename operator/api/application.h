// Application (gantry.io/v1alpha1): a path in a GitRepository, synced into the cluster. Field
// names follow Flux's Kustomization and Argo CD's Application where they overlap (sourceRef,
// path, prune, dependsOn, ignoreDifferences; sync/health statuses). The Application reconciler
// writes its status; the CLI (`gantry app list|get`) reads it.
// See types.h for how FromJson/ToJson/Validate behave for every kind.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/conditions.h"
#include "operator/api/meta.h"
#include "operator/common/duration.h"
#include "operator/common/status.h"

namespace gantry::api {

// Argo CD's sync status.
enum class SyncStatusCode { kSynced, kOutOfSync, kUnknown };
// Argo CD's health status (Missing: an object the Application expects does not exist).
enum class HealthStatusCode { kHealthy, kProgressing, kDegraded, kSuspended, kMissing, kUnknown };

template <>
struct EnumTraits<SyncStatusCode> {
  static constexpr std::array<std::pair<SyncStatusCode, std::string_view>, 3> kNames{{
      {SyncStatusCode::kSynced, "Synced"},
      {SyncStatusCode::kOutOfSync, "OutOfSync"},
      {SyncStatusCode::kUnknown, "Unknown"},
  }};
};

template <>
struct EnumTraits<HealthStatusCode> {
  static constexpr std::array<std::pair<HealthStatusCode, std::string_view>, 6> kNames{{
      {HealthStatusCode::kHealthy, "Healthy"},
      {HealthStatusCode::kProgressing, "Progressing"},
      {HealthStatusCode::kDegraded, "Degraded"},
      {HealthStatusCode::kSuspended, "Suspended"},
      {HealthStatusCode::kMissing, "Missing"},
      {HealthStatusCode::kUnknown, "Unknown"},
  }};
};

// spec.sourceRef. Only GitRepository sources exist today; the kind is explicit so that manifests
// stay valid when more are added.
struct SourceReference {
  static constexpr std::string_view kGitRepository = "GitRepository";

  std::string kind{kGitRepository};
  std::string name;
  std::string namespace_;  // empty: the Application's namespace
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const SourceReference&) const = default;
};

// spec.ignoreDifferences[]: fields of matching live objects that drift detection ignores
// (Argo CD's shape). Empty group/name/namespace match any.
struct IgnoreDifference {
  std::string group;
  std::string kind;
  std::string name;
  std::string namespace_;
  std::vector<std::string> json_pointers;  // RFC 6901, e.g. "/spec/replicas"
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const IgnoreDifference&) const = default;
};

struct ApplicationSpec {
  static constexpr std::string_view kDefaultPath = "./";
  static constexpr std::string_view kDefaultInterval = "5m";
  static constexpr std::string_view kDefaultTimeout = "5m";

  SourceReference source_ref;
  std::string path{kDefaultPath};          // relative to the repository root
  std::string target_namespace;            // namespace for objects that do not set one
  std::string interval{kDefaultInterval};  // Go duration: the full drift check period
  std::string retry_interval;              // Go duration after a failure; empty: interval
  bool prune = false;
  bool self_heal = true;
  bool wait = false;                     // Ready only when every applied object is healthy
  std::string timeout{kDefaultTimeout};  // Go duration
  std::vector<NamespacedObjectReference> depends_on;  // other Applications
  std::vector<IgnoreDifference> ignore_differences;
  bool suspend = false;
  nlohmann::json extra = nlohmann::json::object();

  // Parsed durations; the defaults when the text does not parse (Validate reports that).
  Millis Interval() const;
  Millis RetryInterval() const;  // interval when unset
  Millis Timeout() const;

  bool operator==(const ApplicationSpec&) const = default;
};

struct SyncInfo {
  SyncStatusCode status = SyncStatusCode::kUnknown;
  std::string revision;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const SyncInfo&) const = default;
};

struct HealthInfo {
  HealthStatusCode status = HealthStatusCode::kUnknown;
  std::string message;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const HealthInfo&) const = default;
};

// An object's identity in an inventory id.
struct ResourceId {
  std::string namespace_;  // empty for cluster-scoped objects
  std::string name;
  std::string group;  // empty for the core group
  std::string kind;

  bool operator==(const ResourceId&) const = default;
};

// status.inventory[]: one object the Application applied, so that pruning knows what it owns.
// The id format is Flux's (cli-utils ObjMetadata): "<namespace>_<name>_<group>_<kind>", with
// ':' in names (RBAC) written as "__".
struct InventoryEntry {
  std::string id;
  std::string v;  // the API version it was applied with: "v1", "v1alpha1"
  nlohmann::json extra = nlohmann::json::object();

  static InventoryEntry Make(const ResourceId& resource, std::string_view version);
  // InvalidArgument naming the id when it does not have the four parts.
  Result<ResourceId> Parse() const;

  bool operator==(const InventoryEntry&) const = default;
};

// status.resources[]: what `gantry app get` shows per object.
struct ResourceStatus {
  std::string group;
  std::string version;
  std::string kind;
  std::string namespace_;
  std::string name;
  SyncStatusCode status = SyncStatusCode::kUnknown;
  std::optional<HealthInfo> health;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const ResourceStatus&) const = default;
};

struct ApplicationStatus {
  std::string last_applied_revision;
  std::string last_attempted_revision;
  SyncInfo sync;
  HealthInfo health;
  std::vector<InventoryEntry> inventory;
  std::vector<ResourceStatus> resources;
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  std::string last_handled_reconcile_at;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const ApplicationStatus&) const = default;
};

struct Application {
  static constexpr std::string_view kKind = "Application";
  static constexpr std::string_view kPlural = "applications";
  static constexpr bool kNamespaced = true;

  ObjectMeta metadata;
  ApplicationSpec spec;
  ApplicationStatus status;
  nlohmann::json extra = nlohmann::json::object();

  static Result<Application> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
  Status Validate() const;

  bool operator==(const Application&) const = default;
};

}  // namespace gantry::api
