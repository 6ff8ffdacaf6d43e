#include "operator/kube/fake_kube_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "operator/kube/label_selector.h"

namespace gantry::kube {
namespace {

using Pointer = Object::json_pointer;

constexpr char kDefaultManager[] = "fake-client";

// Metadata the server owns; never part of anyone's fields and never taken from a write.
constexpr const char* kSystemMetadata[] = {
    "name",         "namespace",         "resourceVersion",   "uid",
    "generation",   "creationTimestamp", "deletionTimestamp", "managedFields",
    "generateName", "selfLink"};

bool IsSystemMetadata(const std::string& key) {
  return std::find(std::begin(kSystemMetadata), std::end(kSystemMetadata), key) !=
         std::end(kSystemMetadata);
}

std::string EscapeToken(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Leaf fields of `o` as JSON pointers: scalars, arrays (atomic) and empty objects. `scope`:
// "status" keeps only /status; "spec" drops /status; "all" keeps everything.
void LeafPaths(const Object& o, const std::string& prefix, std::set<std::string>& out) {
  if (o.is_object() && !o.empty()) {
    for (const auto& [key, value] : o.items())
      LeafPaths(value, prefix + "/" + EscapeToken(key), out);
  } else {
    out.insert(prefix);
  }
}

std::set<std::string> FieldPaths(const Object& object, const std::string& scope) {
  std::set<std::string> out;
  if (!object.is_object()) return out;
  for (const auto& [key, value] : object.items()) {
    if (key == "apiVersion" || key == "kind") continue;
    if (scope == "status" && key != "status") continue;
    if (scope == "spec" && key == "status") continue;
    if (key == "metadata" && value.is_object()) {
      for (const auto& [mkey, mvalue] : value.items()) {
        if (IsSystemMetadata(mkey)) continue;
        LeafPaths(mvalue, "/metadata/" + EscapeToken(mkey), out);
      }
      continue;
    }
    LeafPaths(value, "/" + EscapeToken(key), out);
  }
  return out;
}

const Object* At(const Object& o, const std::string& path) {
  Pointer p(path);
  if (!o.contains(p)) return nullptr;
  return &o.at(p);
}

void EraseAt(Object& o, const std::string& path) {
  Pointer p(path);
  if (!o.contains(p)) return;
  std::string last = p.back();
  Pointer parent = p.parent_pointer();
  Object& container = o.at(parent);
  if (container.is_object()) container.erase(last);
}

// The parts of an object that count for metadata.generation.
Object SpecPart(const Object& o) {
  Object copy = o;
  if (copy.is_object()) {
    copy.erase("metadata");
    copy.erase("status");
    copy.erase("apiVersion");
    copy.erase("kind");
  }
  return copy;
}

bool IsDnsSubdomain(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

Status InvalidName(const GroupVersionKind& gvk, const std::string& name) {
  Status s(StatusCode::kInvalid,
           fmt::format("{} \"{}\" is invalid: metadata.name: Invalid value: \"{}\": a lowercase "
                       "RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                       "'-' or '.'",
                       gvk.kind, name, name));
  s.add_cause({"metadata.name", "FieldValueInvalid", "Invalid value: \"" + name + "\""});
  return s;
}

Status NotFoundError(const GroupVersionKind& gvk, const std::string& name) {
  return NotFound(fmt::format("{} \"{}\" not found", gvk.kind, name));
}

Status ConflictError(const GroupVersionKind& gvk, const std::string& name) {
  return Status(StatusCode::kConflict,
                fmt::format("Operation cannot be fulfilled on {} \"{}\": the object has been "
                            "modified; please apply your changes to the latest version and try "
                            "again",
                            gvk.kind, name));
}

// The unescaped tokens of a JSON pointer.
std::vector<std::string> Tokens(const std::string& path) {
  std::vector<std::string> out;
  Pointer p(path);
  while (!p.empty()) {
    out.insert(out.begin(), p.back());
    p.pop_back();
  }
  return out;
}

// FieldsV1 rendering of a set of pointers: {"f:data": {"f:key": {}}}.
Object FieldsV1(const std::set<std::string>& paths) {
  Object tree = Object::object();
  for (const std::string& path : paths) {
    Object* node = &tree;
    for (const std::string& token : Tokens(path)) {
      node = &(*node)["f:" + token];
      if (!node->is_object()) *node = Object::object();
    }
  }
  return tree;
}

std::string RandomSuffix() {
  static std::mt19937_64 rng(std::random_device{}());
  static const char kChars[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string s;
  for (int i = 0; i < 5; ++i) s += kChars[rng() % (sizeof kChars - 1)];
  return s;
}

// What strip_managed_fields asks of List and Watch.
void StripManaged(Object& o) {
  if (!o.is_object() || !o.contains("metadata")) return;
  Object& meta = o["metadata"];
  meta.erase("managedFields");
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    meta["annotations"].erase("kubectl.kubernetes.io/last-applied-configuration");
  }
}

}  // namespace

FakeKubeClient::FakeKubeClient(Clock& clock) : clock_(clock) {
  struct Kind {
    const char* group;
    const char* version;
    const char* kind;
    const char* resource;
    bool namespaced;
    std::vector<std::string> subresources;
  };
  const Kind kKinds[] = {
      {"", "v1", "Namespace", "namespaces", false, {"status"}},
      {"", "v1", "ConfigMap", "configmaps", true, {}},
      {"", "v1", "Secret", "secrets", true, {}},
      {"", "v1", "Service", "services", true, {"status"}},
      {"", "v1", "Pod", "pods", true, {"status"}},
      {"", "v1", "Event", "events", true, {}},
      {"", "v1", "ServiceAccount", "serviceaccounts", true, {"token"}},
      {"", "v1", "Endpoints", "endpoints", true, {}},
      {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"status"}},
      {"", "v1", "Node", "nodes", false, {"status"}},
      {"apps", "v1", "Deployment", "deployments", true, {"status", "scale"}},
      {"apps", "v1", "ReplicaSet", "replicasets", true, {"status", "scale"}},
      {"apps", "v1", "StatefulSet", "statefulsets", true, {"status", "scale"}},
      {"apps", "v1", "DaemonSet", "daemonsets", true, {"status"}},
      {"batch", "v1", "Job", "jobs", true, {"status"}},
      {"batch", "v1", "CronJob", "cronjobs", true, {"status"}},
      {"networking.k8s.io", "v1", "Ingress", "ingresses", true, {"status"}},
      {"gateway.networking.k8s.io", "v1", "HTTPRoute", "httproutes", true, {"status"}},
      {"coordination.k8s.io", "v1", "Lease", "leases", true, {}},
      {"rbac.authorization.k8s.io", "v1", "Role", "roles", true, {}},
      {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, {}},
      {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, {}},
      {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, {}},
      {"autoscaling",
       "v2",
       "HorizontalPodAutoscaler",
       "horizontalpodautoscalers",
       true,
       {"status"}},
      {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, {"status"}},
      {"apiextensions.k8s.io",
       "v1",
       "CustomResourceDefinition",
       "customresourcedefinitions",
       false,
       {"status"}},
      {"gantry.io", "v1alpha1", "GitRepository", "gitrepositories", true, {"status"}},
      {"gantry.io", "v1alpha1", "Application", "applications", true, {"status"}},
      {"gantry.io", "v1alpha1", "Rollout", "rollouts", true, {"status", "scale"}},
      {"gantry.io", "v1alpha1", "AnalysisTemplate", "analysistemplates", true, {}},
      {"gantry.io", "v1alpha1", "ClusterAnalysisTemplate", "clusteranalysistemplates", false, {}},
      {"gantry.io", "v1alpha1", "AnalysisRun", "analysisruns", true, {"status"}},
  };
  for (const Kind& k : kKinds) {
    RestMapping m;
    m.gvk = {k.group, k.version, k.kind};
    m.resource = k.resource;
    m.namespaced = k.namespaced;
    m.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
    m.subresources = k.subresources;
    kinds_[KindKey(m.gvk)] = m;
  }
}

void FakeKubeClient::RegisterKind(const RestMapping& mapping) {
  std::lock_guard lock(mu_);
  kinds_[KindKey(mapping.gvk)] = mapping;
}

void FakeKubeClient::InjectError(Verb verb, const std::string& kind, const std::string& name,
                                 Status status, int times) {
  std::lock_guard lock(mu_);
  injected_.push_back({verb, kind, name, std::move(status), times});
}

std::vector<FakeKubeClient::Action> FakeKubeClient::Actions() const {
  std::lock_guard lock(mu_);
  return actions_;
}

void FakeKubeClient::ClearActions() {
  std::lock_guard lock(mu_);
  actions_.clear();
}

void FakeKubeClient::Compact(int64_t resource_version) {
  std::lock_guard lock(mu_);
  compacted_ = resource_version > 0 ? resource_version : rv_;
  log_.erase(std::remove_if(log_.begin(), log_.end(),
                            [&](const LogEntry& e) { return e.rv <= compacted_; }),
             log_.end());
}

void FakeKubeClient::BreakWatches() {
  std::lock_guard lock(mu_);
  ++watch_generation_;
  changed_.notify_all();
}

int64_t FakeKubeClient::CurrentResourceVersion() const {
  std::lock_guard lock(mu_);
  return rv_;
}

int FakeKubeClient::ActiveWatches() const {
  std::lock_guard lock(mu_);
  return active_watches_;
}

Status FakeKubeClient::Begin(Lock&, Action action) {
  for (auto it = injected_.begin(); it != injected_.end(); ++it) {
    if (it->verb != action.verb) continue;
    if (!it->kind.empty() && it->kind != action.gvk.kind) continue;
    if (!it->name.empty() && it->name != action.name) continue;
    Status s = it->status;
    if (--it->times <= 0) injected_.erase(it);
    actions_.push_back(std::move(action));
    return s;
  }
  actions_.push_back(std::move(action));
  return Status::Ok();
}

Result<RestMapping> FakeKubeClient::MappingLocked(const GroupVersionKind& gvk) const {
  auto it = kinds_.find(KindKey(gvk));
  if (it == kinds_.end() || it->second.gvk.version != gvk.version) {
    return NotFound(fmt::format("no kind \"{}\" is served in {}", gvk.kind, gvk.ApiVersion()));
  }
  return it->second;
}

Result<ResourceRef> FakeKubeClient::CheckRef(const GroupVersionKind& gvk, const std::string& ns,
                                             const std::string& name, const std::string& what,
                                             bool require_name) const {
  Result<RestMapping> mapping = MappingLocked(gvk);
  if (!mapping.ok()) return mapping.status().WithContext(what);
  if (require_name && name.empty()) return InvalidArgument(what + ": no name given");
  if (mapping->namespaced && ns.empty() && require_name) {
    return InvalidArgument(
        fmt::format("{}: {} {} is namespaced but no namespace was given", what, gvk.kind, name));
  }
  return ResourceRef{gvk, mapping->namespaced ? ns : "", name};
}

Object FakeKubeClient::Render(const Stored& stored) const {
  Object out = stored.object;
  if (!stored.managers.empty()) {
    Object fields = Object::array();
    for (const auto& [manager, own] : stored.managers) {
      if (own.paths.empty()) continue;
      fields.push_back({{"manager", manager},
                        {"operation", own.operation},
                        {"apiVersion", own.api_version},
                        {"fieldsType", "FieldsV1"},
                        {"fieldsV1", FieldsV1(own.paths)}});
    }
    if (!fields.empty()) out["metadata"]["managedFields"] = std::move(fields);
  }
  return out;
}

void FakeKubeClient::EmitLocked(const std::string& kind_key, WatchEvent::Type type,
                                const Object& object) {
  log_.push_back({rv_, kind_key, type, object});
  changed_.notify_all();
}

void FakeKubeClient::TakeOwnership(Stored& stored, const Object& before, const std::string& manager,
                                   const std::string& operation, const std::string& api_version,
                                   const std::string& scope) {
  std::set<std::string> now = FieldPaths(stored.object, scope);
  std::set<std::string> was = FieldPaths(before, scope);
  std::set<std::string> changed;
  for (const std::string& p : now) {
    const Object* old_value = At(before, p);
    if (old_value == nullptr || *old_value != *At(stored.object, p)) changed.insert(p);
  }
  for (auto& [name, own] : stored.managers) {
    for (auto it = own.paths.begin(); it != own.paths.end();) {
      bool gone = was.count(*it) && !now.count(*it);
      bool taken = name != manager && changed.count(*it);
      it = (gone || taken) ? own.paths.erase(it) : std::next(it);
    }
  }
  if (!changed.empty()) {
    Ownership& mine = stored.managers[manager];
    if (mine.operation.empty()) mine.operation = operation;
    mine.api_version = api_version;
    mine.paths.insert(changed.begin(), changed.end());
  }
  for (auto it = stored.managers.begin(); it != stored.managers.end();) {
    it = it->second.paths.empty() ? stored.managers.erase(it) : std::next(it);
  }
}

Object FakeKubeClient::Commit(const std::string& kind_key, const std::string& key, Stored next,
                              WatchEvent::Type type) {
  ++rv_;
  next.object["metadata"]["resourceVersion"] = std::to_string(rv_);
  Object rendered = Render(next);
  auto& kind_objects = objects_[kind_key];
  Object& meta = next.object["metadata"];
  bool finalizers_empty = !meta.contains("finalizers") || meta["finalizers"].empty();
  if (meta.contains("deletionTimestamp") && finalizers_empty) {
    kind_objects.erase(key);
    EmitLocked(kind_key, WatchEvent::Type::kDeleted, rendered);
    return rendered;
  }
  kind_objects[key] = std::move(next);
  EmitLocked(kind_key, type, rendered);
  return rendered;
}

Result<Object> FakeKubeClient::ServerVersion() {
  return Object{
      {"major", "1"}, {"minor", "36"}, {"gitVersion", "v1.36.0-fake"}, {"platform", "fake"}};
}

Result<RestMapping> FakeKubeClient::Mapping(const GroupVersionKind& gvk) {
  std::lock_guard lock(mu_);
  return MappingLocked(gvk);
}

Result<RestMapping> FakeKubeClient::MappingForResource(const std::string& group,
                                                       const std::string& version,
                                                       const std::string& resource) {
  std::lock_guard lock(mu_);
  for (const auto& [key, m] : kinds_) {
    if (m.gvk.group == group && m.gvk.version == version && m.resource == resource) return m;
  }
  return NotFound(fmt::format("no resource \"{}\" is served in {}", resource,
                              GroupVersionKind{group, version, ""}.ApiVersion()));
}

Result<Object> FakeKubeClient::Get(const ResourceRef& ref, const GetOptions&) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kGet, ref.gvk, ref.ns, ref.name}));
  Result<ResourceRef> r = CheckRef(ref.gvk, ref.ns, ref.name, "get", true);
  if (!r.ok()) return r.status();
  auto& kind_objects = objects_[KindKey(ref.gvk)];
  auto it = kind_objects.find(ObjKey(r->ns, r->name));
  if (it == kind_objects.end()) return NotFoundError(ref.gvk, ref.name);
  return Render(it->second);
}

