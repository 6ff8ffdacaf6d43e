// The Rollout controller: rollout::SyncRollout behind the controller::Reconciler contract, and
// its wiring into the operator.
//
//   Rollout informer -------------------------------------------> rollout queue
//   ReplicaSet changed (controller ownerReference to a Rollout) -> the owner's key
//   AnalysisRun changed (label gantry.io/rollout) --------------> that Rollout's key
//   Service added, deleted or its selector changed -------------> every Rollout naming it
//                                                                 (index on the Rollouts)
//
// Passes read the Rollout, its ReplicaSets, AnalysisRuns and Services from these informers'
// caches (rollout/reader.h); only writes reach the API server. A Rollout at rest therefore
// costs nothing between resyncs, and a resync of it reads nothing from the server and, its
// status being unchanged, writes nothing. A hand edit of a Service's selector comes back
// through the Service watch and is put back at once; a settled Rollout is still looked at
// every few minutes, for what no watch covers (a router's weights).
// Reconcile is called from several workers at once, never twice at once for one Rollout.
#pragma once

#include <memory>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/controller/manager.h"
#include "operator/controller/reconciler.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/kube_client.h"
#include "operator/rollout/metrics.h"
#include "operator/rollout/reader.h"

namespace gantry::reconcilers {

class RolloutReconciler final : public controller::Reconciler {
 public:
  // All collaborators must outlive the reconciler.
  // `reader` serves the passes' reads; null reads everything from the API server.
  RolloutReconciler(kube::KubeClient& client, kube::EventRecorder& events, Clock& clock,
                    rollout::RolloutMetrics& metrics, rollout::ObjectReader* reader = nullptr);
  RolloutReconciler(const RolloutReconciler&) = delete;
  RolloutReconciler& operator=(const RolloutReconciler&) = delete;

  // controller::Reconciler
  controller::ReconcileResult Reconcile(const kube::ObjectKey& key) override;

 private:
  kube::KubeClient& client_;
  kube::EventRecorder& events_;
  Clock& clock_;
  rollout::RolloutMetrics& metrics_;
  rollout::ObjectReader* reader_;
};

// Keeps the Rollout controller's parts alive; destroy after Manager::Run returned.
class RolloutController {
 public:
  virtual ~RolloutController() = default;
};

// Registers the Rollout controller, its informers and metrics with `manager`. Call once,
// before Manager::Run, from the thread that sets up the manager.
Result<std::unique_ptr<RolloutController>> SetUpRolloutController(controller::Manager& manager);

}  // namespace gantry::reconcilers
