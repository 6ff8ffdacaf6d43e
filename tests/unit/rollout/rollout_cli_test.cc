// The `gantry rollout` actions against the fake API server, together with the controller
// passes that react to them, and the `get` tree.
#include <gtest/gtest.h>

#include "operator/cli/rollout_actions.h"
#include "operator/cli/rollout_view.h"
#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using cli::RolloutRef;

class RolloutCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w.CreateService("web-stable");
    w.CreateService("web-canary");
    json strategy = {{"canary",
                      {{"stableService", "web-stable"},
                       {"canaryService", "web-canary"},
                       {"maxSurge", 1},
                       {"maxUnavailable", 0},
                       {"steps", json::array({{{"setWeight", 25}},
                                              {{"pause", json::object()}},
                                              {{"setWeight", 50}},
                                              {{"pause", json::object()}}})}}}};
    w.Create(RolloutWorld::RolloutJson(4, "web:1", strategy));
    w.Converge();
    stable = w.StableHash();
  }
  RolloutWorld w;
  std::string stable;
  const RolloutRef ref{"shop", "web"};
};

TEST_F(RolloutCliTest, SetImageStartsACanaryAndPromoteMovesItOn) {
  auto r = cli::SetRolloutImage(w.client, ref, {{"web", "web:2"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->find("web=web:2"), std::string::npos);
  w.Converge();
  ASSERT_EQ(w.Phase(), "Paused");
  ASSERT_EQ(w.StepIndex(), 1);
  auto p = cli::PromoteRollout(w.client, ref, false);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_NE(p->find("resumed"), std::string::npos);
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 3);
  EXPECT_EQ(w.Phase(), "Paused");
  auto full = cli::PromoteRollout(w.client, ref, true);
  ASSERT_TRUE(full.ok());
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_NE(w.StableHash(), stable);
}

TEST_F(RolloutCliTest, SetImageRefusedOnAnUnchangedRolloutIsAnErrorNotARetry) {
  // A refusal while nobody else wrote the Rollout is real (e.g. an invalid value): returned
  // after one attempt. A refusal because the Rollout moved is retried with a fresh read; the
  // conflicting-writers fault test drives that path against a real API server.
  w.client.InjectError(kube::FakeKubeClient::Verb::kPatch, "Rollout", "web",
                       Status(StatusCode::kInvalid, "the server rejected our request"), 1);
  w.client.ClearActions();
  auto r = cli::SetRolloutImage(w.client, ref, {{"web", "web:2"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalid);
  int patches = 0;
  for (const auto& a : w.client.Actions()) {
    if (a.verb == kube::FakeKubeClient::Verb::kPatch) ++patches;
  }
  EXPECT_EQ(patches, 1);
  ASSERT_TRUE(cli::SetRolloutImage(w.client, ref, {{"web", "web:2"}}).ok());
}

TEST_F(RolloutCliTest, PromoteWhileNotPausedSkipsTheStep) {
  ASSERT_TRUE(cli::SetRolloutImage(w.client, ref, {{"*", "web:2"}}).ok());
  w.Pass();
  ASSERT_EQ(w.StepIndex(), 0);
  auto p = cli::PromoteRollout(w.client, ref, false);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_NE(p->find("skipped step 1"), std::string::npos);
  EXPECT_EQ(w.StepIndex(), 1);
}

TEST_F(RolloutCliTest, AbortRetryAndTheirPreconditions) {
  EXPECT_FALSE(cli::RetryRollout(w.client, ref).ok());  // not aborted
  ASSERT_TRUE(cli::SetRolloutImage(w.client, ref, {{"web", "web:2"}}).ok());
  w.Converge();
  ASSERT_TRUE(cli::AbortRollout(w.client, ref).ok());
  w.Converge();
  EXPECT_EQ(w.Phase(), "Degraded");
  auto promote = cli::PromoteRollout(w.client, ref, false);
  ASSERT_FALSE(promote.ok());
  EXPECT_NE(promote.status().message().find("retry"), std::string::npos);
  ASSERT_TRUE(cli::RetryRollout(w.client, ref).ok());
  w.Converge();
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.StepIndex(), 1);
}

TEST_F(RolloutCliTest, UndoGoesBackToThePreviousRevisionAndReusesItsReplicaSet) {
  ASSERT_TRUE(cli::SetRolloutImage(w.client, ref, {{"web", "web:2"}}).ok());
  w.Converge();
  ASSERT_TRUE(cli::PromoteRollout(w.client, ref, true).ok());
  w.Converge();
  const std::string second = w.StableHash();
  ASSERT_NE(second, stable);
  // The API server would fill defaults into the ReplicaSet's template; undo copies them back.
  json rs = w.ReplicaSetOf(stable);
  rs["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "IfNotPresent";
  ASSERT_TRUE(w.client.Update(rs).ok());

  auto undo = cli::UndoRollout(w.client, ref, std::nullopt);
  ASSERT_TRUE(undo.ok()) << undo.status().ToString();
  EXPECT_NE(undo->find("revision 1"), std::string::npos);
  w.Converge();
  // Going back is a release like any other: the old template walks the steps again.
  EXPECT_EQ(w.CurrentHash(), stable);
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.ReplicasOf(stable), 1);
  ASSERT_TRUE(cli::PromoteRollout(w.client, ref, true).ok());
  w.Converge();
  EXPECT_EQ(w.StableHash(), stable);
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(w.Replicas().size(), 2u);  // no third ReplicaSet
  EXPECT_EQ(w.ReplicasOf(stable), 4);
  EXPECT_EQ(w.ReplicaSetOf(stable)["metadata"]["annotations"]["gantry.io/revision"], "3");

  auto missing = cli::UndoRollout(w.client, ref, 7);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no revision 7"), std::string::npos);
  EXPECT_NE(missing.status().message().find("revisions: 2, 3"), std::string::npos);

  // --to-revision: any revision still in the history, here the second image.
  auto to_second = cli::UndoRollout(w.client, ref, 2);
  ASSERT_TRUE(to_second.ok()) << to_second.status().ToString();
  EXPECT_NE(to_second->find("revision 2"), std::string::npos) << *to_second;
  EXPECT_EQ(w.Rollout()["spec"]["template"]["spec"]["containers"][0]["image"], "web:2");
  w.Converge();
  EXPECT_EQ(w.CurrentHash(), second);
  EXPECT_EQ(w.Replicas().size(), 2u);  // its ReplicaSet is reused
}

TEST_F(RolloutCliTest, PauseRestartAndSetImageErrors) {
  ASSERT_TRUE(cli::PauseRollout(w.client, ref).ok());
  EXPECT_EQ(w.Rollout()["spec"]["paused"], true);
  w.clock.Advance(std::chrono::seconds(5));
  auto restart = cli::RestartRollout(w.client, ref, w.clock.Now());
  ASSERT_TRUE(restart.ok());
  EXPECT_EQ(w.Rollout()["spec"]["restartAt"], FormatRfc3339(w.clock.Now()));
  auto bad = cli::SetRolloutImage(w.client, ref, {{"sidecar", "x:1"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("no container named sidecar"), std::string::npos);
  auto gone = cli::AbortRollout(w.client, RolloutRef{"shop", "nope"});
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find("Rollout shop/nope"), std::string::npos);
}

TEST_F(RolloutCliTest, GetShowsRevisionsReplicaSetsPodsAndRuns) {
  ASSERT_TRUE(cli::SetRolloutImage(w.client, ref, {{"web", "web:2"}}).ok());
  w.Converge();
  const std::string canary = w.CurrentHash();
  w.Create(json{{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata",
                 {{"name", "web-" + canary + "-abcde"},
                  {"namespace", "shop"},
                  {"labels", {{"app", "web"}, {"rollouts-pod-template-hash", canary}}}}},
                {"spec", {{"containers", json::array({{{"name", "web"}}})}}},
                {"status",
                 {{"phase", "Running"},
                  {"containerStatuses", json::array({{{"name", "web"}, {"ready", true}}})}}}});
  auto view = cli::FetchRolloutView(w.client, "shop", "web");
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  w.clock.Advance(std::chrono::minutes(3));
  const std::string text = cli::RenderRolloutView(*view, w.clock.Now());
  EXPECT_NE(text.find("Status:         ॥ Paused"), std::string::npos) << text;
  EXPECT_NE(text.find("Step:         1/4"), std::string::npos) << text;
  EXPECT_NE(text.find("SetWeight:    25"), std::string::npos) << text;
  EXPECT_NE(text.find("ActualWeight: 25"), std::string::npos) << text;
  EXPECT_NE(text.find("web:1 (stable)"), std::string::npos) << text;
  EXPECT_NE(text.find("web:2 (canary)"), std::string::npos) << text;
  EXPECT_NE(text.find("# revision:2"), std::string::npos) << text;
  EXPECT_NE(text.find("# revision:1"), std::string::npos) << text;
  EXPECT_LT(text.find("# revision:2"), text.find("# revision:1")) << text;
  EXPECT_NE(text.find("web-" + canary + "-abcde"), std::string::npos) << text;
  EXPECT_NE(text.find("ready:1/1"), std::string::npos) << text;
  EXPECT_NE(text.find("3m"), std::string::npos) << text;
  auto gone = cli::FetchRolloutView(w.client, "shop", "nope");
  EXPECT_FALSE(gone.ok());
}

TEST(RolloutViewTest, Ages) {
  EXPECT_EQ(cli::FormatAge(std::chrono::seconds(5)), "5s");
  EXPECT_EQ(cli::FormatAge(std::chrono::minutes(5)), "5m");
  EXPECT_EQ(cli::FormatAge(std::chrono::hours(5)), "5h");
  EXPECT_EQ(cli::FormatAge(std::chrono::hours(50)), "2d");
  EXPECT_EQ(cli::FormatAge(std::chrono::seconds(-5)), "0s");
}

}  // namespace
}  // namespace gantry::rollout::testing
