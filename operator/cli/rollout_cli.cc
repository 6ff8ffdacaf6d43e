#include "operator/cli/rollout_cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "operator/cli/rollout_actions.h"
#include "operator/cli/rollout_view.h"
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

int Get(const CommonOptions& o, const std::string& name, bool watch, const std::string& timeout) {
  Result<Connection> c = Connect(o);
  if (!c.ok()) {
    fmt::print(stderr, "error: {}\n", c.status().message());
    return 1;
  }
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (!timeout.empty()) {
    Result<Millis> d = ParseDuration(timeout);
    if (!d.ok()) {
      fmt::print(stderr, "error: --timeout: {}\n", d.status().message());
      return 1;
    }
    deadline = std::chrono::steady_clock::now() + *d;
  }
  const bool tty = isatty(fileno(stdout)) != 0;
  while (true) {
    Result<RolloutView> view = FetchRolloutView(*c->client, c->ns, name);
    if (!view.ok()) {
      fmt::print(stderr, "error: {}\n", view.status().message());
      return 1;
    }
    const std::string text = RenderRolloutView(*view, RealClock().Now());
    if (watch && tty) fmt::print("\033[H\033[2J");
    fmt::print("{}", text);
    std::fflush(stdout);
    if (!watch) return 0;
    if (deadline && std::chrono::steady_clock::now() >= *deadline) return 0;
    if (!tty) fmt::print("\n");
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
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
