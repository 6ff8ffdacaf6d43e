#include "operator/cli/app_cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/cli/app_actions.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/rest_kube_client.h"

namespace gantry::cli {
namespace {

struct AppOptions {
  std::string ns;
  bool all_namespaces = false;
  std::string kubeconfig;
  std::string context;
  std::string name;
};

struct Connection {
  std::unique_ptr<kube::KubeClient> client;
  std::string ns;
};

Result<Connection> Connect(const AppOptions& o) {
  Result<kube::RestConfig> config = Status(StatusCode::kInternal, "unset");
  const char* env = std::getenv("KUBECONFIG");
  if (!o.kubeconfig.empty()) {
    config = kube::LoadKubeconfig({o.kubeconfig}, o.context);
  } else if (env != nullptr && *env != '\0') {
    std::vector<std::string> paths;
    std::stringstream in(env);
    std::string item;
    while (std::getline(in, item, ':')) {
      if (!item.empty()) paths.push_back(item);
    }
    config = kube::LoadKubeconfig(paths, o.context);
  } else {
    config = kube::ResolveRestConfig(kube::ConfigSources::FromProcess("", o.context));
  }
  if (!config.ok()) return config.status();
  config->user_agent = "gantry-cli";
  auto client = kube::NewRestKubeClient(*config);
  if (!client.ok()) return client.status();
  return Connection{std::move(client).value(), o.ns.empty() ? config->ns : o.ns};
}

int Fail(const Status& s) {
  fmt::print(stderr, "error: {}\n", s.message());
  return 1;
}

int Print(const Result<std::string>& r) {
  if (!r.ok()) return Fail(r.status());
  fmt::print("{}\n", *r);
  return 0;
}

}  // namespace

void AddAppCommands(CLI::App& app, int& exit_code) {
  CLI::App* group = app.add_subcommand("app", "Inspect and sync Applications (GitOps)");
  group->require_subcommand(1);
  auto o = std::make_shared<AppOptions>();
  auto common = [o](CLI::App* sub) {
    sub->add_option("-n,--namespace", o->ns, "Namespace (default: the context's)");
    sub->add_option("--kubeconfig", o->kubeconfig, "Path to a kubeconfig");
    sub->add_option("--context", o->context, "Kubeconfig context");
  };

  CLI::App* list = group->add_subcommand("list", "List Applications with sync and health");
  common(list);
  list->add_flag("-A,--all-namespaces", o->all_namespaces, "List in every namespace");
  list->callback([o, &exit_code] {
    auto c = Connect(*o);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    exit_code = Print(ListApplications(*c->client, o->all_namespaces ? "" : c->ns));
  });

  CLI::App* get = group->add_subcommand("get", "Show an Application, its conditions and resources");
  common(get);
  get->add_option("NAME", o->name, "Application name")->required();
  get->callback([o, &exit_code] {
    auto c = Connect(*o);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    exit_code = Print(DescribeApplication(*c->client, c->ns, o->name));
  });

  CLI::App* sync = group->add_subcommand("sync", "Fetch the source and sync the Application now");
  common(sync);
  sync->add_option("NAME", o->name, "Application name")->required();
  sync->callback([o, &exit_code] {
    auto c = Connect(*o);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    exit_code = Print(RequestSync(*c->client, RealClock(), c->ns, o->name));
  });

  CLI::App* diff = group->add_subcommand(
      "diff",
      "Show what a sync would change (exit 1 if anything would). The operator computes it from "
      "the revision it already fetched, with a server-side dry run of every object (Secret "
      "values masked), and answers in ConfigMap gantry-diff-NAME: the Git repository need not "
      "be reachable from here, the operator must be running");
  common(diff);
  diff->add_option("NAME", o->name, "Application name")->required();
  auto diff_timeout = std::make_shared<int>(60);
  diff->add_option("--timeout", *diff_timeout, "Seconds to wait for the operator's answer")
      ->capture_default_str();
  diff->callback([o, diff_timeout, &exit_code] {
    auto c = Connect(*o);
    if (!c.ok()) {
      exit_code = Fail(c.status());
      return;
    }
    auto result = DiffApplication(
        *c->client, RealClock(),
        [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }, c->ns, o->name,
        std::chrono::seconds(*diff_timeout));
    if (!result.ok()) {
      exit_code = Fail(result.status());
      return;
    }
    fmt::print("{}\n", result->text);
    exit_code = result->changes ? 1 : 0;
  });
}

}  // namespace gantry::cli
