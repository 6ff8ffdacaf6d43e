#include "operator/rollout/steps.h"

#include <fmt/format.h>

#include <algorithm>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {

const std::vector<api::CanaryStep>& StepsOf(const api::Rollout& rollout) {
  static const std::vector<api::CanaryStep> kNone;
  const auto& canary = rollout.spec.strategy.canary;
  return canary ? canary->steps : kNone;
}

int64_t CurrentStepIndex(const api::Rollout& rollout) {
  const int64_t count = static_cast<int64_t>(StepsOf(rollout).size());
  return std::clamp<int64_t>(rollout.status.current_step_index.value_or(0), 0, count);
}

const api::CanaryStep* CurrentStep(const api::Rollout& rollout) {
  const auto& steps = StepsOf(rollout);
  const int64_t index = CurrentStepIndex(rollout);
  return index < static_cast<int64_t>(steps.size()) ? &steps[index] : nullptr;
}

int32_t CurrentSetWeight(const api::Rollout& rollout) {
  const auto& steps = StepsOf(rollout);
  const int64_t index = CurrentStepIndex(rollout);
  if (index >= static_cast<int64_t>(steps.size())) return 100;
  for (int64_t i = index; i >= 0; --i) {
    if (steps[i].set_weight)
      return static_cast<int32_t>(std::clamp<int64_t>(*steps[i].set_weight, 0, 100));
  }
  return 0;
}

std::optional<api::SetCanaryScale> CurrentCanaryScale(const api::Rollout& rollout) {
  const auto& canary = rollout.spec.strategy.canary;
  if (!canary || !canary->traffic_routing) return std::nullopt;
  const auto& steps = canary->steps;
  const int64_t index = CurrentStepIndex(rollout);
  if (index >= static_cast<int64_t>(steps.size())) return std::nullopt;
  for (int64_t i = index; i >= 0; --i) {
    if (!steps[i].set_canary_scale) continue;
    if (steps[i].set_canary_scale->match_traffic_weight) return std::nullopt;
    return steps[i].set_canary_scale;
  }
  return std::nullopt;
}

bool BeforeStartingStep(const api::Rollout& rollout) {
  const auto& canary = rollout.spec.strategy.canary;
  if (!canary || !canary->analysis || !canary->analysis->starting_step) return false;
  return CurrentStepIndex(rollout) < *canary->analysis->starting_step;
}

std::string ComputeStepHash(const api::Rollout& rollout) {
  const auto& canary = rollout.spec.strategy.canary;
  if (!canary) return "";
  const nlohmann::json json = rollout.ToJson();
  const nlohmann::json steps =
      json["spec"]["strategy"]["canary"].value("steps", nlohmann::json::array());
  return SafeEncodeString(std::to_string(Fnv32a(steps.dump())));
}

std::string StepDescription(const api::CanaryStep& step) {
  if (step.set_weight) return fmt::format("setWeight: {}", *step.set_weight);
  if (step.pause) {
    auto d = step.pause->Duration();
    if (d.ok() && d->has_value()) return fmt::format("pause: {}", FormatDuration(**d));
    return "pause";
  }
  if (step.analysis) {
    std::string names;
    for (const auto& t : step.analysis->templates) {
      if (!names.empty()) names += ",";
      names += t.template_name;
    }
    return fmt::format("analysis: {}", names);
  }
  if (step.set_canary_scale) {
    const auto& s = *step.set_canary_scale;
    if (s.replicas) return fmt::format("setCanaryScale: {} replicas", *s.replicas);
    if (s.weight) return fmt::format("setCanaryScale: {}%", *s.weight);
    return "setCanaryScale: matchTrafficWeight";
  }
  return "unknown step";
}

}  // namespace gantry::rollout
