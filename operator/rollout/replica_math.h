// Replica arithmetic of the Rollout strategies: how far a canary or a plain rolling update may
// move its ReplicaSets in one pass without breaking the surge and availability budget.
//
// Everything here is pure integer math over counts the caller read from ReplicaSets, so it is
// tested as tables and safe from any thread. The rules follow Kubernetes Deployments and Argo
// Rollouts, because users tune maxSurge/maxUnavailable with those in mind:
//   * the sum of all ReplicaSets' spec.replicas never exceeds replicas + maxSurge;
//   * available pods never drop below replicas - maxUnavailable because of a scale-down we do;
//   * scaling up the stable side comes before scaling up the canary, and removing replicas from
//     older ReplicaSets comes before removing any from the canary or the stable one.
#pragma once

#include <cstdint>
#include <optional>

namespace gantry::rollout {

// The movement budget of a rollout with `replicas` desired pods.
struct Fenceposts {
  int32_t max_surge = 0;        // pods allowed above replicas
  int32_t max_unavailable = 0;  // pods allowed below replicas
};

// The budget the math works with, from maxSurge/maxUnavailable already resolved to counts
// (api::ResolveFenceposts: surge rounded up, unavailable rounded down). Negative values read as
// 0, both are capped at `replicas` (surge at least at 1), and when both are 0 maxUnavailable
// becomes 1 so that an update can always make progress.
Fenceposts ResolveFenceposts(int32_t max_surge, int32_t max_unavailable, int32_t replicas);

// What the math needs to know about one ReplicaSet (or a group of them).
struct ReplicaCounts {
  int32_t desired = 0;    // spec.replicas
  int32_t available = 0;  // status.availableReplicas
};

struct CanaryScaleInput {
  int32_t replicas = 1;  // the Rollout's spec.replicas
  Fenceposts fenceposts;
  // How big the canary should be at this step: a percentage of `replicas` (setWeight, or
  // setCanaryScale.weight), or an explicit count (setCanaryScale.replicas) when set.
  int32_t weight = 0;
  std::optional<int32_t> canary_replicas;
  // With a traffic router the weight is enforced by the router, so the stable ReplicaSet stays
  // at full size until promotion instead of shrinking by the weight.
  bool traffic_routed = false;
  // The ReplicaSet of the current template; absent before it is created.
  std::optional<ReplicaCounts> canary;
  // The stable ReplicaSet; absent when there is none or it is the canary itself (first
  // rollout, rollback to stable, promotion done). Without a stable side the canary simply
  // takes all replicas: a plain rolling update.
  std::optional<ReplicaCounts> stable;
  // The sum over every other ReplicaSet of the Rollout.
  ReplicaCounts others;
};

struct CanaryReplicas {
  int32_t canary = 0;
  int32_t stable = 0;

  bool operator==(const CanaryReplicas&) const = default;
};

// The end state of the current step: what the step waits for before it counts as done.
// Both sides round up, so a weight that does not divide `replicas` evenly keeps at least one
// pod on each side (10% of 3 replicas: canary 1, stable 3).
CanaryReplicas DesiredCanaryReplicas(const CanaryScaleInput& in);

// The scale to write this pass, one step toward DesiredCanaryReplicas within the budget:
// scale-ups take what maxSurge leaves (stable first), scale-downs take what maxUnavailable
// leaves (canary first when the canary is shrinking, as in an abort; stable first otherwise),
// and nothing shrinks while older ReplicaSets still hold replicas.
CanaryReplicas NextCanaryReplicas(const CanaryScaleInput& in);

// How many replicas may be taken away from older ReplicaSets this pass so that available
// pods stay at or above replicas - maxUnavailable. Never negative.
int32_t OldReplicaSetScaleDownBudget(int32_t replicas, const Fenceposts& fenceposts,
                                     int32_t total_available);

// The traffic share of the canary when no router enforces one: its part of the available pods,
// as a whole percentage (0 when nothing is available).
int32_t ReplicaRatioWeight(int32_t canary_available, int32_t total_available);

}  // namespace gantry::rollout
