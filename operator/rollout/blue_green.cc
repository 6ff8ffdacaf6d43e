#include "operator/rollout/blue_green.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "operator/rollout/analysis.h"
#include "operator/rollout/service.h"
#include "operator/rollout/sync.h"

namespace gantry::rollout {
namespace {

using std::chrono::seconds;

constexpr std::string_view kActiveField = "spec.strategy.blueGreen.activeService";
constexpr std::string_view kPreviewField = "spec.strategy.blueGreen.previewService";

const api::BlueGreenStrategy& BlueGreenOf(const RolloutContext& ctx) {
  return *ctx.rollout.spec.strategy.blue_green;
}

// A new template starts over; returns true for the very first template of the Rollout.
bool SyncRevision(RolloutContext& ctx) {
  api::RolloutStatus& st = ctx.rollout.status;
  const bool initial = st.stable_rs.empty() && st.blue_green.active_selector.empty();
  if (ctx.old_status.current_pod_hash != ctx.current_hash) {
    const ReplicaSetInfo* n = ctx.NewRs();
    const int64_t revision = n != nullptr ? n->revision : 0;
    if (!initial) {
      ctx.pause.ClearPauses();
      ctx.pause.ConsumeResume();
      ctx.pause.RemoveAbort();
      st.promote_full = false;
      st.blue_green.pre_promotion_analysis_run_status.reset();
      st.blue_green.post_promotion_analysis_run_status.reset();
      st.blue_green.scale_up_preview_check_point = false;
    }
    ctx.Normal(
        "RolloutUpdated",
        initial ? fmt::format("Initial revision {} ({}) goes active without a preview", revision,
                              ctx.current_hash)
                : fmt::format("Rollout updated to revision {} ({})", revision, ctx.current_hash));
  }
  st.current_pod_hash = ctx.current_hash;
  return initial;
}

// Deadline-driven scale-down of ReplicaSets the Rollout no longer serves traffic from.
Status ScaleDownOthers(RolloutContext& ctx, const std::set<std::string>& in_use) {
  for (ReplicaSetInfo& rs : ctx.replica_sets) {
    if (in_use.contains(rs.hash)) continue;
    if (rs.desired == 0 || !rs.scale_down_deadline) {
      // Never active (an abandoned preview) or already down: nothing to drain.
      GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, rs, 0));
      continue;
    }
    if (ctx.now < *rs.scale_down_deadline) {
      ctx.RequeueAfter(*rs.scale_down_deadline - ctx.now);
      continue;
    }
    GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, rs, 0));
  }
  return Status::Ok();
}

Status HandleAbort(RolloutContext& ctx) {
  api::RolloutStatus& st = ctx.rollout.status;
  const api::BlueGreenStrategy& bg = BlueGreenOf(ctx);
  std::set<std::string> in_use = {ctx.current_hash};
  ReplicaSetInfo* stable = ctx.StableRs();
  ReplicaSetInfo* green = ctx.NewRs();
  if (stable != nullptr && stable->hash != ctx.current_hash) {
    in_use.insert(stable->hash);
    GANTRY_RETURN_IF_ERROR(ClearScaleDownDeadline(ctx, *stable));
    GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *stable, ctx.Replicas()));
    if (st.blue_green.active_selector != stable->hash) {
      // Traffic first: back to what was stable.
      GANTRY_RETURN_IF_ERROR(PointServiceAt(ctx, bg.active_service, stable->hash, kActiveField));
      st.blue_green.active_selector = stable->hash;
    }
    if (green != nullptr) {
      const Clock::TimePoint aborted_at = ctx.old_status.aborted_at.value_or(ctx.now);
      const Clock::TimePoint deadline = aborted_at + seconds(bg.abort_scale_down_delay_seconds);
      if (ctx.now >= deadline) {
        GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *green, 0));
      } else {
        ctx.RequeueAfter(deadline - ctx.now);
      }
    }
  }
  st.blue_green.pre_promotion_analysis_run_status.reset();
  st.blue_green.post_promotion_analysis_run_status.reset();
  st.blue_green.scale_up_preview_check_point = false;
  GANTRY_RETURN_IF_ERROR(TerminateAnalysisRunsExcept(ctx, {}));
  return ScaleDownOthers(ctx, in_use);
}

// Whether promotion may happen now, keeping the pause bookkeeping. A user's resume stays
// unconsumed until the switch, so it survives the passes spent scaling green to full size.
bool PromotionGate(RolloutContext& ctx, bool initial) {
  const api::BlueGreenStrategy& bg = BlueGreenOf(ctx);
  if (initial || ctx.rollout.status.promote_full) return true;
  if (ctx.rollout.spec.paused) return false;
  const bool paused = ctx.pause.IsPausedFor(api::PauseReason::kBlueGreenPause);
  if (!bg.auto_promotion_enabled || bg.auto_promotion_seconds) {
    std::optional<Millis> wait;
    if (bg.auto_promotion_enabled) wait = seconds(*bg.auto_promotion_seconds);
    if (!paused) {
      if (ctx.old_status.controller_pause) return true;  // resumed by a user
      ctx.pause.AddPause(api::PauseReason::kBlueGreenPause);
      if (wait) ctx.RequeueAfter(*wait);
      return false;
    }
    PauseState::Progress p =
        ctx.pause.PauseProgress(api::PauseReason::kBlueGreenPause, wait, ctx.now);
    if (p.done) return true;
    if (p.remaining) ctx.RequeueAfter(*p.remaining);
    return false;
  }
  return true;
}

}  // namespace