Result<ObjectList> FakeKubeClient::List(const GroupVersionKind& gvk, const std::string& ns,
                                        const ListOptions& options) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kList, gvk, ns, ""}));
  Result<RestMapping> mapping = MappingLocked(gvk);
  if (!mapping.ok()) return mapping.status();
  Result<LabelSelector> labels = LabelSelector::Parse(options.label_selector);
  if (!labels.ok()) return Status(StatusCode::kBadRequest, labels.status().message());
  Result<FieldSelector> fields = FieldSelector::Parse(options.field_selector);
  if (!fields.ok()) return Status(StatusCode::kBadRequest, fields.status().message());
  ObjectList out;
  out.resource_version = std::to_string(rv_);
  const auto& kind_objects = objects_[KindKey(gvk)];
  auto it = options.continue_token.empty() ? kind_objects.begin()
                                           : kind_objects.upper_bound(options.continue_token);
  for (; it != kind_objects.end(); ++it) {
    const Object& o = it->second.object;
    if (mapping->namespaced && !ns.empty() && NamespaceOf(o) != ns) continue;
    if (!labels->Matches(LabelsOf(o)) || !fields->Matches(o)) continue;
    if (options.limit > 0 && static_cast<int64_t>(out.items.size()) == options.limit) {
      out.continue_token = ObjKey(NamespaceOf(out.items.back()), NameOf(out.items.back()));
      break;
    }
    out.items.push_back(Render(it->second));
    if (options.strip_managed_fields) StripManaged(out.items.back());
  }
  return out;
}

