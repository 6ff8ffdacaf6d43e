// The apply half of an Application sync: desired objects prepared for server-side apply,
// validated by a server-side dry run, compared with the live object, and written only when the
// dry run says the write would change something.
//
// Why compare the dry run and not a hash of the applied fields: a hash stored in an annotation
// says what Gantry last sent, not what the object holds now, so a hand edit of a managed field
// would go unseen and self-heal could never revert it. The dry run of a forced apply is exactly
// the object as it would be after the write; if it equals the live object (server-filled
// metadata aside), the write would change nothing and is skipped.
//
// The live object comes from the self-heal watcher's cache when it can (no GET): the dry run's
// answer carries the stored object's metadata.resourceVersion (none for an object that does
// not exist yet), and a cached copy at that same version is exactly what the server holds. A
// cache that lags (or lacks the kind) is never trusted: the object is read from the server.
// Both sides are compared without managedFields and kubectl's last-applied annotation, which
// the cache does not keep.
//
// Functions and a stateless Applier; safe from any thread as long as the KubeClient is.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/application.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/object_cache.h"
#include "operator/manifest/normalize.h"
#include "operator/manifest/object.h"
#include "operator/manifest/object_id.h"

namespace gantry::reconcilers {

inline constexpr std::string_view kFieldManager = "gantry";
inline constexpr std::string_view kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kManagedByValue = "gantry";
inline constexpr std::string_view kApplicationNameLabel = "gantry.io/application-name";
inline constexpr std::string_view kApplicationNamespaceLabel = "gantry.io/application-namespace";
inline constexpr std::string_view kPruneAnnotation = "gantry.io/prune";

// One object of the Application as it will be applied.
struct DesiredObject {
  manifest::Object source;  // as loaded (file, line), after targetNamespace
  kube::Object applied;     // with ownership labels, without ignored fields
  kube::ResourceRef ref;
  std::string id;       // inventory id "<ns>_<name>_<group>_<kind>"
  std::string version;  // apiVersion's version, for the inventory
};

// The Application's spec.ignoreDifferences in the normaliser's shape.
std::vector<manifest::IgnoreDifference> IgnoreRules(const api::Application& app);

// Adds the ownership labels and drops the fields spec.ignoreDifferences names, so that
// server-side apply leaves them to whoever owns them (an HPA and spec.replicas). InvalidArgument
// naming the object's origin for a malformed pointer or an object without identity.
Result<std::vector<DesiredObject>> PrepareDesired(const std::vector<manifest::Object>& objects,
                                                  const api::Application& app);

// The objects an operator restricted to namespace `scope` (its --namespace) must not write:
// cluster-scoped ones, and namespaced ones in another namespace. Argo CD refuses the same in a
// namespaced installation (no cluster resources, destinations in its namespace only); Gantry
// refuses them while validating, so a commit with one applies nothing. One message per object,
// naming its file, line and identity. Empty `scope` (every namespace watched): no restriction.
std::vector<std::string> OutOfScope(
    const std::vector<DesiredObject>& desired, const std::string& scope,
    const std::function<bool(const manifest::GroupKind&)>& is_namespaced);

// True when `dry_run` (the server's answer to a dry-run apply) differs from `live` in anything
// but server-filled metadata and status, i.e. when applying would change the object.
bool WouldChange(const kube::Object& dry_run, const kube::Object& live);

// SHA-256 of what WouldChange compares of `live` (server-filled metadata and status left out):
// equal for two versions of an object that differ only in status or bookkeeping. `live` must
// be stripped as the cache strips (kube::StripForCache).
std::string ContentHash(const kube::Object& live);

// One line per changed field ("~ /spec/replicas: 2 -> 3", "+ /data/b: \"x\"", "- /data/a"),
// Secret values masked; empty when nothing would change. `live` null: the object is new.
std::vector<std::string> DescribeChanges(const kube::Object& dry_run, const kube::Object& live,
                                         const std::vector<manifest::IgnoreDifference>& rules);

enum class ApplyAction { kCreated, kConfigured, kUnchanged };
std::string_view ApplyActionName(ApplyAction action);  // created | configured | unchanged

// What the server says about one desired object before anything is written.
struct ApplyPreview {
  kube::Object live;             // null when the object does not exist
  kube::Object dry_run;          // the object as a forced apply would leave it
  bool changes = false;          // WouldChange(dry_run, live), or the object is new
  bool live_from_cache = false;  // `live` came from the cache, not a GET
};

// The result of Applier::Apply: what was done, and the write's answer (the object as the
// server now holds it, status included, so that health is judged without reading it again);
// null when nothing was written, in which case the preview's live object stands.
struct Applied {
  ApplyAction action = ApplyAction::kUnchanged;
  kube::Object object;
};

// A cache of live objects (ManagedObjectWatcher::Cached's contract): nullopt when it cannot
// answer for the object's kind, a null pointer when it holds no such object.
using CachedObjectLookup = std::function<std::optional<kube::ObjectPtr>(const kube::ResourceRef&)>;

class Applier {
 public:
  // `cache` may be empty: every live object is then read from the server.
  explicit Applier(kube::KubeClient& client, CachedObjectLookup cache = nullptr)
      : client_(client), cache_(std::move(cache)) {}

  // Dry-runs the apply, then takes the live object from the cache when the cache is current
  // for it (else reads it). Errors name the object's file and line and carry the server's
  // message (Invalid, Forbidden, NotFound for an unknown kind, ...).
  Result<ApplyPreview> PreviewApply(const DesiredObject& object);

  // Applies when `preview.changes`; otherwise writes nothing.
  Result<Applied> Apply(const DesiredObject& object, const ApplyPreview& preview);

 private:
  kube::KubeClient& client_;
  const CachedObjectLookup cache_;
};

}  // namespace gantry::reconcilers
