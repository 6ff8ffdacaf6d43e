#include "operator/rollout/replicaset.h"

#include <gtest/gtest.h>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

json Template(const std::string& image) {
  return json{{"metadata", {{"labels", {{"app", "web"}}}}},
              {"spec", {{"containers", json::array({{{"name", "web"}, {"image", image}}})}}}};
}

NewReplicaSetParams Params() {
  NewReplicaSetParams p;
  p.ns = "shop";
  p.owner = {"gantry.io/v1alpha1", "Rollout", "web", "uid-1"};
  p.pod_template = Template("nginx:1");
  p.selector = {{"matchLabels", {{"app", "web"}}}};
  p.hash = "abc12";
  p.revision = 3;
  p.replicas = 2;
  p.min_ready_seconds = 5;
  return p;
}

TEST(ReplicaSetTest, NewReplicaSetIsLabelledOwnedAndRevisioned) {
  const json rs = NewReplicaSet(Params());
  EXPECT_EQ(rs["apiVersion"], "apps/v1");
  EXPECT_EQ(rs["kind"], "ReplicaSet");
  EXPECT_EQ(rs["metadata"]["name"], "web-abc12");
  EXPECT_EQ(rs["metadata"]["namespace"], "shop");
  EXPECT_EQ(rs["metadata"]["labels"]["rollouts-pod-template-hash"], "abc12");
  EXPECT_EQ(rs["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(rs["metadata"]["annotations"]["gantry.io/revision"], "3");
  const json& owner = rs["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Rollout");
  EXPECT_EQ(owner["uid"], "uid-1");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(rs["spec"]["replicas"], 2);
  EXPECT_EQ(rs["spec"]["minReadySeconds"], 5);
  EXPECT_EQ(rs["spec"]["selector"]["matchLabels"]["rollouts-pod-template-hash"], "abc12");
  EXPECT_EQ(rs["spec"]["selector"]["matchLabels"]["app"], "web");
  EXPECT_EQ(rs["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"], "abc12");
}

TEST(ReplicaSetTest, ReadsWhatItWrote) {
  json object = NewReplicaSet(Params());
  object["metadata"]["generation"] = 2;
  object["status"] = {
      {"replicas", 2}, {"readyReplicas", 2}, {"availableReplicas", 1}, {"observedGeneration", 2}};
  object["metadata"]["annotations"]["gantry.io/scale-down-deadline"] = "2026-01-02T03:04:05Z";
  const ReplicaSetInfo rs = ReadReplicaSet(object);
  EXPECT_EQ(rs.name, "web-abc12");
  EXPECT_EQ(rs.hash, "abc12");
  EXPECT_EQ(rs.revision, 3);
  EXPECT_EQ(rs.desired, 2);
  EXPECT_EQ(rs.replicas, 2);
  EXPECT_EQ(rs.ready, 2);
  EXPECT_EQ(rs.available, 1);
  EXPECT_TRUE(rs.StatusCurrent());
  EXPECT_EQ(rs.controller_uid, "uid-1");
  ASSERT_TRUE(rs.scale_down_deadline.has_value());
  EXPECT_EQ(FormatRfc3339(*rs.scale_down_deadline), "2026-01-02T03:04:05Z");
  EXPECT_FALSE(rs.being_deleted);
}

TEST(ReplicaSetTest, ReadsLeniently) {
  const ReplicaSetInfo rs = ReadReplicaSet(json::parse(
      R"({"metadata":{"name":"x","annotations":{"gantry.io/revision":"two"}},"spec":{}})"));
  EXPECT_EQ(rs.revision, 0);
  EXPECT_EQ(rs.desired, 1);  // Kubernetes' default
  EXPECT_EQ(rs.hash, "");
  EXPECT_EQ(rs.controller_uid, "");
  EXPECT_FALSE(rs.scale_down_deadline.has_value());
}

TEST(ReplicaSetTest, TemplateMatchesIgnoresServerDefaultsAndHashLabel) {
  json live = NewReplicaSet(Params())["spec"]["template"];
  live["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  live["spec"]["restartPolicy"] = "Always";
  EXPECT_TRUE(TemplateMatches(Template("nginx:1"), live));
  EXPECT_FALSE(TemplateMatches(Template("nginx:2"), live));
  json more = Template("nginx:1");
  more["spec"]["containers"].push_back({{"name", "sidecar"}, {"image", "envoy"}});
  EXPECT_FALSE(TemplateMatches(more, live));
}

TEST(ReplicaSetTest, NamesStayValid) {
  EXPECT_EQ(ReplicaSetName("web", "h1"), "web-h1");
  const std::string name = ReplicaSetName(std::string(300, 'a'), "hash");
  EXPECT_EQ(name.size(), 253u);
  EXPECT_EQ(name.substr(248), "-hash");
}

ReplicaSetInfo Rs(const std::string& name, int64_t revision, int32_t desired, int32_t replicas) {
  ReplicaSetInfo rs;
  rs.name = name;
  rs.revision = revision;
  rs.desired = desired;
  rs.replicas = replicas;
  return rs;
}

TEST(ReplicaSetTest, PrunesOldestEmptyBeyondTheLimit) {
  const std::vector<ReplicaSetInfo> sets = {
      Rs("r1", 1, 0, 0), Rs("r2", 2, 0, 0),     Rs("r3", 3, 0, 1),  // pods still going away
      Rs("r4", 4, 0, 0), Rs("stable", 5, 3, 3), Rs("new", 6, 1, 1)};
  EXPECT_EQ(ReplicaSetsToPrune(sets, {"stable", "new"}, 2), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(ReplicaSetsToPrune(sets, {"stable", "new"}, 0),
            (std::vector<std::string>{"r1", "r2", "r4"}));
  EXPECT_TRUE(ReplicaSetsToPrune(sets, {"stable", "new"}, 10).empty());
  EXPECT_EQ(MaxRevision(sets), 6);
}

TEST(ReplicaSetTest, ScalePatchSetsAndClearsTheDeadline) {
  const Clock::TimePoint t{std::chrono::seconds(1'700'000'000)};
  json with = ScalePatch(3, t);
  EXPECT_EQ(with["spec"]["replicas"], 3);
  EXPECT_EQ(with["metadata"]["annotations"]["gantry.io/scale-down-deadline"],
            "2023-11-14T22:13:20Z");
  json without = ScalePatch(0, std::nullopt);
  EXPECT_TRUE(without["metadata"]["annotations"]["gantry.io/scale-down-deadline"].is_null());
}

}  // namespace
}  // namespace gantry::rollout

namespace gantry::rollout {
namespace {

TEST(ReplicaSetTest, SameTemplateIsSymmetric) {
  nlohmann::json live = NewReplicaSet(Params())["spec"]["template"];
  live["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  nlohmann::json copied = live;  // what undo writes back into the Rollout
  copied["metadata"]["labels"].erase("rollouts-pod-template-hash");
  EXPECT_TRUE(SameTemplate(copied, live));
  EXPECT_FALSE(SameTemplate(Template("nginx:1"), live));  // defaults missing on one side
  EXPECT_TRUE(TemplateMatches(Template("nginx:1"), live));
}

}  // namespace
}  // namespace gantry::rollout
