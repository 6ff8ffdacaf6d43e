// ApplicationReconciler: syncs the manifests under an Application's path, at its
// GitRepository's current artifact, into the cluster.
//
// Desired state is the artifact's commit; actual state is the cluster; status.inventory is what
// this Application applied last, so a restarted operator knows what it owns. One pass:
//   1. read and validate the Application (invalid, or a targetNamespace outside the operator's
//      --namespace -> Stalled); answer a `gantry app diff` request (application_diff.h);
//      suspended -> nothing;
//   2. dependsOn: every listed Application must be Ready at its generation (else Waiting);
//   3. source: the GitRepository's artifact must be fetched by this process (else Waiting; the
//      GitRepository reconciler enqueues us when it arrives);
//   4. load every manifest (all or nothing: file:line errors), apply targetNamespace, add
//      ownership labels, drop ignoreDifferences fields;
//   5. validate all: in an operator restricted to one namespace, no object may be cluster-scoped
//      or in another namespace; then a server-side dry run of every object. Objects whose kind
//      comes from a CRD in the same commit, or whose Namespace is in it, cannot be dry-run before
//      those exist: they are dry-run after the Namespaces and CRDs are applied (if a CRD is not
//      served yet, the pass waits and the next pass validates everything). Any failure: nothing
//      (more) is applied, Ready=False names the file, object and the server's message;
//      An object the SyncMemo knows in sync (same revision, generation and desired content as
//      the last successful pass, and the watch cache's copy unchanged since) is neither
//      dry-run nor read: a no-op resync costs no request per object;
//   6. apply in order (definitions, then sync waves, then kind order) with server-side apply,
//      field manager gantry, force; an object whose dry run equals the live object (from the
//      watch cache when it is current, else a GET) is not written. The dry runs, and the writes
//      of objects of the same rank (definition or not, wave, kind order), go several at once
//      (deps.parallel_requests), so a first sync is bound by the client's rate limit rather
//      than by one round trip after another;
//   7. prune (spec.prune) the previous inventory's objects that left Git, in reverse order;
//   8. health of every object, judged from what the pass already holds (the write's answer, the
//      live object of the preview, or the watch cache's copy); with spec.wait, Ready only when
//      all are Healthy: until spec.timeout after the revision was applied, Ready=Unknown
//      (Reconciling reason HealthCheckPending); after it, Ready=False HealthCheckFailed naming
//      the unhealthy object, which stays so (the timer does not restart) until the objects are
//      healthy or a new revision or generation restarts the wait; both look again every
//      poll_interval;
//   9. status (revisions, sync, health, inventory, resources, conditions), Events, metrics;
//      the watch behind selfHeal is extended to the inventory's kinds.
//
// Thread-safe as long as two passes never run for the same Application at once (the work queue
// guarantees that).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "operator/api/application.h"
#include "operator/common/clock.h"
#include "operator/controller/reconciler.h"
#include "operator/kube/kube_client.h"
#include "operator/reconcilers/application_metrics.h"
#include "operator/reconcilers/application_sync_memo.h"
#include "operator/reconcilers/application_watcher.h"
#include "operator/reconcilers/git_repository_reconciler.h"

namespace gantry::reconcilers {

// Condition reasons of Application.
inline constexpr std::string_view kReasonReconciliationSucceeded = "ReconciliationSucceeded";
inline constexpr std::string_view kReasonDependencyNotReady = "DependencyNotReady";
inline constexpr std::string_view kReasonArtifactNotReady = "ArtifactNotReady";
inline constexpr std::string_view kReasonBuildFailed = "BuildFailed";
inline constexpr std::string_view kReasonValidationFailed = "ValidationFailed";
inline constexpr std::string_view kReasonApplyFailed = "ApplyFailed";
inline constexpr std::string_view kReasonPruneFailed = "PruneFailed";
inline constexpr std::string_view kReasonHealthCheckFailed = "HealthCheckFailed";
inline constexpr std::string_view kReasonHealthCheckPending = "HealthCheckPending";

struct ApplicationReconcilerDeps {
  kube::KubeClient& client;
  Clock& clock;
  ArtifactRegistry& artifacts;
  SyncMetrics& metrics;
  kube::EventRecorder* events;    // may be null: events are then only logged
  ManagedObjectWatcher* watcher;  // may be null: no self-heal watch
  // How often a pass that waits for something (dependencies, health, a new CRD) looks again.
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
  // The operator's --namespace: the only namespace Applications may write in (cluster-scoped
  // objects and other namespaces are refused while validating). Empty: every namespace.
  std::string scope_namespace;
  // How many of one pass's dry runs, or of its writes of one rank, are in flight at once; the
  // client's rate limit (--kube-qps, --kube-burst) bounds them further.
  int parallel_requests = 8;
};

class ApplicationReconciler final : public controller::Reconciler {
 public:
  explicit ApplicationReconciler(ApplicationReconcilerDeps deps) : deps_(std::move(deps)) {}
  ApplicationReconciler(const ApplicationReconciler&) = delete;
  ApplicationReconciler& operator=(const ApplicationReconciler&) = delete;

  controller::ReconcileResult Reconcile(const kube::ObjectKey& key) override;

 private:
  ApplicationReconcilerDeps deps_;
  SyncMemo memo_;
};

// The Applications (namespace/name) whose sourceRef names the GitRepository `repository`, from
// a list of Application objects: what the operator enqueues when an artifact moves.
std::vector<kube::ObjectKey> ApplicationsUsingSource(const std::vector<kube::Object>& applications,
                                                     const kube::ObjectKey& repository);

}  // namespace gantry::reconcilers
