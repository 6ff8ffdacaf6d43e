// The summary half of a pass: what the new status says about the Rollout as a whole.
//
// After the strategy has decided and the pause intents are applied, this fills the replica
// counts and selector (the scale subresource reads status.replicas and status.selector, which
// is how an HPA scales a Rollout), the phase and message, and the conditions:
//   Progressing  True/ReplicaSetUpdated while moving (its lastTransitionTime is the time of the
//                last progress, as a Deployment's lastUpdateTime), True/NewReplicaSetAvailable
//                when done, Unknown/RolloutPaused while paused, False/RolloutAborted,
//                False/ProgressDeadlineExceeded after progressDeadlineSeconds without progress
//   Available    True when at least replicas - maxUnavailable pods are available
//   Paused       True while paused (spec.paused or a pause condition)
//   Ready / Reconciling / Stalled  the kstatus view (api/conditions.h): Healthy is Ready,
//                Progressing and Paused are Reconciling, Degraded is Stalled (a user must act:
//                retry, a new template, or a fix)
// It also enforces progressDeadlineSeconds: with progressDeadlineAbort the Rollout aborts.
// And it records an Event for every phase change.
#pragma once

#include <string>

#include "operator/api/rollout.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

inline constexpr std::string_view kConditionProgressing = "Progressing";
inline constexpr std::string_view kConditionAvailable = "Available";
inline constexpr std::string_view kConditionPaused = "Paused";

// What the phase is and why, from the state at the end of a pass.
struct PhaseVerdict {
  api::RolloutPhase phase = api::RolloutPhase::kProgressing;
  std::string reason;   // CamelCase, for conditions: RolloutCompleted, CanaryPauseStep, ...
  std::string message;  // for status.message: "<reason>: <details>" or details only
};

// Decides the phase of the new status in ctx (after PauseState::ApplyTo). Pure apart from
// reading ctx.
PhaseVerdict DecidePhase(RolloutContext& ctx);

// Fills counts, selector, phase, message, conditions and observedGeneration of
// ctx.rollout.status; applies the progress deadline (may add an abort and re-apply the pause
// intents); records phase-change events.
void FinishStatus(RolloutContext& ctx);

}  // namespace gantry::rollout
