// GitRepositoryReconciler: keeps each GitRepository's artifact (the commit its ref points at,
// exported to disk) current, and tells the Application reconciler when it moves.
//
// One pass for (namespace, name), level-based like every Gantry reconciler:
//   1. read the GitRepository; gone -> forget its artifact;
//   2. decode and validate the spec; invalid -> Stalled (no retry until the spec changes);
//   3. suspended -> nothing fetched, status says so;
//   4. read credentials from spec.secretRef (username+password | bearerToken |
//      identity+known_hosts, optional ca.crt); a missing Secret or key -> Ready=False, retry;
//   5. fetch through GitSource with the current artifact's commit, so a ref that did not move
//      downloads nothing; a failure keeps the last artifact and says why (Ready=False, reason
//      GitOperationFailed) and the caller backs off;
//   6. write status (artifact, webhookPath, conditions, observedGeneration,
//      lastHandledReconcileAt) only when it changed; emit an Event on every transition; when
//      the artifact's commit changed, call the on_artifact_changed listener.
//
// The artifacts themselves (directories on local disk) are shared with the Application
// reconciler through ArtifactRegistry. Thread-safe as long as two passes never run for the same
// GitRepository at once (the work queue guarantees that).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "operator/api/git_repository.h"
#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/controller/reconciler.h"
#include "operator/git/git_source.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/kube_client.h"
#include "operator/reconcilers/application_metrics.h"

namespace gantry::reconcilers {

// Annotation a user (or `gantry app sync`) sets to any new value to ask for a pass now.
inline constexpr std::string_view kReconcileRequestedAtAnnotation =
    "gantry.io/reconcile-requested-at";
// Condition reasons of GitRepository.
inline constexpr std::string_view kReasonGitOperationFailed = "GitOperationFailed";
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kReasonAuthenticationFailed = "AuthenticationFailed";
inline constexpr std::string_view kReasonSucceeded = "Succeeded";
inline constexpr std::string_view kReasonSuspended = "Suspended";

// The latest artifact of each GitRepository, as fetched by this process. Thread-safe (one
// mutex guards the map).
class ArtifactRegistry {
 public:
  ArtifactRegistry() = default;
  ArtifactRegistry(const ArtifactRegistry&) = delete;
  ArtifactRegistry& operator=(const ArtifactRegistry&) = delete;

  void Put(const kube::ObjectKey& repository, git::Artifact artifact);
  void Forget(const kube::ObjectKey& repository);
  std::optional<git::Artifact> Get(const kube::ObjectKey& repository) const;

 private:
  mutable std::mutex mu_;  // guards artifacts_
  std::map<kube::ObjectKey, git::Artifact> artifacts_;
};

struct GitRepositoryReconcilerDeps {
  kube::KubeClient& client;
  git::GitSource& source;
  Clock& clock;
  ArtifactRegistry& artifacts;
  SyncMetrics& metrics;
  kube::EventRecorder* events;  // may be null: events are then only logged
  // Called (on the pass's thread) after the artifact of a GitRepository moved to a new
  // commit; the operator enqueues the Applications that use it. May be empty.
  std::function<void(const kube::ObjectKey& repository)> on_artifact_changed;
};

class GitRepositoryReconciler final : public controller::Reconciler {
 public:
  explicit GitRepositoryReconciler(GitRepositoryReconcilerDeps deps) : deps_(std::move(deps)) {}
  GitRepositoryReconciler(const GitRepositoryReconciler&) = delete;
  GitRepositoryReconciler& operator=(const GitRepositoryReconciler&) = delete;

  // One pass for the GitRepository `key`. See the header comment for the steps.
  controller::ReconcileResult Reconcile(const kube::ObjectKey& key) override;

 private:
  void Emit(const kube::Object& object, bool warning, std::string_view reason,
            const std::string& message);

  GitRepositoryReconcilerDeps deps_;
};

// Reads the GitRepository's spec.secretRef into GitAuth (empty without one). NotFound or
// InvalidArgument naming the Secret and key.
Result<git::GitAuth> ReadGitAuth(kube::KubeClient& client, const api::GitRepository& repo);

// "/hooks/<namespace>/<name>".
std::string WebhookPath(const kube::ObjectKey& key);

}  // namespace gantry::reconcilers
