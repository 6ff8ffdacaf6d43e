// The gantry binary: `gantry operator` runs the controllers; every other subcommand is a
// client (kubectl plugin `kubectl-gantry`). Only argument parsing and dispatch live here.
#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>

#include "operator/cli/app_cli.h"
#include "operator/cli/rollout_cli.h"
#include "operator/common/clock.h"
#include "operator/common/logging.h"
#include "operator/common/version.h"
#include "operator/controller/manager.h"
#include "operator/reconcilers/analysis_run_reconciler.h"
#include "operator/reconcilers/application_controllers.h"
#include "operator/reconcilers/rollout_reconciler.h"

namespace {

// Runs the operator until SIGINT or SIGTERM. A second signal during shutdown exits at once.
int RunOperator(const gantry::controller::ManagerOptions& options, const std::string& log_format,
                const std::string& log_level) {
  // Before any thread starts. glibc gives every thread that allocates an arena of its own (up
  // to 8 per core), and each keeps its freed memory resident; the operator's threads mostly
  // wait, so two arenas serve them without contention and hold far less idle memory.
  mallopt(M_ARENA_MAX, 2);
  if (gantry::Status s = gantry::InitLogging(log_format, log_level); !s.ok()) {
    fmt::print(stderr, "{}\n", s.message());
    return 2;
  }
  // Signals go to one thread that waits for them; every thread started later inherits the
  // mask, so none is interrupted at a random point.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);  // sent to ourselves when the manager ends on its own
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  spdlog::info("gantry {} (commit {}) starting", gantry::Version(), gantry::GitCommit());
  gantry::Result<std::unique_ptr<gantry::controller::Manager>> manager =
      gantry::controller::Manager::Create(options, gantry::RealClock());
  if (!manager.ok()) {
    spdlog::error("{}", manager.status().ToString());
    return 1;
  }
  // GitOps sync: GitRepository and Application controllers and the webhook receiver. It is
  // destroyed after Run (which stops the workers that call it) but before the manager: its
  // self-heal watcher runs informers of its own on the manager's KubeClient.
  auto sync = gantry::reconcilers::SetUpSyncControllers(**manager, {});
  if (!sync.ok()) {
    spdlog::error("{}", sync.status().ToString());
    return 1;
  }
  // Controllers are destroyed after the manager, whose workers call them.
  auto rollouts = gantry::reconcilers::SetUpRolloutController(**manager);
  if (!rollouts.ok()) {
    spdlog::error("{}", rollouts.status().ToString());
    return 1;
  }
  auto analysis_runs = gantry::reconcilers::SetUpAnalysisRunController(**manager);
  if (!analysis_runs.ok()) {
    spdlog::error("{}", analysis_runs.status().ToString());
    return 1;
  }

  std::stop_source stop;
  std::atomic<bool> finished{false};
  std::thread waiter([&] {
    int received = 0;
    while (true) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig == SIGUSR1 && finished) return;
      if (sig == SIGUSR1) continue;
      if (++received == 1) {
        spdlog::info("received {}, stopping (send again to exit at once)", strsignal(sig));
        stop.request_stop();
      } else {
        spdlog::warn("received {} again, exiting now", strsignal(sig));
        std::_Exit(1);
      }
    }
  });
  gantry::Status result = (*manager)->Run(stop.get_token());
  sync->reset();
  manager->reset();
  rollouts->reset();
  analysis_runs->reset();
  finished = true;
  kill(getpid(), SIGUSR1);
  waiter.join();
  if (!result.ok()) {
    spdlog::error("{}", result.ToString());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Installed as kubectl-gantry (a link to this binary), kubectl runs it as a plugin:
  // `kubectl gantry rollout get web` arrives here as argv {".../kubectl-gantry", "rollout", ...}.
  const std::string_view invoked = argv[0];
  const bool plugin = invoked.substr(invoked.rfind('/') + 1) == "kubectl-gantry";
  CLI::App app{"Gantry: GitOps sync and progressive delivery for Kubernetes",
               plugin ? "kubectl gantry" : "gantry"};
  app.require_subcommand(1);

  CLI::App* version = app.add_subcommand("version", "Print the version and git commit");
  version->callback([] {
    fmt::print("gantry {}\ncommit {}\nbuilt {}\n", gantry::Version(), gantry::GitCommit(),
               gantry::BuildDate());
  });

  gantry::controller::ManagerOptions options;
  std::string log_format = "text";
  std::string log_level = "info";
  int exit_code = 0;
  CLI::App* op = app.add_subcommand("operator", "Run the controllers against a cluster");
  op->add_option(
      "--kubeconfig", options.kubeconfig,
      "Path to a kubeconfig (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)");
  op->add_option("--context", options.context, "Kubeconfig context (default: current-context)");
  op->add_option("--namespace", options.ns, "Only watch this namespace (default: all)");
  op->add_option("--metrics-bind-address", options.metrics_bind_address,
                 "Address of /metrics; \"0\" disables")
      ->capture_default_str();
  op->add_option("--health-probe-bind-address", options.health_probe_bind_address,
                 "Address of /healthz and /readyz; \"0\" disables")
      ->capture_default_str();
  op->add_option("--webhook-bind-address", options.webhook_bind_address,
                 "Address of the Git webhook receiver; \"0\" disables")
      ->capture_default_str();
  op->add_flag("--leader-elect", options.leader_elect,
               "Elect a leader through a Lease so that only one replica reconciles");
  op->add_option("--leader-election-namespace", options.leader_election_namespace,
                 "Namespace of the leader Lease (default: the config's namespace)");
  op->add_option("--concurrency", options.concurrency, "Workers per controller")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  op->add_option("--log-format", log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  op->add_option("--log-level", log_level, "trace, debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  op->add_option("--kube-qps", options.kube_qps, "Client-side limit of API requests per second")
      ->capture_default_str();
  op->add_option("--kube-burst", options.kube_burst, "Burst above --kube-qps")
      ->capture_default_str();
  op->callback([&] { exit_code = RunOperator(options, log_format, log_level); });

  gantry::cli::AddAppCommands(app, exit_code);

  gantry::cli::AddRolloutCommands(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
