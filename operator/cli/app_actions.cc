#include "operator/cli/app_actions.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "operator/api/application.h"
#include "operator/api/conditions.h"
#include "operator/reconcilers/git_repository_reconciler.h"

namespace gantry::cli {
namespace {

const kube::GroupVersionKind kApplicationGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kGitRepositoryGvk{"gantry.io", "v1alpha1", "GitRepository"};
const kube::GroupVersionKind kConfigMapGvk{"", "v1", "ConfigMap"};

// Left-aligned columns separated by three spaces, as kubectl prints them.
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (!out.empty()) out.pop_back();
  return out;
}

std::string ReadyText(const api::Application& app) {
  const api::Condition* ready = api::FindCondition(app.status.conditions, api::kConditionReady);
  return ready == nullptr ? "Unknown" : ready->status;
}

std::string ReadyMessage(const api::Application& app) {
  const api::Condition* ready = api::FindCondition(app.status.conditions, api::kConditionReady);
  if (ready == nullptr) return "";
  std::string m = ready->message.substr(0, ready->message.find('\n'));
  return m.size() > 80 ? m.substr(0, 77) + "..." : m;
}

Result<api::Application> ReadApplication(kube::KubeClient& client, const std::string& ns,
                                         const std::string& name) {
  auto object = client.Get(kube::ResourceRef{kApplicationGvk, ns, name});
  if (!object.ok()) {
    if (object.status().code() == StatusCode::kNotFound) {
      return NotFound(fmt::format("Application {}/{} not found", ns, name));
    }
    return object.status();
  }
  return api::Application::FromJson(*object);
}

// RFC 3339 with microseconds, so two requests within a second are still two requests.
std::string RequestStamp(Clock& clock) {
  const auto now = clock.Now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1'000'000;
  std::string stamp = FormatRfc3339(now);
  stamp.insert(stamp.size() - 1, fmt::format(".{:06d}", micros));
  return stamp;
}

kube::ObjectKey SourceKey(const api::Application& app) {
  return kube::ObjectKey{app.spec.source_ref.namespace_.empty() ? app.metadata.namespace_
                                                                : app.spec.source_ref.namespace_,
                         app.spec.source_ref.name};
}

}  // namespace

Result<std::string> ListApplications(kube::KubeClient& client, const std::string& ns) {
  auto list = client.ListAll(kApplicationGvk, ns);
  if (!list.ok()) return list.status();
  std::vector<std::vector<std::string>> rows = {
      {"NAMESPACE", "NAME", "SYNC", "HEALTH", "READY", "REVISION", "MESSAGE"}};
  for (const auto& object : list->items) {
    auto app = api::Application::FromJson(object);
    if (!app.ok()) {
      rows.push_back({kube::NamespaceOf(object), kube::NameOf(object), "?", "?", "?", "",
                      app.status().message()});
      continue;
    }
    rows.push_back({app->metadata.namespace_, app->metadata.name,
                    std::string(api::ToString(app->status.sync.status)),
                    std::string(api::ToString(app->status.health.status)), ReadyText(*app),
                    app->status.last_applied_revision, ReadyMessage(*app)});
  }
  if (rows.size() == 1) {
    return ns.empty() ? std::string("No Applications found.")
                      : fmt::format("No Applications found in namespace {}.", ns);
  }
  return Table(rows);
}

