// `gantry rollout restart`: spec.restartAt asks for every pod created before that time to be
// replaced. The Rollout evicts them one at a time, only while every pod of the Rollout is
// available, so a restart never costs more than one pod of capacity (and, being an eviction,
// honours PodDisruptionBudgets). status.restartedAt records the restart once it is done, so a
// restarted operator does not start over.
#pragma once

#include "operator/common/status.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

// Precondition: LoadReplicaSets ran. Does nothing while the pass scaled anything.
Status ReconcileRestart(RolloutContext& ctx);

}  // namespace gantry::rollout
