// Garbage collection of a Rollout's finished AnalysisRuns (Argo Rollouts'
// analysisRunHistoryLimit: 5 successful, 5 unsuccessful kept by default).
//
// The Rollout reconciler lists the runs it owns and calls DeleteOldAnalysisRuns with them and
// with the names its status still refers to; runs that are still measuring are never deleted.
// Safe from any thread.
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "operator/api/analysis.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::analysis {

inline constexpr size_t kDefaultSuccessfulRunHistory = 5;
inline constexpr size_t kDefaultUnsuccessfulRunHistory = 5;

// The names of the runs to delete: finished runs beyond the newest `keep_successful`
// Successful ones and the newest `keep_unsuccessful` Failed, Error or Inconclusive ones
// (newest by creationTimestamp, then name). Runs in `in_use` and unfinished runs are kept and
// do not count toward either limit.
std::vector<std::string> AnalysisRunsToDelete(
    const std::vector<api::AnalysisRun>& runs, const std::set<std::string>& in_use,
    size_t keep_successful = kDefaultSuccessfulRunHistory,
    size_t keep_unsuccessful = kDefaultUnsuccessfulRunHistory);

// Deletes AnalysisRunsToDelete(...) of `runs` (all in one namespace) with background
// propagation (their Jobs follow). A run already gone is fine; the first other failure is
// returned, naming the run, after trying the rest.
Status DeleteOldAnalysisRuns(kube::KubeClient& client, const std::vector<api::AnalysisRun>& runs,
                             const std::set<std::string>& in_use,
                             size_t keep_successful = kDefaultSuccessfulRunHistory,
                             size_t keep_unsuccessful = kDefaultUnsuccessfulRunHistory);

}  // namespace gantry::analysis
