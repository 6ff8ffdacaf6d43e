#include "operator/api/application.h"

#include <fmt/format.h>

#include "operator/api/codec.h"
#include "operator/api/validation.h"

namespace gantry::api {
namespace internal {

template <typename C, Is<SourceReference> V>
void Fields(C& c, V& v) {
  c.Field("kind", v.kind);
  c.Field("name", v.name);
  c.Field("namespace", v.namespace_);
  c.Extra(v.extra);
}

template <typename C, Is<IgnoreDifference> V>
void Fields(C& c, V& v) {
  c.Field("group", v.group);
  c.Field("kind", v.kind);
  c.Field("name", v.name);
  c.Field("namespace", v.namespace_);
  c.Field("jsonPointers", v.json_pointers);
  c.Extra(v.extra);
}

template <typename C, Is<ApplicationSpec> V>
void Fields(C& c, V& v) {
  c.Field("sourceRef", v.source_ref);
  c.Field("path", v.path);
  c.Field("targetNamespace", v.target_namespace);
  c.Field("interval", v.interval);
  c.Field("retryInterval", v.retry_interval);
  c.Field("prune", v.prune);
  c.Field("selfHeal", v.self_heal);
  c.Field("wait", v.wait);
  c.Field("timeout", v.timeout);
  c.Field("dependsOn", v.depends_on);
  c.Field("ignoreDifferences", v.ignore_differences);
  c.Field("suspend", v.suspend);
  c.Extra(v.extra);
}

template <typename C, Is<SyncInfo> V>
void Fields(C& c, V& v) {
  c.Field("status", v.status);
  c.Field("revision", v.revision);
  c.Extra(v.extra);
}

template <typename C, Is<HealthInfo> V>
void Fields(C& c, V& v) {
  c.Field("status", v.status);
  c.Field("message", v.message);
  c.Extra(v.extra);
}

template <typename C, Is<InventoryEntry> V>
void Fields(C& c, V& v) {
  c.Field("id", v.id);
  c.Field("v", v.v);
  c.Extra(v.extra);
}

template <typename C, Is<ResourceStatus> V>
void Fields(C& c, V& v) {
  c.Field("group", v.group);
  c.Field("version", v.version);
  c.Field("kind", v.kind);
  c.Field("namespace", v.namespace_);
  c.Field("name", v.name);
  c.Field("status", v.status);
  c.Field("health", v.health);
  c.Extra(v.extra);
}

template <typename C, Is<ApplicationStatus> V>
void Fields(C& c, V& v) {
  c.Field("lastAppliedRevision", v.last_applied_revision);
  c.Field("lastAttemptedRevision", v.last_attempted_revision);
  c.Field("sync", v.sync);
  c.Field("health", v.health);
  c.Field("inventory", v.inventory);
  c.Field("resources", v.resources);
  c.Field("conditions", v.conditions);
  c.Field("observedGeneration", v.observed_generation);
  c.Field("lastHandledReconcileAt", v.last_handled_reconcile_at);
  c.Extra(v.extra);
}

template <typename C, Is<Application> V>
void Fields(C& c, V& v) {
  c.Skip("apiVersion");
  c.Skip("kind");
  c.Field("metadata", v.metadata);
  c.Field("spec", v.spec);
  c.Field("status", v.status);
  c.Extra(v.extra);
}

}  // namespace internal

namespace {

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(from, start);
    out.append(text.substr(start, pos == std::string_view::npos ? text.npos : pos - start));
    if (pos == std::string_view::npos) return out;
    out.append(to);
    start = pos + from.size();
  }
}

}  // namespace

Millis ApplicationSpec::Interval() const {
  return internal::DurationOr(interval, *ParseDuration(kDefaultInterval));
}

Millis ApplicationSpec::RetryInterval() const {
  return internal::DurationOr(retry_interval, Interval());
}

Millis ApplicationSpec::Timeout() const {
  return internal::DurationOr(timeout, *ParseDuration(kDefaultTimeout));
}

InventoryEntry InventoryEntry::Make(const ResourceId& resource, std::string_view version) {
  InventoryEntry entry;
  entry.id = fmt::format("{}_{}_{}_{}", resource.namespace_, Replace(resource.name, ":", "__"),
                         resource.group, resource.kind);
  entry.v = version;
  return entry;
}

