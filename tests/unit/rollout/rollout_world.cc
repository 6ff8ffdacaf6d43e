#include "rollout_world.h"

#include <algorithm>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout::testing {
namespace {

std::string HashOf(const json& rs) {
  const json labels = rs["metadata"].value("labels", json::object());
  return labels.value(std::string(kPodTemplateHashLabel), "");
}

}  // namespace

RolloutWorld::RolloutWorld()
    : deps{client, clock,
           [this](const kube::Object&, const RolloutEvent& e) { events.push_back(e); }} {
  client.RegisterKind({kRunKind, "analysisruns", true, {}, {"status"}});
}

json RolloutWorld::RolloutJson(int replicas, const std::string& image, json strategy) {
  return json{{"apiVersion", "gantry.io/v1alpha1"},
              {"kind", "Rollout"},
              {"metadata", {{"name", "web"}, {"namespace", "shop"}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", {{"matchLabels", {{"app", "web"}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", "web"}}}}},
                  {"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}}},
                {"strategy", std::move(strategy)}}}};
}

void RolloutWorld::Create(const json& object) {
  auto r = client.Create(object);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

void RolloutWorld::CreateService(const std::string& name) {
  Create(
      json{{"apiVersion", "v1"},
           {"kind", "Service"},
           {"metadata", {{"name", name}, {"namespace", ns}}},
           {"spec", {{"selector", {{"app", "web"}}}, {"ports", json::array({{{"port", 80}}})}}}});
}

Result<SyncOutcome> RolloutWorld::TryPass() { return SyncRollout(deps, {ns, "web"}); }

SyncOutcome RolloutWorld::Pass() {
  Result<SyncOutcome> r = TryPass();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : SyncOutcome{};
}

void RolloutWorld::Settle() {
  auto list = client.List(kRsKind, ns);
  ASSERT_TRUE(list.ok());
  for (json rs : list->items) {
    const int spec = rs["spec"].value("replicas", 1);
    const std::string hash = HashOf(rs);
    int ready = spec;
    if (auto it = ready_limit.find(hash); it != ready_limit.end())
      ready = std::min(ready, it->second);
    rs["status"] = {{"replicas", spec},
                    {"readyReplicas", ready},
                    {"availableReplicas", ready},
                    {"observedGeneration", rs["metadata"].value("generation", 1)}};
    auto r = client.UpdateStatus(rs);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
}

void RolloutWorld::Converge(int max_passes) {
  json last;
  for (int i = 0; i < max_passes; ++i) {
    Pass();
    Settle();
    json now = Rollout();
    json rs = client.List(kRsKind, ns)->items;
    json snapshot = {{"status", now["status"]}, {"rs", rs}};
    if (snapshot == last) return;
    last = std::move(snapshot);
  }
}

json RolloutWorld::Rollout() {
  auto r = client.Get({kRolloutKind, ns, "web"});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : json::object();
}

api::Rollout RolloutWorld::Typed() {
  auto r = api::Rollout::FromJson(Rollout());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : api::Rollout{};
}

std::map<std::string, int> RolloutWorld::Replicas() {
  std::map<std::string, int> out;
  auto list = client.List(kRsKind, ns);
  EXPECT_TRUE(list.ok());
  for (const json& rs : list->items) {
    out[HashOf(rs)] = rs["spec"].value("replicas", 1);
  }
  return out;
}

int RolloutWorld::ReplicasOf(const std::string& hash) {
  auto all = Replicas();
  auto it = all.find(hash);
  return it == all.end() ? -1 : it->second;
}

json RolloutWorld::ReplicaSetOf(const std::string& hash) {
  auto list = client.List(kRsKind, ns);
  for (const json& rs : list->items) {
    if (HashOf(rs) == hash) return rs;
  }
  return json();
}

std::string RolloutWorld::ServiceSelector(const std::string& service) {
  auto svc = client.Get({kServiceKind, ns, service});
  EXPECT_TRUE(svc.ok());
  return (*svc)["spec"]["selector"].value(std::string(kPodTemplateHashLabel), "");
}

void RolloutWorld::SetImage(const std::string& image) {
  PatchSpec({{"template",
              {{"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}}}});
}

void RolloutWorld::PatchSpec(const json& spec_patch) {
  auto r = client.Patch({kRolloutKind, ns, "web"}, kube::PatchType::kMerge, {{"spec", spec_patch}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

void RolloutWorld::PatchStatus(const json& status_patch) {
  auto r = client.Patch({kRolloutKind, ns, "web"}, kube::PatchType::kMerge,
                        {{"status", status_patch}}, {false, "", "status"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

void RolloutWorld::Promote() { PatchStatus({{"pauseConditions", nullptr}}); }

std::vector<json> RolloutWorld::AnalysisRuns() {
  auto list = client.List(kRunKind, ns);
  EXPECT_TRUE(list.ok());
  return list.ok() ? list->items : std::vector<json>{};
}

void RolloutWorld::SetRunPhase(const std::string& name, const std::string& phase) {
  auto r = client.Patch({kRunKind, ns, name}, kube::PatchType::kMerge,
                        {{"status", {{"phase", phase}, {"message", "set by test"}}}},
                        {false, "", "status"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

bool RolloutWorld::HasEvent(const std::string& reason) const {
  return std::any_of(events.begin(), events.end(),
                     [&](const RolloutEvent& e) { return e.reason == reason; });
}

}  // namespace gantry::rollout::testing
