#include "operator/rollout/status.h"

#include <fmt/format.h>

#include <algorithm>

#include "operator/api/conditions.h"
#include "operator/rollout/steps.h"

namespace gantry::rollout {
namespace {

using std::chrono::seconds;

bool IsCanary(const RolloutContext& ctx) { return ctx.rollout.spec.strategy.canary.has_value(); }

std::string PhaseName(api::RolloutPhase p) { return std::string(api::ToString(p)); }

int32_t MaxUnavailable(const RolloutContext& ctx) {
  if (!IsCanary(ctx)) return 0;
  const auto& c = *ctx.rollout.spec.strategy.canary;
  auto f = api::ResolveFenceposts(c.max_surge, c.max_unavailable, ctx.rollout.spec.replicas);
  return f.ok() ? static_cast<int32_t>(f->max_unavailable) : 0;
}

// Older ReplicaSets that still hold pods and are not simply waiting out a scale-down delay.
bool OldPodsPending(RolloutContext& ctx) {
  for (const ReplicaSetInfo* rs : ctx.OlderRs()) {
    if (rs->scale_down_deadline) continue;
    if (rs->desired > 0 || rs->replicas > 0) return true;
  }
  // The previous stable side of a canary counts as old once the canary is stable.
  return false;
}

std::string PauseMessage(RolloutContext& ctx) {
  const api::RolloutStatus& st = ctx.rollout.status;
  if (st.pause_conditions.empty()) return "";
  const api::PauseReason reason = st.pause_conditions.front().reason;
  std::string msg(api::ToString(reason));
  if (reason == api::PauseReason::kCanaryPauseStep) {
    const auto& steps = StepsOf(ctx.rollout);
    const int64_t i = CurrentStepIndex(ctx.rollout);
    if (i < static_cast<int64_t>(steps.size())) {
      msg += fmt::format(": step {}/{} ({})", i + 1, steps.size(), StepDescription(steps[i]));
    }
  }
  return msg;
}

bool ProgressMade(const api::RolloutStatus& a, const api::RolloutStatus& b) {
  return a.current_pod_hash != b.current_pod_hash || a.stable_rs != b.stable_rs ||
         a.current_step_index != b.current_step_index || a.replicas != b.replicas ||
         a.updated_replicas != b.updated_replicas || a.ready_replicas != b.ready_replicas ||
         a.available_replicas != b.available_replicas ||
         a.blue_green.active_selector != b.blue_green.active_selector;
}

}  // namespace

PhaseVerdict DecidePhase(RolloutContext& ctx) {
  api::RolloutStatus& st = ctx.rollout.status;
  const int32_t replicas = ctx.Replicas();
  const ReplicaSetInfo* n = ctx.NewRs();
  const int64_t revision = n != nullptr ? n->revision : 0;
  if (st.abort) {
    std::string msg = ctx.pause.abort_message();
    if (msg.empty() && ctx.old_status.abort &&
        ctx.old_status.message.starts_with("RolloutAborted")) {
      return {api::RolloutPhase::kDegraded, "RolloutAborted", ctx.old_status.message};
    }
    if (msg.empty()) msg = fmt::format("Rollout aborted update to revision {}", revision);
    return {api::RolloutPhase::kDegraded, "RolloutAborted", "RolloutAborted: " + msg};
  }
  if (ctx.rollout.spec.paused) {
    return {api::RolloutPhase::kPaused, "PausedByUser", "Paused: spec.paused is true"};
  }
  if (!st.pause_conditions.empty()) {
    return {api::RolloutPhase::kPaused, std::string(api::ToString(st.pause_conditions[0].reason)),
            PauseMessage(ctx)};
  }
  const auto progressing = [](std::string m) {
    return PhaseVerdict{api::RolloutPhase::kProgressing, "ReplicaSetUpdated", std::move(m)};
  };
  if (IsCanary(ctx)) {
    if (st.stable_rs != st.current_pod_hash) {
      const auto& steps = StepsOf(ctx.rollout);
      const int64_t i = CurrentStepIndex(ctx.rollout);
      if (i < static_cast<int64_t>(steps.size())) {
        return progressing(
            fmt::format("step {}/{} ({})", i + 1, steps.size(), StepDescription(steps[i])));
      }
      return progressing("more replicas need to be updated");
    }
  } else {
    if (st.blue_green.active_selector != st.current_pod_hash) {
      return progressing("active service cutover pending");
    }
    if (st.stable_rs != st.current_pod_hash) {
      return progressing("waiting for post-promotion analysis");
    }
  }
  if (n == nullptr || n->desired != replicas || n->replicas != replicas) {
    return progressing("more replicas need to be updated");
  }
  if (n->available < replicas) {
    return progressing("updated replicas are still becoming available");
  }
  if (OldPodsPending(ctx)) return progressing("old replicas are pending termination");
  return {api::RolloutPhase::kHealthy, "RolloutCompleted",
          fmt::format("revision {} is stable with {} available replicas", revision, n->available)};
}

void FinishStatus(RolloutContext& ctx) {
  api::RolloutStatus& st = ctx.rollout.status;
  const api::Time now = ctx.now;
  const int64_t generation = ctx.rollout.metadata.generation;

  st.replicas = st.updated_replicas = st.ready_replicas = st.available_replicas = 0;
  for (const ReplicaSetInfo& rs : ctx.replica_sets) {
    st.replicas += rs.replicas;
    st.ready_replicas += rs.ready;
    st.available_replicas += rs.available;
  }
  if (const ReplicaSetInfo* n = ctx.NewRs()) st.updated_replicas = n->replicas;
  st.selector = ctx.rollout.spec.selector.ToString();
  st.observed_generation = generation;

  PhaseVerdict v = DecidePhase(ctx);

  // Progress deadline: only while progressing; pauses and aborts stop the clock.
  const api::Condition* old_progressing =
      api::FindCondition(ctx.old_status.conditions, kConditionProgressing);
  api::Time last_progress = now;
  // Set directly rather than through SetCondition: for Progressing, lastTransitionTime records
  // the last progress, which is what the deadline is measured from.
  const auto set_progressing = [&](std::string status, std::string reason, std::string message) {
    api::Condition c{std::string(kConditionProgressing),
                     std::move(status),
                     generation,
                     last_progress,
                     std::move(reason),
                     std::move(message),
                     nlohmann::json::object()};
    auto it = std::find_if(st.conditions.begin(), st.conditions.end(),
                           [](const api::Condition& x) { return x.type == kConditionProgressing; });
    if (it != st.conditions.end()) {
      *it = std::move(c);
    } else {
      st.conditions.push_back(std::move(c));
    }
  };
  if (v.phase == api::RolloutPhase::kProgressing) {
    const bool was_moving =
        old_progressing != nullptr && (old_progressing->reason == "ReplicaSetUpdated" ||
                                       old_progressing->reason == "ProgressDeadlineExceeded");
    if (was_moving && !ProgressMade(ctx.old_status, st) && old_progressing->last_transition_time) {
      last_progress = *old_progressing->last_transition_time;
    }
    const seconds deadline(std::max<int64_t>(ctx.rollout.spec.progress_deadline_seconds, 1));
    if (now - last_progress > deadline) {
      const ReplicaSetInfo* n = ctx.NewRs();
      const std::string msg =
          fmt::format("ReplicaSet {} has not progressed for {}s (progressDeadlineSeconds)",
                      n != nullptr ? n->name : ctx.current_hash, deadline.count());
      if (ctx.rollout.spec.progress_deadline_abort && !st.abort) {
        ctx.pause.AddAbort("ProgressDeadlineExceeded: " + msg);
        ctx.pause.ApplyTo(st, now);
        v = DecidePhase(ctx);
      } else if (!st.abort) {
        v = {api::RolloutPhase::kDegraded, "ProgressDeadlineExceeded",
             "ProgressDeadlineExceeded: " + msg};
      }
    }
    if (v.phase == api::RolloutPhase::kProgressing) {
      set_progressing(std::string(api::kConditionTrue), "ReplicaSetUpdated", v.message);
    } else if (v.reason == "ProgressDeadlineExceeded") {
      set_progressing(std::string(api::kConditionFalse), v.reason, v.message);
    }
  }
  switch (v.phase) {
    case api::RolloutPhase::kHealthy:
      api::SetCondition(
          st.conditions,
          {std::string(kConditionProgressing), std::string(api::kConditionTrue), generation,
           std::nullopt, "NewReplicaSetAvailable", v.message, nlohmann::json::object()},
          now);
      break;
    case api::RolloutPhase::kPaused:
      api::SetCondition(
          st.conditions,
          {std::string(kConditionProgressing), std::string(api::kConditionUnknown), generation,
           std::nullopt, "RolloutPaused", v.message, nlohmann::json::object()},
          now);
      break;
    case api::RolloutPhase::kDegraded:
      if (v.reason == "ProgressDeadlineExceeded") break;  // set above
      api::SetCondition(st.conditions,
                        {std::string(kConditionProgressing), std::string(api::kConditionFalse),
                         generation, std::nullopt, v.reason, v.message, nlohmann::json::object()},
                        now);
      break;
    case api::RolloutPhase::kProgressing:
      break;  // set above
  }

  const int32_t min_available = std::max(0, ctx.Replicas() - MaxUnavailable(ctx));
  const bool available = st.available_replicas >= min_available;
  api::SetCondition(
      st.conditions,
      {std::string(kConditionAvailable),
       std::string(available ? api::kConditionTrue : api::kConditionFalse), generation,
       std::nullopt, available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
       fmt::format("{} of {} replicas available (at least {} needed)", st.available_replicas,
                   ctx.Replicas(), min_available),
       nlohmann::json::object()},
      now);
  const bool paused = v.phase == api::RolloutPhase::kPaused;
  api::SetCondition(
      st.conditions,
      {std::string(kConditionPaused),
       std::string(paused ? api::kConditionTrue : api::kConditionFalse), generation, std::nullopt,
       paused ? v.reason : "RolloutResumed", paused ? v.message : "", nlohmann::json::object()},
      now);

  switch (v.phase) {
    case api::RolloutPhase::kHealthy:
      api::MarkReady(st.conditions, generation, v.reason, v.message, now);
      break;
    case api::RolloutPhase::kProgressing:
      api::MarkReconciling(st.conditions, generation, "Progressing", v.message, now);
      break;
    case api::RolloutPhase::kPaused:
      api::MarkReconciling(st.conditions, generation, "RolloutPaused", v.message, now);
      break;
    case api::RolloutPhase::kDegraded:
      api::MarkStalled(st.conditions, generation, v.reason, v.message, now);
      break;
  }

  const bool changed = !ctx.old_status.phase || *ctx.old_status.phase != v.phase;
  st.phase = v.phase;
  st.message = v.message;
  if (changed) {
    const std::string msg = fmt::format("Rollout is {}{}{}", PhaseName(v.phase),
                                        v.message.empty() ? "" : ": ", v.message);
    const std::string reason = "Rollout" + PhaseName(v.phase);
    if (v.phase == api::RolloutPhase::kDegraded) {
      ctx.Warning(reason, msg);
    } else {
      ctx.Normal(reason, msg);
    }
  }
}

}  // namespace gantry::rollout
