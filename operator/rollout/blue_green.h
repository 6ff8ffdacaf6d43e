// The blue/green strategy.
//
// The new ReplicaSet (green) comes up beside the active one (blue) behind previewService, at
// previewReplicaCount pods if set. Once it is ready, prePromotionAnalysis runs; then promotion
// waits for a user (autoPromotionEnabled: false, `gantry rollout promote`), for
// autoPromotionSeconds, or for nothing. Promotion scales green to full size and switches
// activeService to it in one write; postPromotionAnalysis then decides whether green becomes
// stable. The previous active ReplicaSet stays up for scaleDownDelaySeconds after the switch
// (and until post-promotion analysis passed), so that clients and load balancers still talking
// to it drain and an abort can switch back at once.
//
// An abort (user, failed analysis, progress deadline) points activeService back at the stable
// ReplicaSet if it had moved, and scales green down after abortScaleDownDelaySeconds.
// Every decision lands in ctx.rollout.status / ctx.pause; the caller writes status once.
#pragma once

#include "operator/common/status.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

// Precondition: ctx.rollout has a blueGreen strategy; LoadReplicaSets and LoadAnalysisRuns ran.
Status ReconcileBlueGreen(RolloutContext& ctx);

}  // namespace gantry::rollout