Status ReconcileBlueGreen(RolloutContext& ctx) {
  const api::BlueGreenStrategy& bg = BlueGreenOf(ctx);
  api::RolloutStatus& st = ctx.rollout.status;
  const bool initial = SyncRevision(ctx);
  ReplicaSetInfo* green = ctx.NewRs();
  if (green == nullptr) return Internal("blue/green: the new ReplicaSet is missing");

  if (!bg.preview_service.empty()) {
    GANTRY_RETURN_IF_ERROR(
        PointServiceAt(ctx, bg.preview_service, ctx.current_hash, kPreviewField));
    st.blue_green.preview_selector = ctx.current_hash;
  }
  if (ctx.pause.IsAborted()) return HandleAbort(ctx);

  const int32_t replicas = ctx.Replicas();
  std::set<std::string> in_use = {ctx.current_hash};
  std::set<std::string> keep_runs;
  bool promoted = st.blue_green.active_selector == ctx.current_hash;

  if (!promoted) {
    ReplicaSetInfo* active = ctx.FindRs(st.blue_green.active_selector);
    if (active != nullptr) {
      // Blue keeps serving at full size until the switch.
      in_use.insert(active->hash);
      GANTRY_RETURN_IF_ERROR(ClearScaleDownDeadline(ctx, *active));
      GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *active, replicas));
    }
    const int32_t preview_target =
        initial ? replicas
                : static_cast<int32_t>(std::clamp<int64_t>(
                      bg.preview_replica_count.value_or(replicas), 0, replicas));
    const bool preview_ready =
        green->desired >= preview_target && green->available >= preview_target;
    bool pre_ok = initial || st.promote_full || !bg.pre_promotion_analysis;
    if (preview_ready) st.blue_green.scale_up_preview_check_point = true;
    if (!pre_ok && preview_ready) {
      Result<AnalysisVerdict> v =
          ReconcileAnalysis(ctx, AnalysisKind::kPrePromotion, *bg.pre_promotion_analysis,
                            std::nullopt, st.blue_green.pre_promotion_analysis_run_status);
      if (!v.ok()) return v.status();
      keep_runs.insert(st.blue_green.pre_promotion_analysis_run_status->name);
      pre_ok = *v == AnalysisVerdict::kSuccessful;
    }
    const bool go =
        preview_ready && pre_ok && !ctx.pause.IsAborted() && PromotionGate(ctx, initial);
    GANTRY_RETURN_IF_ERROR(ClearScaleDownDeadline(ctx, *green));
    GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *green, go ? replicas : preview_target));
    if (go && green->desired == replicas && green->available >= replicas) {
      const std::string previous = st.blue_green.active_selector;
      GANTRY_RETURN_IF_ERROR(
          PointServiceAt(ctx, bg.active_service, ctx.current_hash, kActiveField));
      st.blue_green.active_selector = ctx.current_hash;
      st.blue_green.scale_down_delay_start_time = ctx.now;
      st.blue_green.scale_up_preview_check_point = false;
      ctx.pause.RemovePause(api::PauseReason::kBlueGreenPause);
      ctx.pause.ConsumeResume();
      if (ReplicaSetInfo* old = ctx.FindRs(previous); old != nullptr && old != green) {
        GANTRY_RETURN_IF_ERROR(
            SetScaleDownDeadline(ctx, *old, ctx.now + seconds(bg.scale_down_delay_seconds)));
      }
      ctx.Normal("RolloutPromoted",
                 fmt::format("Promoted revision {} ({}): {} now serves {}", green->revision,
                             ctx.current_hash, bg.active_service, ctx.current_hash));
      promoted = true;
    }
  }

  if (promoted) {
    GANTRY_RETURN_IF_ERROR(ClearScaleDownDeadline(ctx, *green));
    GANTRY_RETURN_IF_ERROR(ScaleReplicaSet(ctx, *green, replicas));
    // The active Service may have been edited by hand; keep it on green.
    GANTRY_RETURN_IF_ERROR(PointServiceAt(ctx, bg.active_service, ctx.current_hash, kActiveField));
    if (st.stable_rs != ctx.current_hash) {
      // Until green is stable, blue stays up so that an abort can switch back at once.
      if (ReplicaSetInfo* stable = ctx.StableRs()) in_use.insert(stable->hash);
      bool post_ok = initial || st.promote_full || !bg.post_promotion_analysis;
      if (!post_ok) {
        Result<AnalysisVerdict> v =
            ReconcileAnalysis(ctx, AnalysisKind::kPostPromotion, *bg.post_promotion_analysis,
                              std::nullopt, st.blue_green.post_promotion_analysis_run_status);
        if (!v.ok()) return v.status();
        keep_runs.insert(st.blue_green.post_promotion_analysis_run_status->name);
        post_ok = *v == AnalysisVerdict::kSuccessful;
      }
      if (post_ok && !ctx.pause.IsAborted()) {
        st.stable_rs = ctx.current_hash;
        st.promote_full = false;
        ctx.Normal("RolloutCompleted", fmt::format("Rollout completed: revision {} ({}) is stable",
                                                   green->revision, ctx.current_hash));
      }
    }
  }
  GANTRY_RETURN_IF_ERROR(TerminateAnalysisRunsExcept(ctx, keep_runs));
  GANTRY_RETURN_IF_ERROR(ScaleDownOthers(ctx, in_use));
  return PruneHistory(ctx);
}

}  // namespace gantry::rollout
