// Reading a canary's steps: where the Rollout is, what weight and scale are in effect, and how a
// step is described in events and the CLI. Pure functions over api::Rollout; safe from any
// thread.
//
// status.currentStepIndex points at the step being worked on; it equals len(steps) once every
// step is done (and for a Rollout back on its stable template, which skips the steps). A missing
// index reads as 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "operator/api/rollout.h"

namespace gantry::rollout {

// The canary steps, or an empty list for a blue/green Rollout.
const std::vector<api::CanaryStep>& StepsOf(const api::Rollout& rollout);

// status.currentStepIndex clamped to [0, len(steps)].
int64_t CurrentStepIndex(const api::Rollout& rollout);

// The step at the current index, or nullptr when there are no steps or all are done.
const api::CanaryStep* CurrentStep(const api::Rollout& rollout);

// The traffic weight the steps ask for now: the last setWeight at or before the current step
// (0 if there is none yet), and 100 when every step is done or there are no steps.
int32_t CurrentSetWeight(const api::Rollout& rollout);

// The setCanaryScale in effect: the last one at or before the current step, unless it is
// matchTrafficWeight (then the canary follows the weight again). Only with a traffic router;
// nullopt otherwise.
std::optional<api::SetCanaryScale> CurrentCanaryScale(const api::Rollout& rollout);

// True while background analysis must not run yet: the Rollout has a startingStep and has not
// reached it.
bool BeforeStartingStep(const api::Rollout& rollout);

// A short hash of spec.strategy.canary.steps: a change to the steps restarts them, as a
// template change does.
std::string ComputeStepHash(const api::Rollout& rollout);

// "setWeight: 20", "pause: 30s", "pause", "analysis: success-rate", "setCanaryScale: 3
// replicas": how a step is named in events and `gantry rollout get`.
std::string StepDescription(const api::CanaryStep& step);

}  // namespace gantry::rollout
