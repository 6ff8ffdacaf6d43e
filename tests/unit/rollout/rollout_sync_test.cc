// What every Rollout pass does regardless of strategy: invalid specs, hash collisions,
// adoption, restarts, a deleted Rollout, status writes only on change.
#include <gtest/gtest.h>

#include "operator/rollout/pod_template_hash.h"
#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using std::chrono::seconds;

json Plain(int replicas = 2) {
  return RolloutWorld::RolloutJson(replicas, "web:1", json{{"canary", json::object()}});
}

TEST(RolloutSyncTest, GoneRolloutIsNothingToDo) {
  RolloutWorld w;
  auto r = w.TryPass();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, SyncOutcome::Kind::kGone);
}

TEST(RolloutSyncTest, InvalidSpecStallsWithTheReason) {
  RolloutWorld w;
  json bad = Plain();
  bad["spec"]["template"]["metadata"]["labels"]["app"] = "other";  // selector does not match
  w.Create(bad);
  auto r = w.TryPass();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, SyncOutcome::Kind::kStalled);
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_NE(w.Status()["message"].get<std::string>().find("InvalidSpec"), std::string::npos);
  EXPECT_TRUE(w.HasEvent("InvalidSpec"));
  EXPECT_TRUE(w.Replicas().empty());  // nothing created
}

TEST(RolloutSyncTest, StatusIsWrittenOnlyWhenItChanges) {
  RolloutWorld w;
  w.Create(Plain());
  w.Converge();
  ASSERT_EQ(w.Phase(), "Healthy");
  const std::string rv = w.Rollout()["metadata"]["resourceVersion"];
  w.Pass();
  w.Pass();
  EXPECT_EQ(w.Rollout()["metadata"]["resourceVersion"], rv);
}

TEST(RolloutSyncTest, HashCollisionBumpsTheCollisionCount) {
  RolloutWorld w;
  json rollout = Plain();
  const std::string hash = ComputePodTemplateHash(rollout["spec"]["template"], std::nullopt);
  // Someone else's ReplicaSet already has the name.
  json foreign = json::parse(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
      "metadata":{"namespace":"shop"},
      "spec":{"replicas":0,"selector":{"matchLabels":{"app":"other"}},
              "template":{"metadata":{"labels":{"app":"other"}}}}})");
  foreign["metadata"]["name"] = "web-" + hash;
  w.Create(foreign);
  w.Create(rollout);
  w.Converge();
  EXPECT_EQ(w.Status()["collisionCount"], 1);
  EXPECT_TRUE(w.HasEvent("HashCollision"));
  const std::string current = w.CurrentHash();
  EXPECT_NE(current, hash);
  EXPECT_EQ(current, ComputePodTemplateHash(rollout["spec"]["template"], 1));
  EXPECT_EQ(w.ReplicasOf(current), 2);
  EXPECT_EQ(w.Phase(), "Healthy");
}

TEST(RolloutSyncTest, AdoptsOrphanReplicaSetsOfItsTemplate) {
  RolloutWorld w;
  json rollout = Plain();
  w.Create(rollout);
  w.Converge();
  const std::string hash = w.CurrentHash();
  // The Rollout is deleted with orphan propagation and created again.
  ASSERT_TRUE(w.client.Delete({kRolloutKind, "shop", "web"}).ok());
  json rs = w.ReplicaSetOf(hash);
  rs["metadata"].erase("ownerReferences");
  ASSERT_TRUE(w.client.Update(rs).ok());
  w.Create(rollout);
  w.Converge();
  EXPECT_EQ(w.Replicas().size(), 1u);
  EXPECT_EQ(w.ReplicasOf(hash), 2);
  EXPECT_TRUE(w.HasEvent("ReplicaSetAdopted"));
  EXPECT_EQ(w.ReplicaSetOf(hash)["metadata"]["ownerReferences"][0]["uid"],
            w.Rollout()["metadata"]["uid"]);
}

TEST(RolloutSyncTest, RestartReplacesOldPodsOneAtATime) {
  RolloutWorld w;
  w.Create(Plain(2));
  w.Converge();
  const std::string hash = w.CurrentHash();
  for (int i = 0; i < 2; ++i) {
    w.Create(json{{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata",
                   {{"name", "web-" + hash + "-" + std::to_string(i)},
                    {"namespace", "shop"},
                    {"labels", {{"app", "web"}, {"rollouts-pod-template-hash", hash}}}}},
                  {"spec", json::object()}});
  }
  w.clock.Advance(seconds(10));
  w.PatchSpec({{"restartAt", FormatRfc3339(w.clock.Now())}});
  w.Pass();
  EXPECT_EQ(w.client.List(kPodKind, "shop")->items.size(), 1u);
  EXPECT_TRUE(w.HasEvent("RestartingPod"));
  w.Pass();
  EXPECT_EQ(w.client.List(kPodKind, "shop")->items.size(), 0u);
  w.Pass();
  EXPECT_TRUE(w.Status().contains("restartedAt"));
  EXPECT_TRUE(w.HasEvent("RolloutRestarted"));
}

TEST(RolloutSyncTest, RestartWaitsWhilePodsAreUnavailable) {
  RolloutWorld w;
  w.Create(Plain(2));
  w.Converge();
  const std::string hash = w.CurrentHash();
  w.Create(json{{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata",
                 {{"name", "p"},
                  {"namespace", "shop"},
                  {"labels", {{"app", "web"}, {"rollouts-pod-template-hash", hash}}}}}});
  w.ready_limit[hash] = 1;
  w.Settle();
  w.clock.Advance(seconds(10));
  w.PatchSpec({{"restartAt", FormatRfc3339(w.clock.Now())}});
  w.Pass();
  EXPECT_EQ(w.client.List(kPodKind, "shop")->items.size(), 1u);
}

TEST(RolloutSyncTest, ApiErrorsAreReturnedForBackoff) {
  RolloutWorld w;
  w.Create(Plain());
  w.client.InjectError(kube::FakeKubeClient::Verb::kCreate, "ReplicaSet", "",
                       Status(StatusCode::kUnavailable, "etcd is down"));
  auto r = w.TryPass();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
}

}  // namespace
}  // namespace gantry::rollout::testing
