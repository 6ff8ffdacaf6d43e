// `gantry rollout get`: a Rollout and everything it owns as a tree, the way
// `kubectl argo rollouts get rollout` shows it: a summary (phase, strategy, step, weights,
// images, replica counts), then revisions newest first, each with its ReplicaSet, that set's
// pods and the AnalysisRuns of that revision.
//
// FetchRolloutView reads the objects (one Get and three Lists); `get --watch` assembles the same
// view from its informers' caches (rollout_watch.h). RenderRolloutView is pure and tested on
// its own. Safe from any thread.
#pragma once

#include <string>
#include <vector>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::cli {

struct RolloutView {
  kube::Object rollout;
  std::vector<kube::Object> replica_sets;   // owned by the Rollout
  std::vector<kube::Object> pods;           // matching the Rollout's selector
  std::vector<kube::Object> analysis_runs;  // labelled with the Rollout's name
};

// A view of `rollout` from candidate objects: keeps the ReplicaSets the Rollout controls, and
// the pods and AnalysisRuns as given (already selected by the Rollout's selector and name).
RolloutView AssembleRolloutView(kube::Object rollout, std::vector<kube::Object> replica_sets,
                                std::vector<kube::Object> pods,
                                std::vector<kube::Object> analysis_runs);

// NotFound naming the Rollout when it does not exist.
Result<RolloutView> FetchRolloutView(kube::KubeClient& client, const std::string& ns,
                                     const std::string& name);

// The text shown by `get`, ending in a newline. `now` dates the AGE column.
std::string RenderRolloutView(const RolloutView& view, Clock::TimePoint now);

// "5s", "3m", "2h", "4d": kubectl's age format.
std::string FormatAge(Clock::Duration d);

}  // namespace gantry::cli