Result<std::string> DescribeApplication(kube::KubeClient& client, const std::string& ns,
                                        const std::string& name) {
  auto app = ReadApplication(client, ns, name);
  if (!app.ok()) return app.status();
  const kube::ObjectKey source = SourceKey(*app);
  std::string out;
  out += fmt::format("Name:              {}/{}\n", ns, name);
  out += fmt::format("Source:            GitRepository {} path {}\n", source.ToString(),
                     app->spec.path);
  if (!app->spec.target_namespace.empty()) {
    out += fmt::format("Target namespace:  {}\n", app->spec.target_namespace);
  }
  out += fmt::format("Prune:             {}   Self-heal: {}   Wait: {}   Suspend: {}\n",
                     app->spec.prune, app->spec.self_heal, app->spec.wait, app->spec.suspend);
  out += fmt::format("Sync:              {} to {}\n", api::ToString(app->status.sync.status),
                     app->status.sync.revision.empty() ? "-" : app->status.sync.revision);
  out += fmt::format(
      "Health:            {}{}\n", api::ToString(app->status.health.status),
      app->status.health.message.empty() ? "" : " (" + app->status.health.message + ")");
  out += fmt::format("Last applied:      {}\n", app->status.last_applied_revision);
  out += fmt::format("Last attempted:    {}\n", app->status.last_attempted_revision);
  out += "Conditions:\n";
  for (const auto& c : app->status.conditions) {
    out += fmt::format("  {}={} {}: {}\n", c.type, c.status, c.reason, c.message);
  }
  std::vector<std::vector<std::string>> rows = {{"KIND", "NAMESPACE", "NAME", "SYNC", "HEALTH"}};
  for (const auto& r : app->status.resources) {
    std::string kind = r.group.empty() ? r.kind : r.kind + "." + r.group;
    rows.push_back({kind, r.namespace_, r.name, std::string(api::ToString(r.status)),
                    r.health ? std::string(api::ToString(r.health->status)) : ""});
  }
  out += "Resources:\n" + Table(rows);
  return out;
}

Result<std::string> RequestSync(kube::KubeClient& client, Clock& clock, const std::string& ns,
                                const std::string& name) {
  auto app = ReadApplication(client, ns, name);
  if (!app.ok()) return app.status();
  const std::string stamp = RequestStamp(clock);
  kube::Object patch = {
      {"metadata",
       {{"annotations", {{std::string(reconcilers::kReconcileRequestedAtAnnotation), stamp}}}}}};
  const kube::ObjectKey source = SourceKey(*app);
  auto repo = client.Patch(kube::ResourceRef{kGitRepositoryGvk, source.ns, source.name},
                           kube::PatchType::kMerge, patch);
  if (!repo.ok() && repo.status().code() != StatusCode::kNotFound) {
    return repo.status().WithContext("requesting a fetch of GitRepository " + source.ToString());
  }
  auto patched =
      client.Patch(kube::ResourceRef{kApplicationGvk, ns, name}, kube::PatchType::kMerge, patch);
  if (!patched.ok()) {
    return patched.status().WithContext(
        fmt::format("requesting a sync of Application {}/{}", ns, name));
  }
  return fmt::format("sync of Application {}/{} requested at {}", ns, name, stamp);
}

Result<AppDiff> DiffApplication(kube::KubeClient& client, Clock& clock,
                                const std::function<void(std::chrono::milliseconds)>& sleep,
                                const std::string& ns, const std::string& name,
                                std::chrono::milliseconds timeout) {
  auto app = ReadApplication(client, ns, name);
  if (!app.ok()) return app.status();
  const std::string stamp = RequestStamp(clock);
  kube::Object patch = {
      {"metadata",
       {{"annotations", {{std::string(reconcilers::kDiffRequestedAtAnnotation), stamp}}}}}};
  auto patched =
      client.Patch(kube::ResourceRef{kApplicationGvk, ns, name}, kube::PatchType::kMerge, patch);
  if (!patched.ok()) {
    return patched.status().WithContext(
        fmt::format("requesting a diff of Application {}/{}", ns, name));
  }
  const kube::ResourceRef answer{kConfigMapGvk, ns, reconcilers::DiffConfigMapName(name)};
  const auto deadline = clock.Now() + timeout;
  while (true) {
    auto config_map = client.Get(answer);
    if (!config_map.ok() && config_map.status().code() != StatusCode::kNotFound) {
      return config_map.status().WithContext(
          fmt::format("reading the diff of Application {}/{}", ns, name));
    }
    if (config_map.ok()) {
      if (auto answered = reconcilers::ReadDiffAnswer(*config_map, stamp); answered) {
        if (!answered->ok()) {
          return InvalidArgument(fmt::format("the operator could not diff Application {}/{}: {}",
                                             ns, name, answered->status().message()));
        }
        AppDiff diff = std::move(**answered);
        diff.text = fmt::format("Application {}/{} at {}\n{}", ns, name, diff.revision, diff.text);
        return diff;
      }
    }
    if (clock.Now() >= deadline) break;
    sleep(std::chrono::milliseconds(250));
  }
  return Status(
      StatusCode::kTimeout,
      fmt::format("no answer from the operator to the diff of Application {}/{} within "
                  "{}s: is gantry operator running and watching namespace {}?",
                  ns, name, std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), ns));
}

}  // namespace gantry::cli
