// The `rollout` command group of the gantry binary (and of the kubectl plugin: `kubectl gantry
// rollout ...` runs the same code):
//
//   gantry rollout get NAME [--watch] [--timeout D]
//   gantry rollout promote NAME [--full]
//   gantry rollout abort|retry|pause|restart NAME
//   gantry rollout undo NAME [--to-revision N]
//   gantry rollout set-image NAME CONTAINER=IMAGE...
//   common flags: -n/--namespace, --kubeconfig, --context
//
// The client configuration is kubectl's: --kubeconfig, else $KUBECONFIG, else in-cluster, else
// ~/.kube/config; the namespace defaults to the context's. Only the parsing lives here; the
// work is in rollout_actions.h and rollout_view.h.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace gantry::cli {

// Adds the `rollout` group to `app`. When a rollout command runs, its exit status (0 on
// success, 1 on an error printed to stderr) is stored in `exit_code`, which must outlive
// app.parse().
void AddRolloutCommands(CLI::App& app, int& exit_code);

}  // namespace gantry::cli
