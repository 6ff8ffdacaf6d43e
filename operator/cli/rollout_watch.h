// `gantry rollout get --watch`: the tree of rollout_view.h, drawn again whenever the Rollout or
// anything it owns changes.
//
// Changes arrive through watches, not polling: four SharedInformers (the Rollout by name, its
// ReplicaSets and pods by the Rollout's selector, its AnalysisRuns by the rollout label) keep a
// local copy current, and every event marks the tree stale. A burst of events (a step moves the
// status, both ReplicaSets and a few pods at once) is drawn once, after `settle`. A tree that
// reads the same as the last one drawn is not drawn again, so a non-terminal output gets one
// tree per visible change; a terminal also gets a redraw every second so that ages keep up.
//
// The selector used for ReplicaSets and pods is the Rollout's when the watch starts (it is
// immutable in practice, as a Deployment's is).
//
// WatchRollout blocks the calling thread; the informers' threads only mark the tree stale.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::cli {

struct WatchRolloutOptions {
  // A terminal: each frame replaces the last, and ages are refreshed every `tick`.
  bool redraw = false;
  // Stop (OK) at this time; none: until stopped.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // How long a burst of changes is collected before one tree is drawn.
  std::chrono::milliseconds settle{100};
  // How often the output's liveness (and, when redrawing, the ages) is checked.
  std::chrono::milliseconds tick{1000};
  // Asked every tick: true when nobody reads the output any more (stdout's reader exited).
  std::function<bool()> output_gone;
};

// Receives each tree (ending in a newline). Returns false when it could not be written: the
// watch ends, OK.
using FrameSink = std::function<bool(const std::string& frame)>;

// Draws Rollout `ns`/`name` through `emit` now and after every change until `stop` is
// requested, the deadline passes, the output goes away (all OK), or the Rollout is deleted
// (NotFound naming it, after a last line saying so has been emitted). NotFound naming the
// Rollout when it does not exist at the start. `clock` dates the AGE column.
Status WatchRollout(kube::KubeClient& client, const std::string& ns, const std::string& name,
                    const WatchRolloutOptions& options, const FrameSink& emit, std::stop_token stop,
                    const Clock& clock);

}  // namespace gantry::cli
