#include "operator/rollout/canary.h"

#include <fmt/format.h>

#include <algorithm>

#include "operator/rollout/analysis.h"
#include "operator/rollout/replica_math.h"
#include "operator/rollout/service.h"
#include "operator/rollout/steps.h"
#include "operator/rollout/sync.h"
#include "operator/rollout/traffic_router.h"

namespace gantry::rollout {
namespace {

using std::chrono::seconds;

const api::CanaryStrategy& CanaryOf(const RolloutContext& ctx) {
  return *ctx.rollout.spec.strategy.canary;
}

int32_t StepCount(const RolloutContext& ctx) {
  return static_cast<int32_t>(CanaryOf(ctx).steps.size());
}

// The stable ReplicaSet when it exists and is not the canary itself.
ReplicaSetInfo* SeparateStable(RolloutContext& ctx) {
  ReplicaSetInfo* stable = ctx.StableRs();
  return stable != nullptr && stable->hash != ctx.current_hash ? stable : nullptr;
}

// Step 1: a new template or new steps start over.
void SyncRevision(RolloutContext& ctx) {
  api::RolloutStatus& st = ctx.rollout.status;
  const std::string step_hash = ComputeStepHash(ctx.rollout);
  const bool template_changed = ctx.old_status.current_pod_hash != ctx.current_hash;
  const bool steps_changed = ctx.old_status.current_step_hash != step_hash;
  const ReplicaSetInfo* new_rs = ctx.NewRs();
  const int64_t revision = new_rs != nullptr ? new_rs->revision : 0;

  if (st.stable_rs.empty()) {
    // The first template of a Rollout has nothing to be careful about: it becomes stable and
    // scales up as a plain rolling update.
    st.stable_rs = ctx.current_hash;
    st.current_pod_hash = ctx.current_hash;
    st.current_step_hash = step_hash;
    if (StepCount(ctx) > 0) st.current_step_index = StepCount(ctx);
    ctx.Normal("RolloutUpdated",
               fmt::format("Initial revision {} ({}) becomes stable", revision, ctx.current_hash));
    return;
  }
  if (!template_changed && !steps_changed) return;

  st.current_pod_hash = ctx.current_hash;
  st.current_step_hash = step_hash;
  st.promote_full = false;
  st.canary.current_step_analysis_run_status.reset();
  st.canary.current_background_analysis_run_status.reset();
  ctx.pause.ClearPauses();
  ctx.pause.RemoveAbort();
  if (StepCount(ctx) > 0) {
    st.current_step_index = 0;
  } else {
    st.current_step_index.reset();
  }
  if (template_changed) {
    ctx.Normal("RolloutUpdated",
               fmt::format("Rollout updated to revision {} ({})", revision, ctx.current_hash));
  } else {
    ctx.Normal("RolloutStepsChanged", "Canary steps changed: starting over at step 1");
  }
  if (st.stable_rs == ctx.current_hash && StepCount(ctx) > 0) {
    // Back to what already runs as stable: nothing to try out.
    st.current_step_index = StepCount(ctx);
    ctx.Normal("SkipSteps", "Rollback to the stable ReplicaSet: skipping the steps");
  }
}

// Step 2.
Status SyncServices(RolloutContext& ctx) {
  const api::CanaryStrategy& c = CanaryOf(ctx);
  const std::string stable_hash =
      ctx.StableRs() != nullptr ? ctx.rollout.status.stable_rs : ctx.current_hash;
  if (!c.stable_service.empty()) {
    GANTRY_RETURN_IF_ERROR(
        PointServiceAt(ctx, c.stable_service, stable_hash, "spec.strategy.canary.stableService"));
  }
  if (!c.canary_service.empty()) {
    GANTRY_RETURN_IF_ERROR(PointServiceAt(ctx, c.canary_service, ctx.current_hash,
                                          "spec.strategy.canary.canaryService"));
  }
  return Status::Ok();
}

bool Promoted(const RolloutContext& ctx) {
  return ctx.rollout.status.stable_rs == ctx.current_hash;
}

// Step 3.
Status SyncAnalysis(RolloutContext& ctx) {
  std::set<std::string> keep;
  api::RolloutStatus& st = ctx.rollout.status;
  if (!ctx.pause.IsAborted() && !Promoted(ctx)) {
    const api::CanaryStrategy& c = CanaryOf(ctx);
    if (c.analysis && !c.analysis->templates.empty() && !BeforeStartingStep(ctx.rollout)) {
      Result<AnalysisVerdict> v =
          ReconcileAnalysis(ctx, AnalysisKind::kBackground, *c.analysis, std::nullopt,
                            st.canary.current_background_analysis_run_status);
      if (!v.ok()) return v.status();
      keep.insert(st.canary.current_background_analysis_run_status->name);
    }
    const api::CanaryStep* step = CurrentStep(ctx.rollout);
    if (step != nullptr && step->analysis && !ctx.pause.IsAborted()) {
      Result<AnalysisVerdict> v = ReconcileAnalysis(ctx, AnalysisKind::kStep, *step->analysis,
                                                    CurrentStepIndex(ctx.rollout),
                                                    st.canary.current_step_analysis_run_status);
      if (!v.ok()) return v.status();
      keep.insert(st.canary.current_step_analysis_run_status->name);
    }
  }
  return TerminateAnalysisRunsExcept(ctx, keep);
}

CanaryScaleInput ScaleInput(RolloutContext& ctx, const Fenceposts& f) {
  CanaryScaleInput in;
  in.replicas = ctx.Replicas();
  in.fenceposts = f;
  in.traffic_routed = ctx.router != nullptr;
  if (const ReplicaSetInfo* n = ctx.NewRs()) in.canary = ReplicaCounts{n->desired, n->available};
  if (const ReplicaSetInfo* s = SeparateStable(ctx)) {
    in.stable = ReplicaCounts{s->desired, s->available};
  }
  for (const ReplicaSetInfo* o : ctx.OlderRs()) {
    in.others.desired += o->desired;
    in.others.available += o->available;
  }
  if (ctx.pause.IsAborted()) {
    in.weight = 0;
  } else if (ctx.rollout.status.promote_full || CurrentStep(ctx.rollout) == nullptr) {
    in.weight = 100;
  } else if (auto scale = CurrentCanaryScale(ctx.rollout)) {
    if (scale->replicas) {
      in.canary_replicas = static_cast<int32_t>(*scale->replicas);
    } else {
      in.weight = static_cast<int32_t>(scale->weight.value_or(0));
    }
  } else {
    in.weight = CurrentSetWeight(ctx.rollout);
  }
  return in;
}

Result<Fenceposts> FencepostsOf(const RolloutContext& ctx) {
  const api::CanaryStrategy& c = CanaryOf(ctx);
  Result<api::Fenceposts> f =
      api::ResolveFenceposts(c.max_surge, c.max_unavailable, ctx.rollout.spec.replicas);
  if (!f.ok()) {
    return f.status().WithContext(fmt::format("Rollout {}: spec.strategy.canary", ctx.Key()));
  }
  return ResolveFenceposts(
      static_cast<int32_t>(std::clamp<int64_t>(f->max_surge, 0, INT32_MAX)),
      static_cast<int32_t>(std::clamp<int64_t>(f->max_unavailable, 0, INT32_MAX)), ctx.Replicas());
}

// True when the canary and stable ReplicaSets have the counts of the current step, all ready,
// and (without a router) no older pods still take traffic.
bool AtDesiredCounts(RolloutContext& ctx, const Fenceposts& f) {
  const CanaryScaleInput in = ScaleInput(ctx, f);
  const CanaryReplicas want = DesiredCanaryReplicas(in);
  const ReplicaSetInfo* n = ctx.NewRs();
  if (n == nullptr || n->desired != want.canary || n->available != want.canary) return false;
  if (ctx.router != nullptr) return true;
  if (const ReplicaSetInfo* s = SeparateStable(ctx)) {
    if (s->desired != want.stable || s->available != want.stable) return false;
  }
  return in.others.available == 0;
}

// Step 4.
Status SyncTraffic(RolloutContext& ctx) {
  if (ctx.router == nullptr) return Status::Ok();
  const int32_t weight = DesiredCanaryWeight(ctx);
  Result<bool> wrote = ctx.router->SetWeight(weight);
  if (!wrote.ok()) return wrote.status();
  Result<bool> verified = ctx.router->VerifyWeight(weight);
  if (!verified.ok()) return verified.status();
  ctx.weight_set = weight;
  ctx.weight_verified = *verified;
  const api::CanaryStrategy& c = CanaryOf(ctx);
  api::TrafficWeights w;
  w.canary = {weight, ctx.current_hash, c.canary_service, nlohmann::json::object()};
  const std::string stable_hash =
      ctx.StableRs() != nullptr ? ctx.rollout.status.stable_rs : ctx.current_hash;
  w.stable = {100 - weight, stable_hash, c.stable_service, nlohmann::json::object()};
  w.verified = *verified;
  ctx.rollout.status.canary.weights = std::move(w);
  if (*wrote) {
    ctx.Normal("TrafficWeightUpdated",
               fmt::format("Traffic weight set to {}% canary, {}% stable via {}", weight,
                           100 - weight, ctx.router->Name()));
  }
  return Status::Ok();
}

// Older ReplicaSets: out of the way within the availability budget, or, when they are out of
// traffic already (router, or a deadline set earlier), after their scale-down delay.
Status ScaleDownOlder(RolloutContext& ctx, const Fenceposts& f) {
  int32_t total_available = 0;
  for (const ReplicaSetInfo& rs : ctx.replica_sets) total_available += rs.available;
  int32_t budget = OldReplicaSetScaleDownBudget(ctx.Replicas(), f, total_available);
  std::vector<ReplicaSetInfo*> older = ctx.OlderRs();
  std::sort(older.begin(), older.end(), [](const ReplicaSetInfo* a, const ReplicaSetInfo* b) {
    return a->revision < b->revision;
  });
  const seconds delay(CanaryOf(ctx).scale_down_delay_seconds);
  for (ReplicaSetInfo* rs : older) {
    if (rs->desired == 0) {
      GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *rs, 0));  // clears a stale deadline
      continue;
    }
    if (ctx.router != nullptr || rs->scale_down_deadline) {
      if (!rs->scale_down_deadline && delay > seconds(0)) {
        GANTRY_RETURN_IF_ERROR(SetScaleDownDeadline(ctx, *rs, ctx.now + delay));
      }
      if (rs->scale_down_deadline && ctx.now < *rs->scale_down_deadline) {
        ctx.RequeueAfter(*rs->scale_down_deadline - ctx.now);
        continue;
      }
      GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *rs, 0));
      continue;
    }
    // Unready pods can go without costing availability.
    const int32_t unavailable = std::max(0, rs->desired - rs->available);
    const int32_t remove = std::min(rs->desired, unavailable + budget);
    if (remove <= 0) continue;
    budget -= std::max(0, remove - unavailable);
    GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *rs, rs->desired - remove));
  }
  return Status::Ok();
}

