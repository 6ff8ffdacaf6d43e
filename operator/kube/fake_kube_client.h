// FakeKubeClient: an in-memory API server behind the KubeClient interface, for unit tests of
// code that talks to Kubernetes (reconcilers, appliers, the event recorder, informers).
//
// What it does like the real API server:
//  - One global resourceVersion counter (like etcd's revision), bumped by every write and
//    stored in metadata.resourceVersion; uid and creationTimestamp (from the injected Clock)
//    on create; metadata.generation 1 on create, +1 when anything outside metadata and status
//    changes.
//  - Update with a stale metadata.resourceVersion fails with Conflict; Create of an existing
//    name with AlreadyExists; missing objects are NotFound; names must be DNS subdomains
//    (Invalid with the field cause); generateName appends 5 random characters.
//  - Kinds are known only when registered (RegisterKind); the usual built-ins and Gantry's
//    own kinds are registered from the start. For kinds with a status subresource, Update and
//    Apply ignore status and UpdateStatus/status patches touch only status. Scale reads
//    spec.replicas, status.replicas and status.selector.
//  - Delete honours uid/resourceVersion preconditions; an object with finalizers gets a
//    deletionTimestamp and goes away when an update removes the last finalizer.
//  - Patch: JSON merge patch and JSON patch exactly; strategic merge patch is treated as a
//    merge patch (lists are replaced, not merged by key).
//  - Server-side apply with field ownership: each manager owns the leaf fields it applied
//    (lists are atomic); applying a different value to a field another manager owns fails
//    with Conflict naming field and manager unless force; fields a manager stops applying are
//    removed unless someone else owns them; Update/Patch/Create give the changed fields to
//    their field manager ("fake-client" when none) without conflicts. metadata.managedFields
//    is rendered in FieldsV1 form.
//  - dryRun: everything is validated and the result returned, nothing is stored.
//  - List: label and field selectors, limit/continue pagination (over the current state,
//    not a snapshot). Watch: every change since a resourceVersion ("" starts with ADDED for
//    the current objects), Gone for a version older than Compact()ed, blocks until stopped.
//
// What it does not do: admission, defaulting, OpenAPI validation, garbage collection of
// dependents, namespace existence checks, cross-version conversion.
//
// Test hooks: InjectError (fail the next N matching calls), Actions (every call, in order),
// Compact, BreakWatches (end current watches with Unavailable, as a dying API server would).
//
// Thread-safe: one mutex guards all state; Watch blocks on a condition variable under it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "operator/common/clock.h"
#include "operator/kube/kube_client.h"

namespace gantry::kube {

class FakeKubeClient final : public KubeClient {
 public:
  enum class Verb {
    kGet,
    kList,
    kCreate,
    kUpdate,
    kUpdateStatus,
    kDelete,
    kPatch,
    kApply,
    kGetScale,
    kUpdateScale,
    kCreateSubresource,
    kWatch
  };
  // One recorded call.
  struct Action {
    Verb verb;
    GroupVersionKind gvk;
    std::string ns;
    std::string name;
    std::string subresource;
    bool dry_run = false;
    Object body;  // the object, patch or apply configuration sent, if any
  };

  explicit FakeKubeClient(Clock& clock = RealClock());
  FakeKubeClient(const FakeKubeClient&) = delete;
  FakeKubeClient& operator=(const FakeKubeClient&) = delete;

  // Makes a kind known (replacing an earlier registration of the same group and kind).
  void RegisterKind(const RestMapping& mapping);

  // The next `times` calls of `verb` on `gvk.kind` (empty kind: any) named `name` (empty:
  // any) fail with `status` before doing anything.
  void InjectError(Verb verb, const std::string& kind, const std::string& name, Status status,
                   int times = 1);
  std::vector<Action> Actions() const;
  void ClearActions();
  // Watches asking for a resourceVersion below `resource_version` (default: the current one)
  // get Gone.
  void Compact(int64_t resource_version = 0);
  // Ends every running watch with Unavailable.
  void BreakWatches();
  int64_t CurrentResourceVersion() const;
  // Number of watches blocked right now (tests wait for an informer to be watching).
  int ActiveWatches() const;