Result<Object> FakeKubeClient::Create(const Object& object, const WriteOptions& options) {
  Result<GroupVersionKind> gvk = GroupVersionKind::FromObject(object);
  if (!gvk.ok()) return gvk.status();
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kCreate, *gvk, NamespaceOf(object), NameOf(object), "",
                                      options.dry_run, object}));
  Object desired = object;
  desired["metadata"].erase("managedFields");
  std::string name = NameOf(desired);
  if (name.empty()) {
    std::string generate = desired["metadata"].value("generateName", "");
    if (generate.empty()) {
      Status s(StatusCode::kInvalid,
               fmt::format("{} is invalid: metadata.name: Required value: name or generateName "
                           "is required",
                           gvk->kind));
      s.add_cause({"metadata.name", "FieldValueRequired", "Required value"});
      return s;
    }
    name = generate + RandomSuffix();
    desired["metadata"]["name"] = name;
  }
  std::string what = fmt::format("create {} {}", gvk->kind, name);
  Result<ResourceRef> ref = CheckRef(*gvk, NamespaceOf(desired), name, what, true);
  if (!ref.ok()) return ref.status();
  if (!IsDnsSubdomain(name)) return InvalidName(*gvk, name);
  if (ref->ns.empty()) desired["metadata"].erase("namespace");
  std::string kind_key = KindKey(*gvk);
  std::string key = ObjKey(ref->ns, name);
  if (objects_[kind_key].count(key)) {
    return Status(StatusCode::kAlreadyExists,
                  fmt::format("{} \"{}\" already exists", gvk->kind, name));
  }
  Object& meta = desired["metadata"];
  meta["uid"] = fmt::format("fake-uid-{:08d}", ++uid_counter_);
  meta["creationTimestamp"] = FormatRfc3339(clock_.Now());
  meta["generation"] = 1;
  meta.erase("deletionTimestamp");
  meta.erase("resourceVersion");
  Stored next;
  next.object = std::move(desired);
  TakeOwnership(next, Object::object(),
                options.field_manager.empty() ? kDefaultManager : options.field_manager, "Update",
                gvk->ApiVersion(), "all");
  if (options.dry_run) return Render(next);
  return Commit(kind_key, key, std::move(next), WatchEvent::Type::kAdded);
}