// Step 5.
Status SyncReplicaSets(RolloutContext& ctx) {
  Result<Fenceposts> f = FencepostsOf(ctx);
  if (!f.ok()) return f.status();
  ReplicaSetInfo* new_rs = ctx.NewRs();
  ReplicaSetInfo* stable = SeparateStable(ctx);
  if (new_rs != nullptr) GANTRY_RETURN_IF_ERROR(ClearScaleDownDeadline(ctx, *new_rs));
  if (stable != nullptr) GANTRY_RETURN_IF_ERROR(ClearScaleDownDeadline(ctx, *stable));

  CanaryReplicas next = NextCanaryReplicas(ScaleInput(ctx, *f));
  if (ctx.pause.IsAborted() && ctx.router != nullptr && new_rs != nullptr && stable != nullptr) {
    // Traffic is back on stable first (SyncTraffic ran); the canary's pods stay until the
    // abort delay has passed, so requests in flight to them can finish.
    const Clock::TimePoint aborted_at = ctx.old_status.aborted_at.value_or(ctx.now);
    const Clock::TimePoint deadline =
        aborted_at + seconds(CanaryOf(ctx).abort_scale_down_delay_seconds);
    const bool traffic_on_stable = ctx.weight_set == 0 && ctx.weight_verified;
    if (!traffic_on_stable || ctx.now < deadline) {
      next.canary = new_rs->desired;
      if (ctx.now < deadline) ctx.RequeueAfter(deadline - ctx.now);
    } else {
      next.canary = 0;
    }
    next.stable = ctx.Replicas();
  }
  if (stable != nullptr) GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *stable, next.stable));
  if (new_rs != nullptr) GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *new_rs, next.canary));
  return ScaleDownOlder(ctx, *f);
}

