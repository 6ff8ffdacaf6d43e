// The ReplicaSet sub-steps every strategy shares: load and adopt, ensure the ReplicaSet of the
// current template, scale with an event, keep or clear scale-down deadlines, prune history.
// Each takes the pass's RolloutContext and writes through its client; errors are the API's,
// with the ReplicaSet named.
#pragma once

#include <optional>

#include "operator/common/status.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

// Lists (through ctx.reader) the ReplicaSets in the Rollout's namespace that match spec.selector
// and fills ctx.replica_sets with those the Rollout controls. An orphan that carries the
// pod-template hash label is adopted (a controller reference is added), so a Rollout recreated with the same
// name and selector takes its old ReplicaSets back instead of duplicating them. ReplicaSets
// controlled by something else are left alone. Sets ctx.current_hash.
Status LoadReplicaSets(RolloutContext& ctx);

// Makes sure the ReplicaSet of the current template exists, creating it with 0 replicas and
// the next revision, or moving an existing one (a template the Rollout went back to) to the
// highest revision. Returns false when `<rollout>-<hash>` is taken by a ReplicaSet with another
// template: status.collisionCount is then bumped, so the next pass hashes to a new name.
Result<bool> EnsureNewReplicaSet(RolloutContext& ctx);

// Sets spec.replicas (no write when it already is `replicas`), clears a scale-down deadline,
// records a ScalingReplicaSet event and marks the pass as having scaled.
Status ScaleReplicaSet(RolloutContext& ctx, ReplicaSetInfo& rs, int32_t replicas);

// Annotates `rs` with the time after which it may be scaled to zero; no write if it already
// carries one.
Status SetScaleDownDeadline(RolloutContext& ctx, ReplicaSetInfo& rs, Clock::TimePoint deadline);

// Removes a scale-down deadline from a ReplicaSet the Rollout uses again (the new or stable
// one, e.g. after going back to an older template).
Status ClearScaleDownDeadline(RolloutContext& ctx, ReplicaSetInfo& rs);

// Deletes old ReplicaSets without pods beyond spec.revisionHistoryLimit, never the current,
// stable or blue/green active and preview ones.
Status PruneHistory(RolloutContext& ctx);

}  // namespace gantry::rollout
