// KubeClient: everything Gantry asks of the Kubernetes API server.
//
// Objects are nlohmann::json (see object.h) addressed by group/version/kind, namespace and
// name; the implementation maps a kind to its REST resource through discovery (cached, and
// refreshed when a kind is unknown, so a CRD applied a moment ago is found). Every call is
// synchronous, blocks only its caller, and is safe from any number of threads at once.
//
// Failures come back as Status values whose code says what the API server meant (see
// api_status.h): NotFound, AlreadyExists, Conflict (stale resourceVersion or a server-side
// apply field conflict), Gone (resourceVersion compacted), Invalid (with the field causes),
// Forbidden, Unauthorized, TooManyRequests (with retry_after), Unavailable, Timeout. The
// message carries the server's message after the request it belongs to.
//
// Implementations: RestKubeClient (rest_kube_client.h, the real thing over HTTPS) and
// FakeKubeClient (fake_kube_client.h, in memory, for unit tests).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "operator/common/status.h"
#include "operator/kube/object.h"

namespace gantry::kube {

// How a kind is served: its plural resource name and whether objects live in a namespace.
struct RestMapping {
  GroupVersionKind gvk;
  std::string resource;  // "deployments"
  bool namespaced = true;
  std::vector<std::string> verbs;         // "get", "list", "watch", ...
  std::vector<std::string> subresources;  // "status", "scale", ...
};

struct GetOptions {
  // "" reads the latest state (a quorum read); "0" lets the server answer from its cache.
  std::string resource_version;
};

struct ListOptions {
  std::string label_selector;  // "app=web,tier!=db"
  std::string field_selector;  // "metadata.name=web"
  // Page size; 0 asks for everything in one answer. ListAll pages with kDefaultPageSize.
  int64_t limit = 0;
  std::string continue_token;  // from the previous page
  // "" (latest, consistent), "0" (any, from the server cache), or a version to read at.
  std::string resource_version;
  // Server-side time limit for the call; zero uses the client's request timeout.
  std::chrono::seconds timeout{0};
  // Drop metadata.managedFields and the kubectl last-applied-configuration annotation of
  // every item while parsing, so they are never allocated (informers do: a cache holds
  // thousands of objects and neither field is read by controllers).
  bool strip_managed_fields = false;
};
inline constexpr int64_t kDefaultPageSize = 500;

struct ObjectList {
  std::vector<Object> items;
  std::string resource_version;  // of the list: where a watch should start
  std::string continue_token;    // non-empty when more pages follow
  std::optional<int64_t> remaining_item_count;
};

// Options common to every write.
struct WriteOptions {
  // dryRun=All: the server runs admission and validation and answers with the object it
  // would have stored, but stores nothing.
  bool dry_run = false;
  // Who makes the change (managedFields). Empty: the server derives one from the user agent.
  std::string field_manager;
};

enum class PropagationPolicy { kDefault, kForeground, kBackground, kOrphan };

struct DeleteOptions {
  bool dry_run = false;
  PropagationPolicy propagation_policy = PropagationPolicy::kDefault;
  std::optional<int64_t> grace_period_seconds;
  // Delete only if the object still has this uid / resourceVersion; Conflict otherwise.
  std::string precondition_uid;
  std::string precondition_resource_version;
};

enum class PatchType {
  kMerge,      // application/merge-patch+json (RFC 7386)
  kJson,       // application/json-patch+json (RFC 6902)
  kStrategic,  // application/strategic-merge-patch+json (built-in kinds only)
};

struct PatchOptions {
  bool dry_run = false;
  std::string field_manager;
  std::string subresource;  // "", "status" or "scale"
};

struct ApplyOptions {
  // Required: the owner of the applied fields.
  std::string field_manager;
  // Take over fields another manager owns instead of failing with Conflict.
  bool force = false;
  bool dry_run = false;
  std::string subresource;  // "" or "status"
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  // Start after this version; "" starts with synthetic ADDED events for the current state.
  std::string resource_version;
  bool allow_bookmarks = true;
  // The server ends the watch after this long (a normal end: resume from the last version).
  std::chrono::seconds timeout{300};
  // Without any byte for this long the connection is presumed dead. Zero: timeout + 30s, so
  // that a quiet but healthy watch is ended by the server first.
  std::chrono::seconds idle_timeout{0};
  // As ListOptions::strip_managed_fields, for each event's object.
  bool strip_managed_fields = false;
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type;
  // The object after the change (before deletion for kDeleted); for kBookmark only
  // metadata.resourceVersion is meaningful.
  Object object;
};
std::string_view WatchEventTypeName(WatchEvent::Type type);

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  // The REST mapping of a kind. NotFound when the server does not serve it (after one fresh
  // look at discovery, so a just-created CRD is found).
  virtual Result<RestMapping> Mapping(const GroupVersionKind& gvk) = 0;

