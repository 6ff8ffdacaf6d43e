// SyncRollout: one level-based reconcile pass of one Rollout, the entry point the Rollout
// reconciler (operator/reconcilers/rollout_reconciler.h) calls for every (namespace, name) the
// work queue hands it.
//
// A pass reads the Rollout, its ReplicaSets and AnalysisRuns afresh; validates the spec (an
// invalid spec stalls: Degraded with the reason in status and an event, no retry until the spec
// changes); makes sure the ReplicaSet of the current template exists; runs the strategy
// (canary.h, blue_green.h) and the restart (restart.h); then writes status once, only if it
// changed. Everything a later pass needs is in that status, so passes can be cut off anywhere
// and an operator restarted at any time continues where the last one stopped.
//
// Thread-safe as long as two passes never run for the same Rollout at once (the work queue
// guarantees that).
#pragma once

#include <optional>
#include <string>

#include "operator/api/rollout.h"
#include "operator/common/status.h"
#include "operator/kube/object.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

struct SyncOutcome {
  enum class Kind {
    kDone,     // converged as far as possible for now; requeue_after says when to look again
    kStalled,  // invalid spec: nothing to do until the user changes it
    kGone,     // the Rollout does not exist (its ReplicaSets go with it by garbage collection)
  };
  Kind kind = Kind::kDone;
  std::optional<Clock::Duration> requeue_after;
  std::string message;                  // why stalled
  std::optional<api::Rollout> rollout;  // the Rollout with its new status, for metrics
  int32_t canary_weight = 0;            // the canary's traffic share after the pass
};

// Errors are transient failures (API errors, Conflict on the status write, a missing Service
// or template): the caller backs off and retries. Their message is also written to status
// (Ready=False) when the status write itself works.
Result<SyncOutcome> SyncRollout(const Collaborators& deps, const kube::ObjectKey& key);

}  // namespace gantry::rollout