Result<Object> FakeKubeClient::WriteExisting(const ResourceRef& ref, const std::string& what,
                                             const std::string& manager,
                                             const std::string& operation, bool dry_run,
                                             const std::string& subresource,
                                             const std::string& expected_rv,
                                             const Object& desired_in) {
  std::string kind_key = KindKey(ref.gvk);
  std::string key = ObjKey(ref.ns, ref.name);
  auto& kind_objects = objects_[kind_key];
  auto it = kind_objects.find(key);
  if (it == kind_objects.end()) return NotFoundError(ref.gvk, ref.name);
  const Stored& stored = it->second;
  if (!expected_rv.empty() && expected_rv != ResourceVersionOf(stored.object)) {
    return ConflictError(ref.gvk, ref.name);
  }
  Result<RestMapping> mapping = MappingLocked(ref.gvk);
  bool has_status =
      std::count(mapping->subresources.begin(), mapping->subresources.end(), "status") > 0;
  Object desired = desired_in;
  if (!desired.is_object()) return InvalidArgument(what + ": not an object");
  if (subresource == "status") {
    // Only status changes through the status subresource.
    Object status = desired.contains("status") ? desired["status"] : Object();
    desired = stored.object;
    if (status.is_null()) {
      desired.erase("status");
    } else {
      desired["status"] = std::move(status);
    }
  } else if (has_status) {
    // ...and never through the main resource.
    if (stored.object.contains("status")) {
      desired["status"] = stored.object["status"];
    } else {
      desired.erase("status");
    }
  }
  // Server-owned metadata comes from the stored object.
  Object& meta = desired["metadata"];
  if (!meta.is_object()) meta = Object::object();
  meta.erase("managedFields");
  for (const char* key_name : kSystemMetadata) {
    const Object& old_meta = stored.object["metadata"];
    if (old_meta.contains(key_name)) {
      meta[key_name] = old_meta[key_name];
    } else {
      meta.erase(key_name);
    }
  }
  desired["apiVersion"] = stored.object["apiVersion"];
  desired["kind"] = stored.object["kind"];

  Stored next = stored;
  Object before = stored.object;
  next.object = std::move(desired);
  if (SpecPart(next.object) != SpecPart(before)) {
    next.object["metadata"]["generation"] = GenerationOf(before) + 1;
  }
  if (operation == "Update") {
    TakeOwnership(next, before, manager, "Update", ref.gvk.ApiVersion(),
                  subresource == "status" ? "status" : "all");
  }
  if (next.object == before && next.managers == stored.managers) {
    return Render(stored);  // a no-op write stores nothing and bumps nothing, as in etcd
  }
  if (dry_run) return Render(next);
  return Commit(kind_key, key, std::move(next), WatchEvent::Type::kModified);
}