  // KubeClient
  Result<RestMapping> Mapping(const GroupVersionKind& gvk) override;
  Result<RestMapping> MappingForResource(const std::string& group, const std::string& version,
                                         const std::string& resource) override;
  Result<Object> ServerVersion() override;
  Result<Object> Get(const ResourceRef& ref, const GetOptions& options = {}) override;
  Result<ObjectList> List(const GroupVersionKind& gvk, const std::string& ns,
                          const ListOptions& options = {}) override;
  Result<Object> Create(const Object& object, const WriteOptions& options = {}) override;
  Result<Object> Update(const Object& object, const WriteOptions& options = {}) override;
  Result<Object> UpdateStatus(const Object& object, const WriteOptions& options = {}) override;
  Status Delete(const ResourceRef& ref, const DeleteOptions& options = {}) override;
  Result<Object> Patch(const ResourceRef& ref, PatchType type, const Object& patch,
                       const PatchOptions& options = {}) override;
  Result<Object> Apply(const Object& object, const ApplyOptions& options) override;
  Result<Object> GetScale(const ResourceRef& ref) override;
  Result<Object> UpdateScale(const ResourceRef& ref, int32_t replicas,
                             const WriteOptions& options = {}) override;
  Result<Object> CreateSubresource(const ResourceRef& parent, const std::string& subresource,
                                   const Object& body, const WriteOptions& options = {}) override;
  Status Watch(const GroupVersionKind& gvk, const std::string& ns, const WatchOptions& options,
               const std::function<Status(const WatchEvent&)>& on_event,
               std::stop_token stop) override;

 private:
  struct Ownership {
    std::string operation;  // "Apply" or "Update"
    std::string api_version;
    std::set<std::string> paths;  // JSON pointers of owned leaf fields
    bool operator==(const Ownership&) const = default;
  };
  struct Stored {
    Object object;  // without managedFields
    std::map<std::string, Ownership> managers;
  };
  struct LogEntry {
    int64_t rv;
    std::string kind_key;
    WatchEvent::Type type;
    Object object;
  };
  struct Injected {
    Verb verb;
    std::string kind;
    std::string name;
    Status status;
    int times;
  };

  using Lock = std::unique_lock<std::mutex>;
  static std::string KindKey(const GroupVersionKind& gvk) { return gvk.group + "/" + gvk.kind; }
  static std::string ObjKey(const std::string& ns, const std::string& name) {
    return ns + "/" + name;
  }

  Status Begin(Lock& lock, Action action);
  Result<RestMapping> MappingLocked(const GroupVersionKind& gvk) const;
  Result<ResourceRef> CheckRef(const GroupVersionKind& gvk, const std::string& ns,
                               const std::string& name, const std::string& what,
                               bool require_name) const;
  Object Render(const Stored& stored) const;
  // Stores `next` as the new state of (kind, key) with ownership updated; emits the event.
  Object Commit(const std::string& kind_key, const std::string& key, Stored next,
                WatchEvent::Type type);
  Result<Object> WriteExisting(const ResourceRef& ref, const std::string& what,
                               const std::string& manager, const std::string& operation,
                               bool dry_run, const std::string& subresource,
                               const std::string& expected_rv, const Object& desired);
  static void TakeOwnership(Stored& stored, const Object& before, const std::string& manager,
                            const std::string& operation, const std::string& api_version,
                            const std::string& scope);
  void EmitLocked(const std::string& kind_key, WatchEvent::Type type, const Object& object);

  Clock& clock_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable_any changed_;
  std::map<std::string, RestMapping> kinds_;                      // by KindKey
  std::map<std::string, std::map<std::string, Stored>> objects_;  // KindKey -> ns/name
  std::vector<LogEntry> log_;
  std::vector<Action> actions_;
  std::vector<Injected> injected_;
  int64_t rv_ = 1;
  int64_t compacted_ = 0;
  int64_t uid_counter_ = 0;
  int64_t watch_generation_ = 0;  // bumped by BreakWatches
  int active_watches_ = 0;
};

}  // namespace gantry::kube
