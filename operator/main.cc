// The gantry binary: `gantry operator` runs the controllers; every other subcommand is a
// client (kubectl plugin `kubectl-gantry`). Only argument parsing and dispatch live here.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <string>

#include "operator/common/version.h"

int main(int argc, char** argv) {
  CLI::App app{"Gantry: GitOps sync and progressive delivery for Kubernetes", "gantry"};
  app.require_subcommand(1);

  CLI::App* version = app.add_subcommand("version", "Print the version and git commit");
  version->callback([] {
    fmt::print("gantry {}\ncommit {}\nbuilt {}\n", gantry::Version(), gantry::GitCommit(),
               gantry::BuildDate());
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