// Step 6.
Status SyncSteps(RolloutContext& ctx) {
  api::RolloutStatus& st = ctx.rollout.status;
  const int32_t count = StepCount(ctx);
  if (ctx.pause.IsAborted()) {
    // A retry starts from the first step again, with fresh analysis runs.
    if (count > 0 && !Promoted(ctx)) st.current_step_index = 0;
    st.canary.current_step_analysis_run_status.reset();
    st.canary.current_background_analysis_run_status.reset();
    return Status::Ok();
  }
  if (st.promote_full && Promoted(ctx)) st.promote_full = false;
  if (st.promote_full && !Promoted(ctx)) {
    ctx.pause.ClearPauses();
    ctx.pause.ConsumeResume();
    if (count > 0) st.current_step_index = count;
  }
  Result<Fenceposts> f = FencepostsOf(ctx);
  if (!f.ok()) return f.status();

  const api::CanaryStep* step = CurrentStep(ctx.rollout);
  if (step != nullptr && !ctx.rollout.spec.paused) {
    bool done = false;
    if (step->set_weight || step->set_canary_scale) {
      done = !ctx.scaled && AtDesiredCounts(ctx, *f);
      if (done && step->set_weight && ctx.router != nullptr) {
        done = ctx.weight_set == static_cast<int32_t>(*step->set_weight) && ctx.weight_verified;
      }
    } else if (step->pause) {
      Result<std::optional<Millis>> duration = step->pause->Duration();
      if (!duration.ok()) {
        return duration.status().WithContext(fmt::format("Rollout {}: steps[{}].pause.duration",
                                                         ctx.Key(), CurrentStepIndex(ctx.rollout)));
      }
      if (!ctx.pause.IsPausedFor(api::PauseReason::kCanaryPauseStep)) {
        if (ctx.old_status.controller_pause) {
          done = true;  // promoted while paused here
          ctx.pause.ConsumeResume();
        } else {
          ctx.pause.AddPause(api::PauseReason::kCanaryPauseStep);
          if (*duration) ctx.RequeueAfter(**duration);
        }
      } else {
        PauseState::Progress p =
            ctx.pause.PauseProgress(api::PauseReason::kCanaryPauseStep, *duration, ctx.now);
        if (p.done) {
          done = true;
          ctx.pause.RemovePause(api::PauseReason::kCanaryPauseStep);
          ctx.pause.ConsumeResume();
        } else if (p.remaining) {
          ctx.RequeueAfter(*p.remaining);
        }
      }
    } else if (step->analysis) {
      const auto& tracked = st.canary.current_step_analysis_run_status;
      done = tracked && (tracked->status == api::AnalysisPhase::kSuccessful ||
                         (tracked->status == api::AnalysisPhase::kInconclusive &&
                          !ctx.pause.IsPausedFor(api::PauseReason::kInconclusiveAnalysisRun)));
    }
    if (done) {
      const int64_t index = CurrentStepIndex(ctx.rollout) + 1;
      st.current_step_index = index;
      st.canary.current_step_analysis_run_status.reset();
      ctx.Normal("RolloutStepCompleted",
                 fmt::format("Step {}/{} completed ({})", index, count, StepDescription(*step)));
      // The next step may be done at once (a setWeight already reached); look again soon
      // rather than waiting for the next change to come by.
      ctx.RequeueAfter(Clock::Duration::zero());
    }
  }

  // Every step done: the canary becomes stable once it is whole.
  if (CurrentStep(ctx.rollout) == nullptr && !Promoted(ctx)) {
    const ReplicaSetInfo* n = ctx.NewRs();
    const bool whole =
        n != nullptr && n->desired == ctx.Replicas() && n->available >= ctx.Replicas();
    const bool traffic_ok = ctx.router == nullptr ||
                            (ctx.weight_set == 100 && ctx.weight_verified) ||
                            SeparateStable(ctx) == nullptr;
    if (whole && traffic_ok) {
      st.stable_rs = ctx.current_hash;
      st.promote_full = false;
      st.canary.current_background_analysis_run_status.reset();
      ctx.Normal("RolloutCompleted",
                 fmt::format("Rollout completed: revision {} ({}) is stable with {} available "
                             "replicas",
                             n->revision, ctx.current_hash, n->available));
      ctx.RequeueAfter(Clock::Duration::zero());
    }
  }
  return Status::Ok();
}

}  // namespace

