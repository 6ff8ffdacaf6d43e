// Abort at every step of a canary that uses each step type, and at every stage of a blue/green
// release: the first pass after the abort puts all traffic on stable (NGINX canary weight 0,
// active Service unchanged) while the new pods are still up; they go only after
// abortScaleDownDelaySeconds; a retry starts the steps again.
#include <gtest/gtest.h>

#include <string>

#include "operator/rollout/trafficrouting/nginx_ingress.h"
#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using std::chrono::seconds;

json CheckTemplate() {
  return json{
      {"apiVersion", "gantry.io/v1alpha1"},
      {"kind", "AnalysisTemplate"},
      {"metadata", {{"name", "check"}, {"namespace", "shop"}}},
      {"spec",
       {{"metrics",
         json::array({{{"name", "ok"}, {"provider", {{"web", {{"url", "http://x"}}}}}}})}}}};
}

// Every step type, in the order a user would write them.
json AllStepTypes() {
  return json::array({{{"setWeight", 20}},
                      {{"pause", {{"duration", "1h"}}}},
                      {{"setCanaryScale", {{"replicas", 3}}}},
                      {{"analysis", {{"templates", json::array({{{"templateName", "check"}}})}}}},
                      {{"pause", json::object()}},
                      {{"setCanaryScale", {{"matchTrafficWeight", true}}}},
                      {{"setWeight", 60}},
                      {{"pause", json::object()}}});
}

class CanaryAbortAtStepTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    w.Create(CheckTemplate());
    w.CreateService("web-stable");
    w.CreateService("web-canary");
    w.Create(json::parse(R"({"apiVersion":"networking.k8s.io/v1","kind":"Ingress",
        "metadata":{"name":"web","namespace":"shop"},
        "spec":{"rules":[{"http":{"paths":[{"path":"/","pathType":"Prefix",
          "backend":{"service":{"name":"web-stable","port":{"number":80}}}}]}}]}})"));
    json strategy = {{"canary",
                      {{"stableService", "web-stable"},
                       {"canaryService", "web-canary"},
                       {"abortScaleDownDelaySeconds", 10},
                       {"trafficRouting", {{"nginx", {{"stableIngress", "web"}}}}},
                       {"steps", AllStepTypes()}}}};
    w.Create(RolloutWorld::RolloutJson(5, "web:1", strategy));
    w.Converge();
    stable = w.StableHash();
    ASSERT_EQ(w.Phase(), "Healthy");
  }

  int Weight() {
    auto ing = w.client.Get({kIngressKind, "shop", "web-web-canary"});
    return ing.ok() ? nginx::CanaryIngressWeight(*ing).value_or(-1) : -1;
  }

  // Moves the new revision on one pass at a time, doing what a user or the analysis would do
  // to get past each step, until step `index` is the current one.
  void ReachStep(int index) {
    for (int i = 0; i < 200 && w.StepIndex() != index; ++i) {
      w.Pass();
      w.Settle();
      if (w.StepIndex() == index) return;
      if (w.Phase() == "Paused") w.Promote();
      for (const json& run : w.AnalysisRuns()) {
        if (run.value("status", json::object()).value("phase", "") != "Successful") {
          w.SetRunPhase(run["metadata"]["name"], "Successful");
        }
      }
    }
    ASSERT_EQ(w.StepIndex(), index);
  }

  RolloutWorld w;
  std::string stable;
};