Result<Object> FakeKubeClient::Update(const Object& object, const WriteOptions& options) {
  Result<GroupVersionKind> gvk = GroupVersionKind::FromObject(object);
  if (!gvk.ok()) return gvk.status();
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kUpdate, *gvk, NamespaceOf(object), NameOf(object), "",
                                      options.dry_run, object}));
  std::string what = fmt::format("update {} {}", gvk->kind, NameOf(object));
  Result<ResourceRef> ref = CheckRef(*gvk, NamespaceOf(object), NameOf(object), what, true);
  if (!ref.ok()) return ref.status();
  return WriteExisting(*ref, what,
                       options.field_manager.empty() ? kDefaultManager : options.field_manager,
                       "Update", options.dry_run, "", ResourceVersionOf(object), object);
}

Result<Object> FakeKubeClient::UpdateStatus(const Object& object, const WriteOptions& options) {
  Result<GroupVersionKind> gvk = GroupVersionKind::FromObject(object);
  if (!gvk.ok()) return gvk.status();
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kUpdateStatus, *gvk, NamespaceOf(object),
                                      NameOf(object), "status", options.dry_run, object}));
  std::string what = fmt::format("update {} status {}", gvk->kind, NameOf(object));
  Result<ResourceRef> ref = CheckRef(*gvk, NamespaceOf(object), NameOf(object), what, true);
  if (!ref.ok()) return ref.status();
  Result<RestMapping> mapping = MappingLocked(*gvk);
  if (std::count(mapping->subresources.begin(), mapping->subresources.end(), "status") == 0) {
    return NotFound(fmt::format("{}: {} has no status subresource", what, gvk->kind));
  }
  return WriteExisting(*ref, what,
                       options.field_manager.empty() ? kDefaultManager : options.field_manager,
                       "Update", options.dry_run, "status", ResourceVersionOf(object), object);
}

Status FakeKubeClient::Delete(const ResourceRef& ref, const DeleteOptions& options) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(
      Begin(lock, {Verb::kDelete, ref.gvk, ref.ns, ref.name, "", options.dry_run}));
  std::string what = fmt::format("delete {} {}", ref.gvk.kind, ref.name);
  Result<ResourceRef> r = CheckRef(ref.gvk, ref.ns, ref.name, what, true);
  if (!r.ok()) return r.status();
  std::string kind_key = KindKey(ref.gvk);
  std::string key = ObjKey(r->ns, r->name);
  auto& kind_objects = objects_[kind_key];
  auto it = kind_objects.find(key);
  if (it == kind_objects.end()) return NotFoundError(ref.gvk, ref.name);
  const Object& o = it->second.object;
  if (!options.precondition_uid.empty() && options.precondition_uid != UidOf(o)) {
    return Status(StatusCode::kConflict,
                  fmt::format("Precondition failed: UID in precondition: {}, UID in object meta: "
                              "{}",
                              options.precondition_uid, UidOf(o)));
  }
  if (!options.precondition_resource_version.empty() &&
      options.precondition_resource_version != ResourceVersionOf(o)) {
    return Status(StatusCode::kConflict,
                  fmt::format("Precondition failed: ResourceVersion in precondition: {}, "
                              "ResourceVersion in object meta: {}",
                              options.precondition_resource_version, ResourceVersionOf(o)));
  }
  if (options.dry_run) return Status::Ok();
  const Object& meta = o["metadata"];
  if (meta.contains("finalizers") && !meta["finalizers"].empty()) {
    if (meta.contains("deletionTimestamp")) return Status::Ok();
    Stored next = it->second;
    next.object["metadata"]["deletionTimestamp"] = FormatRfc3339(clock_.Now());
    Commit(kind_key, key, std::move(next), WatchEvent::Type::kModified);
    return Status::Ok();
  }
  Stored gone = std::move(it->second);
  kind_objects.erase(it);
  ++rv_;
  gone.object["metadata"]["resourceVersion"] = std::to_string(rv_);
  EmitLocked(kind_key, WatchEvent::Type::kDeleted, Render(gone));
  return Status::Ok();
}

