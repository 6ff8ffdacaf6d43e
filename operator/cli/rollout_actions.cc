#include "operator/cli/rollout_actions.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "operator/rollout/pod_template_hash.h"
#include "operator/rollout/replicaset.h"

namespace gantry::cli {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kRollout{"gantry.io", "v1alpha1", "Rollout"};
const kube::GroupVersionKind kReplicaSet{"apps", "v1", "ReplicaSet"};

std::string Name(const RolloutRef& ref) { return fmt::format("Rollout {}/{}", ref.ns, ref.name); }

Result<json> GetRollout(kube::KubeClient& client, const RolloutRef& ref) {
  Result<kube::Object> got = client.Get({kRollout, ref.ns, ref.name});
  if (!got.ok()) return got.status().WithContext(Name(ref));
  return got;
}

// A merge patch of status that only applies to the version just read.
Result<kube::Object> PatchStatus(kube::KubeClient& client, const RolloutRef& ref,
                                 const json& rollout, json status) {
  json patch = {{"metadata", {{"resourceVersion", kube::ResourceVersionOf(rollout)}}},
                {"status", std::move(status)}};
  Result<kube::Object> r = client.Patch({kRollout, ref.ns, ref.name}, kube::PatchType::kMerge,
                                        patch, {false, "gantry-cli", "status"});
  if (!r.ok()) return r.status().WithContext(fmt::format("updating status of {}", Name(ref)));
  return r;
}

Result<kube::Object> PatchSpec(kube::KubeClient& client, const RolloutRef& ref, json spec) {
  Result<kube::Object> r = client.Patch({kRollout, ref.ns, ref.name}, kube::PatchType::kMerge,
                                        {{"spec", std::move(spec)}}, {false, "gantry-cli", ""});
  if (!r.ok()) return r.status().WithContext(fmt::format("updating {}", Name(ref)));
  return r;
}

bool IsPaused(const json& rollout) {
  const json status = rollout.value("status", json::object());
  const json conditions = status.value("pauseConditions", json::array());
  return (conditions.is_array() && !conditions.empty()) ||
         rollout.value("spec", json::object()).value("paused", false);
}

}  // namespace

Result<std::string> PromoteRollout(kube::KubeClient& client, const RolloutRef& ref, bool full) {
  Result<json> rollout = GetRollout(client, ref);
  if (!rollout.ok()) return rollout.status();
  const json& spec = (*rollout)["spec"];
  const json status = rollout->value("status", json::object());
  const bool spec_paused = spec.value("paused", false);
  const bool paused = IsPaused(*rollout);
  if (status.value("abort", false)) {
    return InvalidArgument(
        fmt::format("{} is aborted; use `gantry rollout retry` to start it "
                    "again, or change its template",
                    Name(ref)));
  }
  json patch = json::object();
  std::string summary;
  if (full) {
    patch["promoteFull"] = true;
    patch["pauseConditions"] = nullptr;
    summary = fmt::format("{} promoted: skipping the remaining steps and analysis", Name(ref));
  } else if (paused) {
    // Removing the conditions (controllerPause stays) is how the controller learns that a
    // user resumed.
    patch["pauseConditions"] = nullptr;
    summary = fmt::format("{} promoted: resumed", Name(ref));
  } else {
    const json steps = spec.value("strategy", json::object())
                           .value("canary", json::object())
                           .value("steps", json::array());
    const int64_t index = status.value("currentStepIndex", int64_t{0});
    if (!steps.is_array() || index >= static_cast<int64_t>(steps.size())) {
      return InvalidArgument(
          fmt::format("{} is not paused and has no step left to skip; "
                      "promote --full finishes a blue/green or canary at once",
                      Name(ref)));
    }
    patch["currentStepIndex"] = index + 1;
    json canary = status.value("canary", json::object());
    if (canary.is_object() && canary.contains("currentStepAnalysisRunStatus")) {
      patch["canary"] = {{"currentStepAnalysisRunStatus", nullptr}};
    }
    summary = fmt::format("{} promoted: skipped step {} of {}", Name(ref), index + 1, steps.size());
  }
  if (Result<kube::Object> r = PatchStatus(client, ref, *rollout, patch); !r.ok())
    return r.status();
  if (spec_paused) {
    if (Result<kube::Object> r = PatchSpec(client, ref, {{"paused", false}}); !r.ok()) {
      return r.status();
    }
  }
  return summary;
}