  // The other direction: the kind served as plural `resource` ("deployments") in a
  // group-version, for callers that start from a resource name (RBAC rules, URLs). NotFound
  // as Mapping, after one fresh look at discovery.
  virtual Result<RestMapping> MappingForResource(const std::string& group,
                                                 const std::string& version,
                                                 const std::string& resource) = 0;

  // GET /version of the server: {"major","minor","gitVersion",...}.
  virtual Result<Object> ServerVersion() = 0;

  // The object named by `ref`; NotFound when it does not exist.
  virtual Result<Object> Get(const ResourceRef& ref, const GetOptions& options = {}) = 0;

  // One page of objects of `gvk` in namespace `ns` ("" for all namespaces or a cluster-scoped
  // kind). Gone when a continue token has expired.
  virtual Result<ObjectList> List(const GroupVersionKind& gvk, const std::string& ns,
                                  const ListOptions& options = {}) = 0;

  // Every page, concatenated; the resource_version is that of the first page (where a watch
  // must start). options.limit <= 0 uses kDefaultPageSize.
  Result<ObjectList> ListAll(const GroupVersionKind& gvk, const std::string& ns,
                             ListOptions options = {});

  // Creates `object` (apiVersion, kind, metadata.name or generateName, and
  // metadata.namespace for namespaced kinds). Returns the stored object. AlreadyExists.
  virtual Result<Object> Create(const Object& object, const WriteOptions& options = {}) = 0;

  // Replaces the object. With metadata.resourceVersion set, Conflict when the stored object
  // has moved on. status is ignored by the server for kinds with a status subresource.
  virtual Result<Object> Update(const Object& object, const WriteOptions& options = {}) = 0;

  // Replaces only the status subresource (metadata.resourceVersion checked as in Update).
  virtual Result<Object> UpdateStatus(const Object& object, const WriteOptions& options = {}) = 0;

  // Deletes; NotFound when absent, Conflict when a precondition fails. OK means the delete
  // was accepted (finalizers may keep the object around for a while).
  virtual Status Delete(const ResourceRef& ref, const DeleteOptions& options = {}) = 0;

  // Patches the object or one of its subresources; `patch` is the patch document (a JSON
  // array for kJson). Returns the patched object.
  virtual Result<Object> Patch(const ResourceRef& ref, PatchType type, const Object& patch,
                               const PatchOptions& options = {}) = 0;

  // Server-side apply of `object` (the fields this manager wants to own). Creates the object
  // when absent. Conflict (with causes naming the fields and their managers) when another
  // manager owns a field with a different value and !options.force.
  virtual Result<Object> Apply(const Object& object, const ApplyOptions& options) = 0;

  // The scale subresource (autoscaling/v1 Scale) and an update of spec.replicas through it.
  virtual Result<Object> GetScale(const ResourceRef& ref) = 0;
  virtual Result<Object> UpdateScale(const ResourceRef& ref, int32_t replicas,
                                     const WriteOptions& options = {}) = 0;

  // POST to a subresource that creates something, e.g. serviceaccounts/<name>/token with a
  // TokenRequest body. Returns the server's answer.
  virtual Result<Object> CreateSubresource(const ResourceRef& parent,
                                           const std::string& subresource, const Object& body,
                                           const WriteOptions& options = {}) = 0;

  // Streams changes to objects of `gvk` in `ns` ("" for all) to `on_event`, on the calling
  // thread, until the stream ends. Returns OK when the server closed the stream normally
  // (options.timeout elapsed: watch again from the last resourceVersion seen), Gone when
  // options.resource_version is too old (list again), Cancelled when `stop` was requested,
  // Unavailable or Timeout when the connection broke or went silent (back off, then watch
  // again). If `on_event` returns an error the watch stops and returns it.
  virtual Status Watch(const GroupVersionKind& gvk, const std::string& ns,
                       const WatchOptions& options,
                       const std::function<Status(const WatchEvent&)>& on_event,
                       std::stop_token stop) = 0;
};

}  // namespace gantry::kube