Result<Object> FakeKubeClient::Patch(const ResourceRef& ref, PatchType type, const Object& patch,
                                     const PatchOptions& options) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kPatch, ref.gvk, ref.ns, ref.name, options.subresource,
                                      options.dry_run, patch}));
  std::string what = fmt::format("patch {} {}", ref.gvk.kind, ref.name);
  Result<ResourceRef> r = CheckRef(ref.gvk, ref.ns, ref.name, what, true);
  if (!r.ok()) return r.status();
  if (options.subresource == "scale") {
    if (!patch.is_object() || !patch.contains("spec") || !patch["spec"].contains("replicas")) {
      return Status(StatusCode::kBadRequest, what +
                                                 ": the fake patches scale only as "
                                                 "{\"spec\":{\"replicas\":N}}");
    }
    lock.unlock();
    WriteOptions w;
    w.dry_run = options.dry_run;
    w.field_manager = options.field_manager;
    return UpdateScale(ref, patch["spec"]["replicas"].get<int32_t>(), w);
  }
  auto& kind_objects = objects_[KindKey(ref.gvk)];
  auto it = kind_objects.find(ObjKey(r->ns, r->name));
  if (it == kind_objects.end()) return NotFoundError(ref.gvk, ref.name);
  Object patched;
  try {
    if (type == PatchType::kJson) {
      patched = it->second.object.patch(patch);
    } else {
      if (!patch.is_object()) {
        return Status(StatusCode::kBadRequest, what + ": a merge patch must be an object");
      }
      patched = it->second.object;
      patched.merge_patch(patch);
    }
  } catch (const Object::exception& e) {
    return Status(StatusCode::kInvalid, fmt::format("{}: {}", what, e.what()));
  }
  // A resourceVersion in the patch is a precondition, as on the real server.
  std::string expected;
  if (patch.is_object() && patch.contains("metadata") && patch["metadata"].is_object()) {
    expected = patch["metadata"].value("resourceVersion", "");
  }
  return WriteExisting(*r, what,
                       options.field_manager.empty() ? kDefaultManager : options.field_manager,
                       "Update", options.dry_run, options.subresource, expected, patched);
}

Result<Object> FakeKubeClient::Apply(const Object& object, const ApplyOptions& options) {
  Result<GroupVersionKind> gvk = GroupVersionKind::FromObject(object);
  if (!gvk.ok()) return gvk.status();
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kApply, *gvk, NamespaceOf(object), NameOf(object),
                                      options.subresource, options.dry_run, object}));
  std::string name = NameOf(object);
  std::string what = fmt::format("apply {} {}", gvk->kind, name);
  if (options.field_manager.empty()) {
    return InvalidArgument(what + ": server-side apply needs a field manager");
  }
  Result<ResourceRef> ref = CheckRef(*gvk, NamespaceOf(object), name, what, true);
  if (!ref.ok()) return ref.status();
  if (!IsDnsSubdomain(name)) return InvalidName(*gvk, name);
  Result<RestMapping> mapping = MappingLocked(*gvk);
  bool has_status =
      std::count(mapping->subresources.begin(), mapping->subresources.end(), "status") > 0;
  std::string scope = options.subresource == "status" ? "status" : (has_status ? "spec" : "all");

  std::string kind_key = KindKey(*gvk);
  std::string key = ObjKey(ref->ns, name);
  auto& kind_objects = objects_[kind_key];
  auto it = kind_objects.find(key);
  bool creating = it == kind_objects.end();
  if (creating && options.subresource == "status") return NotFoundError(*gvk, name);
  Stored next;
  if (creating) {
    next.object = {
        {"apiVersion", gvk->ApiVersion()}, {"kind", gvk->kind}, {"metadata", {{"name", name}}}};
    if (!ref->ns.empty()) next.object["metadata"]["namespace"] = ref->ns;
  } else {
    next = it->second;
  }
  const Object before = next.object;

  std::set<std::string> applied = FieldPaths(object, scope);
  // Conflicts: a field another manager owns, set here to a different value.
  std::vector<std::pair<std::string, std::string>> conflicts;  // path, manager
  for (const std::string& path : applied) {
    const Object* current = At(next.object, path);
    const Object& wanted = *At(object, path);
    if (current == nullptr || *current == wanted) continue;
    if (wanted.is_object() && wanted.empty() && current->is_object()) continue;  // merged
    for (auto& [manager, own] : next.managers) {
      if (manager != options.field_manager && own.paths.count(path)) {
        conflicts.emplace_back(path, manager);
      }
    }
  }
  if (!conflicts.empty() && !options.force) {
    std::string list;
    Status s(StatusCode::kConflict, "");
    for (const auto& [path, manager] : conflicts) {
      std::string field = path;
      std::replace(field.begin(), field.end(), '/', '.');
      list += fmt::format("\n- conflict with \"{}\": {}", manager, field);
      s.add_cause({field, "FieldManagerConflict", fmt::format("conflict with \"{}\"", manager)});
    }
    Status out(StatusCode::kConflict,
               fmt::format("{}: Apply failed with {} conflict{}:{}", what, conflicts.size(),
                           conflicts.size() == 1 ? "" : "s", list));
    for (const StatusCause& c : s.causes()) out.add_cause(c);
    return out;
  }
  for (const auto& [path, manager] : conflicts) next.managers[manager].paths.erase(path);

  // Fields this manager applied before but not now are removed, unless someone else owns them.
  auto mine = next.managers.find(options.field_manager);
  if (mine != next.managers.end()) {
    for (const std::string& path : mine->second.paths) {
      if (applied.count(path)) continue;
      bool shared = false;
      for (const auto& [manager, own] : next.managers) {
        if (manager != options.field_manager && own.paths.count(path)) shared = true;
      }
      if (!shared) EraseAt(next.object, path);
    }
  }
  try {
    for (const std::string& path : applied) {
      const Object& wanted = *At(object, path);
      const Object* current = At(next.object, path);
      // An empty map merges with what is there rather than replacing it.
      if (wanted.is_object() && wanted.empty() && current != nullptr && current->is_object()) {
        continue;
      }
      next.object[Pointer(path)] = wanted;
    }
  } catch (const Object::exception& e) {
    return Status(StatusCode::kInvalid, fmt::format("{}: {}", what, e.what()));
  }
  Ownership& own = next.managers[options.field_manager];
  own.operation = "Apply";
  own.api_version = gvk->ApiVersion();
  own.paths = applied;
  for (auto m = next.managers.begin(); m != next.managers.end();) {
    m = m->second.paths.empty() ? next.managers.erase(m) : std::next(m);
  }

  if (creating) {
    Object& meta = next.object["metadata"];
    meta["uid"] = fmt::format("fake-uid-{:08d}", ++uid_counter_);
    meta["creationTimestamp"] = FormatRfc3339(clock_.Now());
    meta["generation"] = 1;
    if (options.dry_run) return Render(next);
    return Commit(kind_key, key, std::move(next), WatchEvent::Type::kAdded);
  }
  if (SpecPart(next.object) != SpecPart(before)) {
    next.object["metadata"]["generation"] = GenerationOf(before) + 1;
  }
  if (next.object == before && next.managers == it->second.managers) return Render(it->second);
  if (options.dry_run) return Render(next);
  return Commit(kind_key, key, std::move(next), WatchEvent::Type::kModified);
}

