// The `app` command group of the gantry binary (and of the kubectl plugin):
//
//   gantry app list [-n NS | -A]
//   gantry app get NAME [-n NS]
//   gantry app sync NAME [-n NS]     ask for a fetch and sync now
//   gantry app diff NAME [-n NS]     what a sync would change; exit 1 when something would
//   common flags: --kubeconfig, --context
//
// The client configuration is kubectl's, as for `gantry rollout`. Parsing only; the work is in
// app_actions.h.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace gantry::cli {

// Adds the `app` group to `app`. The exit status of a command that ran is stored in
// `exit_code`, which must outlive app.parse().
void AddAppCommands(CLI::App& app, int& exit_code);

}  // namespace gantry::cli
