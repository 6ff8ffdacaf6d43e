// The canary strategy (and the plain rolling update, a canary without steps).
//
// One pass, in order (each a sub-step of its own below, as in Argo Rollouts' canary.go):
//   1. a new template or new steps restart the steps (going back to the stable template skips
//      them); the first template of a Rollout becomes stable at once;
//   2. stableService and canaryService select the stable and the new ReplicaSet;
//   3. analysis: background analysis once startingStep is reached, the current analysis step;
//      a failed run aborts, an inconclusive one pauses;
//   4. traffic: the router gets the weight of the current step (0 when aborted or promoted);
//   5. ReplicaSets: stable and canary move toward the step's counts within maxSurge and
//      maxUnavailable (replica_math.h); older ones scale down (after scaleDownDelaySeconds when a
//      router keeps them out of traffic anyway); an aborted canary scales down after
//      abortScaleDownDelaySeconds once traffic is back on stable;
//   6. steps: the current step completes (counts reached and weight verified, pause over,
//      analysis successful) and the index moves on; after the last step the new ReplicaSet
//      becomes stable once it is fully available.
// Every decision lands in ctx.rollout.status / ctx.pause; the caller writes status once.
#pragma once

#include "operator/common/status.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

// Precondition: ctx.rollout has a canary strategy, LoadReplicaSets and LoadAnalysisRuns ran.
Status ReconcileCanary(RolloutContext& ctx);

// The traffic weight the canary should get now (0..100): 0 when aborted or when the canary is
// the stable ReplicaSet; the current step's weight once the canary has the pods for it (the
// weight before otherwise, so traffic never goes to pods that are not there); 100 after the
// last step once the canary is fully available.
int32_t DesiredCanaryWeight(RolloutContext& ctx);

}  // namespace gantry::rollout