Result<Object> FakeKubeClient::GetScale(const ResourceRef& ref) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kGetScale, ref.gvk, ref.ns, ref.name, "scale"}));
  std::string what = fmt::format("get scale of {} {}", ref.gvk.kind, ref.name);
  Result<ResourceRef> r = CheckRef(ref.gvk, ref.ns, ref.name, what, true);
  if (!r.ok()) return r.status();
  Result<RestMapping> mapping = MappingLocked(ref.gvk);
  if (std::count(mapping->subresources.begin(), mapping->subresources.end(), "scale") == 0) {
    return NotFound(fmt::format("{}: {} has no scale subresource", what, ref.gvk.kind));
  }
  auto& kind_objects = objects_[KindKey(ref.gvk)];
  auto it = kind_objects.find(ObjKey(r->ns, r->name));
  if (it == kind_objects.end()) return NotFoundError(ref.gvk, ref.name);
  const Object& o = it->second.object;
  Object scale = {{"apiVersion", "autoscaling/v1"},
                  {"kind", "Scale"},
                  {"metadata",
                   {{"name", r->name},
                    {"namespace", r->ns},
                    {"uid", UidOf(o)},
                    {"resourceVersion", ResourceVersionOf(o)}}},
                  {"spec", {{"replicas", 0}}},
                  {"status", {{"replicas", 0}}}};
  if (const Object* rep = At(o, "/spec/replicas")) scale["spec"]["replicas"] = *rep;
  if (const Object* rep = At(o, "/status/replicas")) scale["status"]["replicas"] = *rep;
  if (const Object* sel = At(o, "/status/selector")) scale["status"]["selector"] = *sel;
  return scale;
}

Result<Object> FakeKubeClient::UpdateScale(const ResourceRef& ref, int32_t replicas,
                                           const WriteOptions& options) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kUpdateScale,
                                      ref.gvk,
                                      ref.ns,
                                      ref.name,
                                      "scale",
                                      options.dry_run,
                                      {{"spec", {{"replicas", replicas}}}}}));
  std::string what = fmt::format("update scale of {} {}", ref.gvk.kind, ref.name);
  Result<ResourceRef> r = CheckRef(ref.gvk, ref.ns, ref.name, what, true);
  if (!r.ok()) return r.status();
  Result<RestMapping> mapping = MappingLocked(ref.gvk);
  if (std::count(mapping->subresources.begin(), mapping->subresources.end(), "scale") == 0) {
    return NotFound(fmt::format("{}: {} has no scale subresource", what, ref.gvk.kind));
  }
  auto& kind_objects = objects_[KindKey(ref.gvk)];
  auto it = kind_objects.find(ObjKey(r->ns, r->name));
  if (it == kind_objects.end()) return NotFoundError(ref.gvk, ref.name);
  Object desired = it->second.object;
  desired["spec"]["replicas"] = replicas;
  return WriteExisting(*r, what,
                       options.field_manager.empty() ? kDefaultManager : options.field_manager,
                       "Update", options.dry_run, "", "", desired);
}

