// What `gantry rollout promote|abort|retry|undo|pause|restart|set-image` do to a Rollout, as
// functions over a KubeClient, so the CLI (rollout_cli.h) stays a thin shell and these are
// unit-tested against the fake API server.
//
// Each writes the user's intent where the controller reads it (DESIGN.md §2: status for
// promote/abort/retry, spec for pause/restart/undo/set-image) and returns a one-line summary
// for the terminal. Status writes carry the resourceVersion just read, so an intent is never
// written over a newer state; a Conflict means "try again". Errors name the Rollout.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::cli {

struct RolloutRef {
  std::string ns;
  std::string name;
};

// Resumes a paused Rollout (pause conditions cleared, spec.paused false); a Rollout that is not
// paused skips its current canary step. With `full`, skips every remaining step and analysis
// (status.promoteFull).
Result<std::string> PromoteRollout(kube::KubeClient& client, const RolloutRef& ref, bool full);

// status.abort = true: traffic back to stable, then the canary/preview scales down.
Result<std::string> AbortRollout(kube::KubeClient& client, const RolloutRef& ref);

// status.abort = false on an aborted Rollout: the steps start over. FailedPrecondition-like
// InvalidArgument when it is not aborted.
Result<std::string> RetryRollout(kube::KubeClient& client, const RolloutRef& ref);

// Puts the pod template of revision `to_revision` (default: the one before the current) back
// into spec.template. InvalidArgument naming the revisions that exist when it is not found.
Result<std::string> UndoRollout(kube::KubeClient& client, const RolloutRef& ref,
                                std::optional<int64_t> to_revision);

// spec.paused = true.
Result<std::string> PauseRollout(kube::KubeClient& client, const RolloutRef& ref);

// spec.restartAt = now: pods created before now are replaced one at a time.
Result<std::string> RestartRollout(kube::KubeClient& client, const RolloutRef& ref,
                                   Clock::TimePoint now);

// Sets the image of the named containers ("*" for all) in spec.template, like
// `kubectl set image`: each pair is (container, image). InvalidArgument naming a container that
// does not exist.
Result<std::string> SetRolloutImage(kube::KubeClient& client, const RolloutRef& ref,
                                    const std::vector<std::pair<std::string, std::string>>& images);

}  // namespace gantry::cli