Result<ResourceId> InventoryEntry::Parse() const {
  // Namespace, group and kind never contain '_'; a name's ':' became "__". So the namespace
  // ends at the first '_', the kind starts after the last, the group after the one before.
  auto bad = [this] {
    return InvalidArgument(
        fmt::format("inventory id \"{}\" is not \"<namespace>_<name>_<group>_<kind>\"", id));
  };
  size_t first = id.find('_');
  size_t last = id.rfind('_');
  if (first == std::string::npos || last <= first) return bad();
  size_t before_last = id.rfind('_', last - 1);
  if (before_last <= first) return bad();
  ResourceId r;
  r.namespace_ = id.substr(0, first);
  r.name = Replace(std::string_view(id).substr(first + 1, before_last - first - 1), "__", ":");
  r.group = id.substr(before_last + 1, last - before_last - 1);
  r.kind = id.substr(last + 1);
  if (r.name.empty() || r.kind.empty()) return bad();
  return r;
}

Result<Application> Application::FromJson(const nlohmann::json& json) {
  return internal::DecodeObject<Application>(json, kKind);
}

nlohmann::json Application::ToJson() const { return internal::EncodeObject(*this, kKind); }

namespace {

// A path inside the repository: relative, and never climbing out of it with "..".
bool IsContainedPath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view segment =
        path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (segment == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

}  // namespace

Status Application::Validate() const {
  using namespace internal;  // NOLINT: the check helpers
  FieldErrors errors;
  if (spec.source_ref.kind != SourceReference::kGitRepository) {
    errors.Add("spec.sourceRef.kind",
               fmt::format("must be GitRepository, got \"{}\"", spec.source_ref.kind));
  }
  CheckRequired(errors, "spec.sourceRef.name", spec.source_ref.name);
  CheckDnsSubdomain(errors, "spec.sourceRef.name", spec.source_ref.name);
  CheckDnsLabel(errors, "spec.sourceRef.namespace", spec.source_ref.namespace_);
  if (!IsContainedPath(spec.path)) {
    errors.Add("spec.path",
               fmt::format("must be a relative path inside the repository without \"..\", got "
                           "\"{}\"",
                           spec.path));
  }
  CheckDnsLabel(errors, "spec.targetNamespace", spec.target_namespace);
  CheckRequired(errors, "spec.interval", spec.interval);
  CheckDuration(errors, "spec.interval", spec.interval, DurationRule::kPositive);
  CheckDuration(errors, "spec.retryInterval", spec.retry_interval, DurationRule::kPositive);
  CheckRequired(errors, "spec.timeout", spec.timeout);
  CheckDuration(errors, "spec.timeout", spec.timeout, DurationRule::kPositive);
  for (size_t i = 0; i < spec.depends_on.size(); ++i) {
    const NamespacedObjectReference& dep = spec.depends_on[i];
    std::string path = IndexPath("spec.dependsOn", i);
    CheckRequired(errors, ChildPath(path, "name"), dep.name);
    CheckDnsSubdomain(errors, ChildPath(path, "name"), dep.name);
    CheckDnsLabel(errors, ChildPath(path, "namespace"), dep.namespace_);
    std::string_view dep_ns = dep.namespace_.empty() ? metadata.namespace_ : dep.namespace_;
    if (!dep.name.empty() && dep.name == metadata.name && dep_ns == metadata.namespace_) {
      errors.Add(path, "an Application cannot depend on itself");
    }
  }
  for (size_t i = 0; i < spec.ignore_differences.size(); ++i) {
    const IgnoreDifference& ignore = spec.ignore_differences[i];
    std::string path = IndexPath("spec.ignoreDifferences", i);
    CheckRequired(errors, ChildPath(path, "kind"), ignore.kind);
    if (ignore.json_pointers.empty()) {
      errors.Add(ChildPath(path, "jsonPointers"), "must list at least one JSON pointer");
    }
    for (size_t j = 0; j < ignore.json_pointers.size(); ++j) {
      const std::string& pointer = ignore.json_pointers[j];
      if (pointer.empty() || pointer.front() != '/') {
        errors.Add(IndexPath(ChildPath(path, "jsonPointers"), j),
                   fmt::format("must be a JSON pointer starting with '/', got \"{}\"", pointer));
      }
    }
  }
  return errors.ToStatus(ObjectName(kKind, metadata));
}

}  // namespace gantry::api