Result<Object> FakeKubeClient::CreateSubresource(const ResourceRef& parent,
                                                 const std::string& subresource, const Object& body,
                                                 const WriteOptions& options) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kCreateSubresource, parent.gvk, parent.ns, parent.name,
                                      subresource, options.dry_run, body}));
  std::string what = fmt::format("create {} of {} {}", subresource, parent.gvk.kind, parent.name);
  Result<ResourceRef> r = CheckRef(parent.gvk, parent.ns, parent.name, what, true);
  if (!r.ok()) return r.status();
  auto& kind_objects = objects_[KindKey(parent.gvk)];
  if (!kind_objects.count(ObjKey(r->ns, r->name))) return NotFoundError(parent.gvk, parent.name);
  if (parent.gvk.kind != "ServiceAccount" || subresource != "token") {
    return NotFound(fmt::format("{}: the fake serves only serviceaccounts/token", what));
  }
  Object answer = body;
  answer["apiVersion"] = "authentication.k8s.io/v1";
  answer["kind"] = "TokenRequest";
  answer["status"] = {{"token", fmt::format("fake-token-{}-{}", r->ns, r->name)},
                      {"expirationTimestamp", FormatRfc3339(clock_.Now() + std::chrono::hours(1))}};
  return answer;
}

Status FakeKubeClient::Watch(const GroupVersionKind& gvk, const std::string& ns,
                             const WatchOptions& options,
                             const std::function<Status(const WatchEvent&)>& on_event,
                             std::stop_token stop) {
  Lock lock(mu_);
  GANTRY_RETURN_IF_ERROR(Begin(lock, {Verb::kWatch, gvk, ns, ""}));
  Result<RestMapping> mapping = MappingLocked(gvk);
  if (!mapping.ok()) return mapping.status();
  Result<LabelSelector> labels = LabelSelector::Parse(options.label_selector);
  if (!labels.ok()) return Status(StatusCode::kBadRequest, labels.status().message());
  Result<FieldSelector> fields = FieldSelector::Parse(options.field_selector);
  if (!fields.ok()) return Status(StatusCode::kBadRequest, fields.status().message());
  std::string kind_key = KindKey(gvk);
  auto matches = [&](const Object& o) {
    if (mapping->namespaced && !ns.empty() && NamespaceOf(o) != ns) return false;
    return labels->Matches(LabelsOf(o)) && fields->Matches(o);
  };

  std::vector<WatchEvent> pending;
  int64_t from = rv_;
  if (options.resource_version.empty()) {
    for (const auto& [key, stored] : objects_[kind_key]) {
      if (matches(stored.object)) pending.push_back({WatchEvent::Type::kAdded, Render(stored)});
    }
  } else {
    try {
      from = std::stoll(options.resource_version);
    } catch (const std::exception&) {
      return Status(StatusCode::kBadRequest,
                    fmt::format("invalid resourceVersion \"{}\"", options.resource_version));
    }
    if (from < compacted_) {
      return Status(StatusCode::kGone,
                    fmt::format("too old resource version: {} ({})", from, compacted_));
    }
  }
  const int64_t generation = watch_generation_;
  ++active_watches_;
  changed_.notify_all();
  struct Leave {
    FakeKubeClient* self;
    ~Leave() { --self->active_watches_; }
  } leave{this};
  // Position in the log after `from`.
  size_t pos = std::upper_bound(log_.begin(), log_.end(), from,
                                [](int64_t v, const LogEntry& e) { return v < e.rv; }) -
               log_.begin();
  while (true) {
    // A broken connection delivers nothing more, even what was already logged.
    if (watch_generation_ != generation) {
      return Unavailable(fmt::format("watch {}: connection broken", gvk.ToString()));
    }
    if (stop.stop_requested()) return Status(StatusCode::kCancelled, "watch cancelled");
    for (; pos < log_.size(); ++pos) {
      const LogEntry& e = log_[pos];
      if (e.kind_key == kind_key && matches(e.object)) pending.push_back({e.type, e.object});
    }
    if (!pending.empty()) {
      std::vector<WatchEvent> batch = std::move(pending);
      pending.clear();
      size_t log_size = log_.size();
      lock.unlock();
      for (WatchEvent& event : batch) {
        if (options.strip_managed_fields) StripManaged(event.object);
        Status s = on_event(event);
        if (!s.ok()) {
          lock.lock();
          return s;
        }
      }
      lock.lock();
      // Compact() may have shrunk the log meanwhile; start over at our version.
      if (log_.size() < log_size) {
        pos = std::upper_bound(log_.begin(), log_.end(), from,
                               [](int64_t v, const LogEntry& e) { return v < e.rv; }) -
              log_.begin();
      }
      if (!batch.empty()) from = std::max(from, rv_);
      continue;
    }
    changed_.wait(lock, stop, [&] { return pos < log_.size() || watch_generation_ != generation; });
  }
}

}  // namespace gantry::kube
