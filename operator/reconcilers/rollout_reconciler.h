// The Rollout controller: rollout::SyncRollout behind the controller::Reconciler contract, and
// its wiring into the operator.
//
//   Rollout informer -------------------------------------------> rollout queue
//   ReplicaSet changed (controller ownerReference to a Rollout) -> the owner's key
//   AnalysisRun changed (label gantry.io/rollout) --------------> that Rollout's key
//
// A Rollout that is moving asks to be looked at again soon (pods, pauses, delays); a settled
// one every few minutes, so that a hand-edited Service selector or router weight is put back.
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

namespace gantry::reconcilers {

class RolloutReconciler final : public controller::Reconciler {
 public:
  // All collaborators must outlive the reconciler.
  RolloutReconciler(kube::KubeClient& client, kube::EventRecorder& events, Clock& clock,
                    rollout::RolloutMetrics& metrics);
  RolloutReconciler(const RolloutReconciler&) = delete;
  RolloutReconciler& operator=(const RolloutReconciler&) = delete;

  // controller::Reconciler
  controller::ReconcileResult Reconcile(const kube::ObjectKey& key) override;

 private:
  kube::KubeClient& client_;
  kube::EventRecorder& events_;
  Clock& clock_;
  rollout::RolloutMetrics& metrics_;
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