TEST_P(CanaryAbortAtStepTest, TrafficGoesBackFirstThenTheCanaryScalesDown) {
  const int step = GetParam();
  w.SetImage("web:2");
  ReachStep(step);
  const std::string canary = w.CurrentHash();
  const int canary_pods = w.ReplicasOf(canary);
  SCOPED_TRACE("aborted at step " + std::to_string(step) + " " + AllStepTypes()[step].dump() +
               " with " + std::to_string(canary_pods) + " canary pods and weight " +
               std::to_string(Weight()));

  w.PatchStatus({{"abort", true}});
  w.Pass();
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_EQ(Weight(), 0);                        // traffic first...
  EXPECT_EQ(w.ReplicasOf(canary), canary_pods);  // ...pods later
  EXPECT_EQ(w.ServiceSelector("web-stable"), stable);
  EXPECT_EQ(w.Status()["canary"]["weights"]["canary"]["weight"], 0);
  for (const json& run : w.AnalysisRuns()) {
    const std::string phase = run.value("status", json::object()).value("phase", "");
    if (phase != "Successful") {
      EXPECT_EQ(run["spec"]["terminate"], true) << run.dump();
    }
  }

  w.Converge();
  EXPECT_EQ(w.ReplicasOf(stable), 5);
  w.clock.Advance(seconds(11));
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(canary), 0);
  EXPECT_EQ(w.ReplicasOf(stable), 5);
  EXPECT_EQ(Weight(), 0);
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_NE(w.Status()["message"].get<std::string>().find("RolloutAborted"), std::string::npos);

  // Retry: the steps start over from the first.
  w.PatchStatus({{"abort", false}});
  w.Pass();
  EXPECT_EQ(w.StepIndex(), 0);
  EXPECT_NE(w.Phase(), "Degraded");
}

INSTANTIATE_TEST_SUITE_P(EveryStep, CanaryAbortAtStepTest, ::testing::Range(0, 8));

class BlueGreenAbortTest : public ::testing::Test {
 protected:
  void Start(json bg) {
    w.Create(CheckTemplate());
    w.CreateService("web-active");
    w.CreateService("web-preview");
    bg["activeService"] = "web-active";
    bg["previewService"] = "web-preview";
    bg["abortScaleDownDelaySeconds"] = 10;
    w.Create(RolloutWorld::RolloutJson(3, "web:1", json{{"blueGreen", bg}}));
    w.Converge();
    blue = w.StableHash();
    ASSERT_EQ(w.Phase(), "Healthy");
    w.SetImage("web:2");
  }
  void AbortAndCheck() {
    const std::string green = w.CurrentHash();
    w.PatchStatus({{"abort", true}});
    w.Pass();
    EXPECT_EQ(w.Phase(), "Degraded");
    EXPECT_EQ(w.ServiceSelector("web-active"), blue);
    w.clock.Advance(seconds(11));
    w.Converge();
    EXPECT_EQ(w.ReplicasOf(green), 0);
    EXPECT_EQ(w.ReplicasOf(blue), 3);
    EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  }
  RolloutWorld w;
  std::string blue;
};

TEST_F(BlueGreenAbortTest, WhileThePreviewScalesUp) {
  Start(json{{"autoPromotionEnabled", false}});
  w.Pass();  // green created, not ready
  ASSERT_EQ(w.Phase(), "Progressing");
  AbortAndCheck();
}

TEST_F(BlueGreenAbortTest, WhilePausedBeforePromotion) {
  Start(json{{"autoPromotionEnabled", false}});
  w.Converge();
  ASSERT_EQ(w.Phase(), "Paused");
  AbortAndCheck();
}

TEST_F(BlueGreenAbortTest, WhilePrePromotionAnalysisRuns) {
  Start(
      json{{"prePromotionAnalysis", {{"templates", json::array({{{"templateName", "check"}}})}}}});
  w.Converge();
  ASSERT_EQ(w.AnalysisRuns().size(), 1u);
  AbortAndCheck();
  EXPECT_EQ(w.AnalysisRuns()[0]["spec"]["terminate"], true);
}

TEST_F(BlueGreenAbortTest, WhileWaitingForAutoPromotion) {
  Start(json{{"autoPromotionSeconds", 600}});
  w.Converge();
  ASSERT_NE(w.ServiceSelector("web-active"), w.CurrentHash());
  AbortAndCheck();
}

}  // namespace
}  // namespace gantry::rollout::testing