Result<std::string> AbortRollout(kube::KubeClient& client, const RolloutRef& ref) {
  Result<json> rollout = GetRollout(client, ref);
  if (!rollout.ok()) return rollout.status();
  if (Result<kube::Object> r = PatchStatus(client, ref, *rollout, {{"abort", true}}); !r.ok()) {
    return r.status();
  }
  return fmt::format("{} aborted: traffic goes back to stable, then the new pods scale down",
                     Name(ref));
}

Result<std::string> RetryRollout(kube::KubeClient& client, const RolloutRef& ref) {
  Result<json> rollout = GetRollout(client, ref);
  if (!rollout.ok()) return rollout.status();
  if (!rollout->value("status", json::object()).value("abort", false)) {
    return InvalidArgument(fmt::format("{} is not aborted: nothing to retry", Name(ref)));
  }
  if (Result<kube::Object> r = PatchStatus(client, ref, *rollout, {{"abort", false}}); !r.ok()) {
    return r.status();
  }
  return fmt::format("{} retried: the steps start over", Name(ref));
}

namespace {

// A JSON patch guarded by a `test` of the resourceVersion is refused (422, or 409) when anyone
// wrote the Rollout between our read and our patch: the operator's own status writes do so
// every few seconds during a release. Like kubectl on a conflict, read again and retry while the
// Rollout keeps moving; a refusal of an unchanged Rollout is a real error and is returned.
template <typename Attempt>
Result<std::string> WithFreshReads(kube::KubeClient& client, const RolloutRef& ref,
                                   const Attempt& attempt) {
  constexpr int kAttempts = 5;
  for (int i = 1;; ++i) {
    Result<json> rollout = GetRollout(client, ref);
    if (!rollout.ok()) return rollout.status();
    Result<std::string> r = attempt(*rollout);
    if (r.ok() || i == kAttempts) return r;
    const StatusCode code = r.status().code();
    if (code != StatusCode::kInvalid && code != StatusCode::kConflict) return r;
    Result<json> now = GetRollout(client, ref);
    if (!now.ok() || kube::ResourceVersionOf(*now) == kube::ResourceVersionOf(*rollout)) return r;
  }
}

Result<std::string> UndoOnce(kube::KubeClient& client, const RolloutRef& ref,
                             std::optional<int64_t> to_revision, const json& rollout) {
  const std::string uid = kube::UidOf(rollout);
  Result<kube::ObjectList> sets = client.ListAll(kReplicaSet, ref.ns);
  if (!sets.ok())
    return sets.status().WithContext(fmt::format("listing ReplicaSets of {}", Name(ref)));
  std::map<int64_t, rollout::ReplicaSetInfo> by_revision;
  for (kube::Object& item : sets->items) {
    rollout::ReplicaSetInfo rs = rollout::ReadReplicaSet(std::move(item));
    if (rs.controller_uid == uid && rs.revision > 0) by_revision[rs.revision] = std::move(rs);
  }
  const std::string current =
      rollout.value("status", json::object()).value("currentPodHash", std::string());
  int64_t target = 0;
  if (to_revision) {
    target = *to_revision;
  } else {
    // The newest revision that is not the current template.
    for (auto it = by_revision.rbegin(); it != by_revision.rend(); ++it) {
      if (it->second.hash != current) {
        target = it->first;
        break;
      }
    }
  }
  auto found = by_revision.find(target);
  if (found == by_revision.end()) {
    std::string have;
    for (const auto& [rev, rs] : by_revision)
      have += fmt::format("{}{}", have.empty() ? "" : ", ", rev);
    return InvalidArgument(
        fmt::format("{} has no revision {} to go back to (revisions: {})", Name(ref),
                    target == 0 ? std::string("before the current") : std::to_string(target),
                    have.empty() ? "none" : have));
  }
  json tmpl = found->second.object["spec"]["template"];
  if (tmpl.contains("metadata") && tmpl["metadata"].contains("labels")) {
    tmpl["metadata"]["labels"].erase(std::string(rollout::kPodTemplateHashLabel));
  }
  json patch = json::array({{{"op", "test"},
                             {"path", "/metadata/resourceVersion"},
                             {"value", kube::ResourceVersionOf(rollout)}},
                            {{"op", "replace"}, {"path", "/spec/template"}, {"value", tmpl}}});
  Result<kube::Object> r = client.Patch({kRollout, ref.ns, ref.name}, kube::PatchType::kJson, patch,
                                        {false, "gantry-cli", ""});
  if (!r.ok()) return r.status().WithContext(fmt::format("updating {}", Name(ref)));
  return fmt::format("{} rolled back to revision {} ({})", Name(ref), target, found->second.hash);
}

}  // namespace