int32_t DesiredCanaryWeight(RolloutContext& ctx) {
  if (ctx.pause.IsAborted() || Promoted(ctx) || SeparateStable(ctx) == nullptr) return 0;
  const ReplicaSetInfo* n = ctx.NewRs();
  const int32_t previous = ctx.old_status.canary.weights
                               ? static_cast<int32_t>(std::clamp<int64_t>(
                                     ctx.old_status.canary.weights->canary.weight, 0, 100))
                               : 0;
  int32_t want = 100;
  int32_t canary_pods_needed = ctx.Replicas();
  if (!ctx.rollout.status.promote_full && CurrentStep(ctx.rollout) != nullptr) {
    want = CurrentSetWeight(ctx.rollout);
    Result<Fenceposts> f = FencepostsOf(ctx);
    if (f.ok()) canary_pods_needed = DesiredCanaryReplicas(ScaleInput(ctx, *f)).canary;
  }
  const int32_t available = n != nullptr ? n->available : 0;
  if (want > previous && available < canary_pods_needed) {
    // Not yet enough canary pods for more traffic: hold the weight where it was.
    return std::min(previous, want);
  }
  return want;
}

Status ReconcileCanary(RolloutContext& ctx) {
  SyncRevision(ctx);
  GANTRY_RETURN_IF_ERROR(SyncServices(ctx));
  GANTRY_RETURN_IF_ERROR(SyncAnalysis(ctx));
  GANTRY_RETURN_IF_ERROR(SyncTraffic(ctx));
  GANTRY_RETURN_IF_ERROR(SyncReplicaSets(ctx));
  GANTRY_RETURN_IF_ERROR(SyncSteps(ctx));
  return PruneHistory(ctx);
}

}  // namespace gantry::rollout
