#include "operator/cli/rollout_cli.h"

#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "operator/cli/rollout_actions.h"
#include "operator/cli/rollout_view.h"
#include "operator/cli/rollout_watch.h"
#include "operator/common/duration.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/rest_kube_client.h"

namespace gantry::cli {
namespace {

struct CommonOptions {
  std::string ns;
  std::string kubeconfig;
  std::string context;
};

struct Connection {
  std::unique_ptr<kube::KubeClient> client;
  std::string ns;
};

std::vector<std::string> SplitPaths(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ':')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

Result<Connection> Connect(const CommonOptions& o) {
  Result<kube::RestConfig> config = Status(StatusCode::kInternal, "unset");
  const char* env = std::getenv("KUBECONFIG");
  if (!o.kubeconfig.empty()) {
    config = kube::LoadKubeconfig({o.kubeconfig}, o.context);
  } else if (env != nullptr && *env != '\0') {
    config = kube::LoadKubeconfig(SplitPaths(env), o.context);
  } else {
    config = kube::ResolveRestConfig(kube::ConfigSources::FromProcess("", o.context));
  }
  if (!config.ok()) return config.status();
  config->user_agent = "gantry-cli";
  Result<std::unique_ptr<kube::KubeClient>> client = kube::NewRestKubeClient(*config);
  if (!client.ok()) return client.status();
  return Connection{std::move(client).value(), o.ns.empty() ? config->ns : o.ns};
}

int Report(const Result<std::string>& r) {
  if (!r.ok()) {
    fmt::print(stderr, "error: {}\n", r.status().message());
    return 1;
  }
  fmt::print("{}\n", *r);
  return 0;
}

// Runs `action` with a connection, reporting its result.
template <typename F>
int WithClient(const CommonOptions& o, F action) {
  Result<Connection> c = Connect(o);
  if (!c.ok()) {
    fmt::print(stderr, "error: {}\n", c.status().message());
    return 1;
  }
  return Report(action(*c->client, RolloutRef{c->ns, ""}));
}

// True when stdout is a pipe or socket whose reader has gone (POLLERR/POLLHUP), so a watch
// piped into `head` ends even when nothing changes.
bool StdoutGone() {
  pollfd p{fileno(stdout), POLLOUT, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
}

// Ends `source` on SIGINT, SIGTERM or SIGHUP (Ctrl-C, kill, a closed terminal). The signals
// are blocked in every thread and taken here with sigtimedwait, so no handler runs at an
// awkward moment. Must be constructed before any other thread starts.
class StopOnSignals {
 public:
  explicit StopOnSignals(std::stop_source& source) {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, sig);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::jthread([this, &source](std::stop_token stop) {
      const timespec wait{0, 200'000'000};
      while (!stop.stop_requested()) {
        if (sigtimedwait(&set_, nullptr, &wait) > 0) {
          source.request_stop();
          return;
        }
      }
    });
  }
  ~StopOnSignals() {
    thread_.request_stop();
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  sigset_t set_;
  sigset_t old_;
  std::jthread thread_;
};

int Get(const CommonOptions& o, const std::string& name, bool watch, const std::string& timeout) {
  // Before any thread exists (the client may start some), so that all of them block signals.
  std::stop_source stop;
  std::optional<StopOnSignals> signals;
  if (watch) signals.emplace(stop);
  Result<Connection> c = Connect(o);
  if (!c.ok()) {
    fmt::print(stderr, "error: {}\n", c.status().message());
    return 1;
  }
  if (!watch) {
    Result<RolloutView> view = FetchRolloutView(*c->client, c->ns, name);
    if (!view.ok()) {
      fmt::print(stderr, "error: {}\n", view.status().message());
      return 1;
    }
    fmt::print("{}", RenderRolloutView(*view, RealClock().Now()));
    return 0;
  }
  WatchRolloutOptions options;
  if (!timeout.empty()) {
    Result<Millis> d = ParseDuration(timeout);
    if (!d.ok()) {
      fmt::print(stderr, "error: --timeout: {}\n", d.status().message());
      return 1;
    }
    options.deadline = std::chrono::steady_clock::now() + *d;
  }
  // A terminal gets the tree redrawn in place; anything else one tree per change, separated
  // by a blank line, which scripts and tests can read.
  options.redraw = isatty(fileno(stdout)) != 0;
  options.output_gone = StdoutGone;
  // A closed pipe is an error from fwrite, not a fatal signal.
  std::signal(SIGPIPE, SIG_IGN);
  bool first = true;
  const FrameSink emit = [&](const std::string& frame) {
    std::string out;
    if (options.redraw) {
      out = "\033[H\033[2J" + frame;
    } else {
      out = (first ? "" : "\n") + frame;
    }
    first = false;
    return std::fwrite(out.data(), 1, out.size(), stdout) == out.size() && std::fflush(stdout) == 0;
  };
  Status s = WatchRollout(*c->client, c->ns, name, options, emit, stop.get_token(), RealClock());
  if (!s.ok()) {
    fmt::print(stderr, "error: {}\n", s.message());
    return 1;
  }
  return 0;
}

CLI::App* AddNamed(CLI::App& group, const std::string& cmd, const std::string& help,
                   std::string& name) {
  CLI::App* sub = group.add_subcommand(cmd, help);
  sub->add_option("NAME", name, "The Rollout")->required();
  return sub;
}

}  // namespace

void AddRolloutCommands(CLI::App& app, int& exit_code) {
  // Owned by the App through the callbacks' captures; CLI11 keeps the App alive while parsing.
  auto o = std::make_shared<CommonOptions>();
  auto name = std::make_shared<std::string>();
  CLI::App* group = app.add_subcommand("rollout", "Watch and control Rollouts");
  group->require_subcommand(1);
  group->add_option("-n,--namespace", o->ns, "Namespace (default: the context's)");
  group->add_option("--kubeconfig", o->kubeconfig, "Path to a kubeconfig (default: $KUBECONFIG)");
  group->add_option("--context", o->context, "Kubeconfig context");
  // Also accept the common flags after the subcommand, as kubectl users type them.
  const auto common = [o](CLI::App* sub) {
    sub->add_option("-n,--namespace", o->ns, "Namespace (default: the context's)");
    sub->add_option("--kubeconfig", o->kubeconfig, "Path to a kubeconfig");
    sub->add_option("--context", o->context, "Kubeconfig context");
  };

  auto watch = std::make_shared<bool>(false);
  auto timeout = std::make_shared<std::string>();
  CLI::App* get = AddNamed(*group, "get", "Show a Rollout and what it owns as a tree", *name);
  get->add_flag("-w,--watch", *watch, "Keep showing it as it changes");
  get->add_option("--timeout", *timeout, "With --watch: stop after this long (e.g. 2m)");
  common(get);
  get->callback([=, &exit_code] { exit_code = Get(*o, *name, *watch, *timeout); });

  auto full = std::make_shared<bool>(false);
  CLI::App* promote =
      AddNamed(*group, "promote", "Resume a paused Rollout, or skip the current step", *name);
  promote->add_flag("--full", *full, "Skip every remaining step and analysis");
  common(promote);
  promote->callback([=, &exit_code] {
    exit_code = WithClient(*o, [&](kube::KubeClient& c, RolloutRef ref) {
      ref.name = *name;
      return PromoteRollout(c, ref, *full);
    });
  });

  CLI::App* abort =
      AddNamed(*group, "abort", "Send traffic back to stable and scale the new pods down", *name);
  common(abort);
  abort->callback([=, &exit_code] {
    exit_code = WithClient(*o, [&](kube::KubeClient& c, RolloutRef ref) {
      ref.name = *name;
      return AbortRollout(c, ref);
    });
  });

  CLI::App* retry = AddNamed(*group, "retry", "Start an aborted Rollout's steps again", *name);
  common(retry);
  retry->callback([=, &exit_code] {
    exit_code = WithClient(*o, [&](kube::KubeClient& c, RolloutRef ref) {
      ref.name = *name;
      return RetryRollout(c, ref);
    });
  });

  auto revision = std::make_shared<int64_t>(0);
  CLI::App* undo = AddNamed(*group, "undo", "Go back to an earlier revision's pod template", *name);
  undo->add_option("--to-revision", *revision, "Revision to go back to (default: the previous)");
  common(undo);
  undo->callback([=, &exit_code] {
    exit_code = WithClient(*o, [&](kube::KubeClient& c, RolloutRef ref) {
      ref.name = *name;
      return UndoRollout(c, ref, *revision > 0 ? std::optional<int64_t>(*revision) : std::nullopt);
    });
  });

  CLI::App* pause = AddNamed(*group, "pause", "Hold the Rollout at its current step", *name);
  common(pause);
  pause->callback([=, &exit_code] {
    exit_code = WithClient(*o, [&](kube::KubeClient& c, RolloutRef ref) {
      ref.name = *name;
      return PauseRollout(c, ref);
    });
  });

  CLI::App* restart =
      AddNamed(*group, "restart", "Replace every pod, one at a time (spec.restartAt)", *name);
  common(restart);
  restart->callback([=, &exit_code] {
    exit_code = WithClient(*o, [&](kube::KubeClient& c, RolloutRef ref) {
      ref.name = *name;
      return RestartRollout(c, ref, RealClock().Now());
    });
  });

  auto images = std::make_shared<std::vector<std::string>>();
  CLI::App* set_image = AddNamed(*group, "set-image", "Change container images", *name);
  set_image->add_option("IMAGES", *images, "CONTAINER=IMAGE pairs (\"*\" for every container)")
      ->required();
  common(set_image);
  set_image->callback([=, &exit_code] {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const std::string& item : *images) {
      const size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
        fmt::print(stderr, "error: {} is not CONTAINER=IMAGE\n", item);
        exit_code = 1;
        return;
      }
      pairs.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    exit_code = WithClient(*o, [&](kube::KubeClient& c, RolloutRef ref) {
      ref.name = *name;
      return SetRolloutImage(c, ref, pairs);
    });
  });
}

}  // namespace gantry::cli
