#include "operator/rollout/replica_math.h"

#include <algorithm>

namespace gantry::rollout {
namespace {

// ceil(replicas * weight / 100) in integers; weight is clamped to [0, 100].
int32_t PercentOfRoundedUp(int32_t replicas, int32_t weight) {
  weight = std::clamp(weight, 0, 100);
  const int64_t product = static_cast<int64_t>(replicas) * weight;
  return static_cast<int32_t>((product + 99) / 100);
}

// The replicas of `rs` that count as removable without losing availability. When the set is
// shrinking anyway (spec below available) only spec counts, so pods already on their way out
// are not spent twice. When `ignore_availability` is set, unready pods count too: the
// ReplicaSet controller deletes unready pods first, so removing them costs no availability, and
// counting them keeps a crash-looping side from blocking the rollout forever.
int32_t RemovableReplicas(const std::optional<ReplicaCounts>& rs, bool ignore_availability) {
  if (!rs) return 0;
  if (rs->desired < rs->available) return rs->desired;
  return ignore_availability ? rs->desired : rs->available;
}

}  // namespace

Fenceposts ResolveFenceposts(int32_t max_surge, int32_t max_unavailable, int32_t replicas) {
  replicas = std::max(replicas, 0);
  Fenceposts f;
  f.max_surge = std::clamp(max_surge, 0, std::max(replicas, 1));
  f.max_unavailable = std::clamp(max_unavailable, 0, replicas);
  if (f.max_surge == 0 && f.max_unavailable == 0) f.max_unavailable = 1;
  return f;
}

CanaryReplicas DesiredCanaryReplicas(const CanaryScaleInput& in) {
  const int32_t replicas = std::max(in.replicas, 0);
  if (!in.stable) return {replicas, 0};
  CanaryReplicas d;
  if (in.canary_replicas) {
    d.canary = std::max(*in.canary_replicas, 0);
    d.stable = replicas;
  } else {
    d.canary = PercentOfRoundedUp(replicas, in.weight);
    d.stable = PercentOfRoundedUp(replicas, 100 - std::clamp(in.weight, 0, 100));
  }
  if (in.traffic_routed) d.stable = replicas;
  return d;
}

CanaryReplicas NextCanaryReplicas(const CanaryScaleInput& in) {
  const int32_t replicas = std::max(in.replicas, 0);
  const CanaryReplicas desired = DesiredCanaryReplicas(in);
  if (in.traffic_routed && in.stable) {
    // The router decides who gets traffic; the canary is extra capacity next to a full stable.
    return desired;
  }

  CanaryReplicas next{in.canary ? in.canary->desired : 0, in.stable ? in.stable->desired : 0};

  int32_t surge = in.fenceposts.max_surge;
  // Both sides round up when the weight does not divide evenly, which needs one extra pod.
  if (in.stable && !in.canary_replicas &&
      (static_cast<int64_t>(replicas) * std::clamp(in.weight, 0, 100)) % 100 != 0) {
    ++surge;
  }
  int32_t scale_up = replicas + surge - (next.canary + next.stable + in.others.desired);

  if (in.stable && next.stable < desired.stable && scale_up > 0) {
    const int32_t add = std::min(scale_up, desired.stable - next.stable);
    next.stable += add;
    scale_up -= add;
  }
  if (in.canary && next.canary < desired.canary && scale_up > 0) {
    next.canary += std::min(scale_up, desired.canary - next.canary);
  }

  // Older ReplicaSets give up their replicas before the canary or the stable one does.
  if (in.others.desired > 0) return next;

  const int32_t min_available = replicas - in.fenceposts.max_unavailable;
  // Growing the canary: the stable side is the one shrinking, so its unready pods are free to
  // remove. Shrinking the canary (an abort, a lower weight): the canary's unready pods are.
  const bool canary_growing = !in.canary || desired.canary >= in.canary->desired;
  const int32_t removable =
      RemovableReplicas(in.canary, !canary_growing) + RemovableReplicas(in.stable, canary_growing);
  if (removable <= min_available) return next;
  int32_t scale_down = removable - min_available;

  if (in.canary && in.canary->desired > desired.canary) {
    const int32_t remove = std::min(scale_down, in.canary->desired - desired.canary);
    next.canary = in.canary->desired - remove;
    scale_down -= remove;
  }
  if (in.stable && in.stable->desired > desired.stable && scale_down > 0) {
    const int32_t remove = std::min(scale_down, in.stable->desired - desired.stable);
    next.stable = in.stable->desired - remove;
  }
  return next;
}

int32_t OldReplicaSetScaleDownBudget(int32_t replicas, const Fenceposts& fenceposts,
                                     int32_t total_available) {
  return std::max(0, total_available - (replicas - fenceposts.max_unavailable));
}

int32_t ReplicaRatioWeight(int32_t canary_available, int32_t total_available) {
  if (total_available <= 0 || canary_available <= 0) return 0;
  canary_available = std::min(canary_available, total_available);
  return static_cast<int32_t>((200LL * canary_available + total_available) /
                              (2LL * total_available));
}

}  // namespace gantry::rollout
