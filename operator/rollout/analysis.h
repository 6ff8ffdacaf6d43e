// The Rollout's side of analysis: it creates AnalysisRuns from AnalysisTemplates (see
// analysis_run_builder.h), follows their status.phase, and terminates those it no longer needs.
// Measuring is the AnalysisRun reconciler's job.
//
// Which run is current is recorded in the Rollout's status (canary.currentStepAnalysisRunStatus,
// canary.currentBackgroundAnalysisRunStatus, blueGreen.pre/postPromotionAnalysisRunStatus), so a
// restarted operator follows the same run instead of starting another. A run's outcome becomes
// an intent of the pass: Failed or Error aborts the Rollout, Inconclusive pauses it until a user
// promotes (go on) or aborts.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "operator/api/rollout.h"
#include "operator/common/status.h"
#include "operator/rollout/analysis_run_builder.h"
#include "operator/rollout/context.h"

namespace gantry::rollout {

// Lists (through ctx.reader) the AnalysisRuns the Rollout controls into ctx.analysis_runs.
Status LoadAnalysisRuns(RolloutContext& ctx);

// What a run means for the Rollout now.
enum class AnalysisVerdict {
  kRunning,     // still measuring: wait
  kSuccessful,  // go on
  kFailed,      // the pass has recorded an abort
  kPaused,      // inconclusive: the pass has recorded a pause until a user decides
};

// Follows the run of `analysis` recorded in `tracked`, creating one (and recording it) when
// none is tracked or the tracked one is gone, and judges it as described above. An
// Inconclusive run that a user resumed (promote) counts as kSuccessful. Errors: a template
// that does not exist or cannot be used, API failures; each names the template or run.
Result<AnalysisVerdict> ReconcileAnalysis(RolloutContext& ctx, AnalysisKind kind,
                                          const api::RolloutAnalysis& analysis,
                                          std::optional<int64_t> step_index,
                                          std::optional<api::RolloutAnalysisRunStatus>& tracked);

// Sets spec.terminate on every run of the Rollout that is not finished and not named in
// `keep`.
Status TerminateAnalysisRunsExcept(RolloutContext& ctx, const std::set<std::string>& keep);

}  // namespace gantry::rollout