Result<std::string> UndoRollout(kube::KubeClient& client, const RolloutRef& ref,
                                std::optional<int64_t> to_revision) {
  return WithFreshReads(client, ref, [&](const json& rollout) {
    return UndoOnce(client, ref, to_revision, rollout);
  });
}

Result<std::string> PauseRollout(kube::KubeClient& client, const RolloutRef& ref) {
  if (Result<kube::Object> r = PatchSpec(client, ref, {{"paused", true}}); !r.ok()) {
    return r.status();
  }
  return fmt::format("{} paused", Name(ref));
}

Result<std::string> RestartRollout(kube::KubeClient& client, const RolloutRef& ref,
                                   Clock::TimePoint now) {
  const std::string at = FormatRfc3339(now);
  if (Result<kube::Object> r = PatchSpec(client, ref, {{"restartAt", at}}); !r.ok()) {
    return r.status();
  }
  return fmt::format("{} restarting: pods created before {} are replaced one at a time", Name(ref),
                     at);
}

namespace {

Result<std::string> SetImageOnce(kube::KubeClient& client, const RolloutRef& ref,
                                 const std::vector<std::pair<std::string, std::string>>& images,
                                 const json& rollout) {
  const json pod_spec = rollout.value("spec", json::object())
                            .value("template", json::object())
                            .value("spec", json::object());
  json patch = json::array({{{"op", "test"},
                             {"path", "/metadata/resourceVersion"},
                             {"value", kube::ResourceVersionOf(rollout)}}});
  std::vector<std::string> changed;
  for (const auto& [container, image] : images) {
    bool found = false;
    for (const char* list : {"initContainers", "containers"}) {
      const json items = pod_spec.value(list, json::array());
      for (size_t i = 0; i < items.size(); ++i) {
        if (container != "*" && items[i].value("name", "") != container) continue;
        found = true;
        patch.push_back({{"op", "replace"},
                         {"path", fmt::format("/spec/template/spec/{}/{}/image", list, i)},
                         {"value", image}});
        changed.push_back(fmt::format("{}={}", items[i].value("name", ""), image));
      }
    }
    if (!found) {
      return InvalidArgument(fmt::format("{} has no container named {}", Name(ref), container));
    }
  }
  Result<kube::Object> r = client.Patch({kRollout, ref.ns, ref.name}, kube::PatchType::kJson, patch,
                                        {false, "gantry-cli", ""});
  if (!r.ok()) return r.status().WithContext(fmt::format("updating {}", Name(ref)));
  std::string list;
  for (const std::string& c : changed) list += (list.empty() ? "" : ", ") + c;
  return fmt::format("{} image updated: {}", Name(ref), list);
}

}  // namespace

Result<std::string> SetRolloutImage(
    kube::KubeClient& client, const RolloutRef& ref,
    const std::vector<std::pair<std::string, std::string>>& images) {
  if (images.empty()) return InvalidArgument("set-image needs at least one CONTAINER=IMAGE");
  return WithFreshReads(
      client, ref, [&](const json& rollout) { return SetImageOnce(client, ref, images, rollout); });
}

}  // namespace gantry::cli
