// The blue/green strategy pass by pass: preview, manual and timed promotion, the scale-down
// delay, pre/post-promotion analysis, abort.
#include <gtest/gtest.h>

#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using std::chrono::seconds;

class BlueGreenTest : public ::testing::Test {
 protected:
  void Start(json bg, int replicas = 3) {
    w.CreateService("web-active");
    w.CreateService("web-preview");
    bg["activeService"] = "web-active";
    bg["previewService"] = "web-preview";
    w.Create(RolloutWorld::RolloutJson(replicas, "web:1", json{{"blueGreen", bg}}));
    w.Converge();
    blue = w.StableHash();
    ASSERT_FALSE(blue.empty());
    ASSERT_EQ(w.Phase(), "Healthy");
  }
  RolloutWorld w;
  std::string blue;
};

TEST_F(BlueGreenTest, FirstTemplateGoesActiveDirectly) {
  Start(json{{"autoPromotionEnabled", false}});
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  EXPECT_EQ(w.Status()["blueGreen"]["activeSelector"], blue);
  EXPECT_EQ(w.ReplicasOf(blue), 3);
}

TEST_F(BlueGreenTest, ManualPromotionSwitchesActiveThenScalesBlueDownAfterTheDelay) {
  Start(json{
      {"autoPromotionEnabled", false}, {"previewReplicaCount", 1}, {"scaleDownDelaySeconds", 30}});
  w.SetImage("web:2");
  w.Converge();
  const std::string green = w.CurrentHash();
  // Green runs at previewReplicaCount behind the preview Service; blue still serves.
  EXPECT_EQ(w.ReplicasOf(green), 1);
  EXPECT_EQ(w.ReplicasOf(blue), 3);
  EXPECT_EQ(w.ServiceSelector("web-preview"), green);
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.Status()["pauseConditions"][0]["reason"], "BlueGreenPause");
  EXPECT_EQ(w.Status()["blueGreen"]["scaleUpPreviewCheckPoint"], true);

  w.Promote();
  w.Pass();
  // Promotion first grows green to full size; the switch waits for it.
  EXPECT_EQ(w.ReplicasOf(green), 3);
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  w.Settle();
  w.Pass();
  EXPECT_EQ(w.ServiceSelector("web-active"), green);
  EXPECT_EQ(w.Status()["blueGreen"]["activeSelector"], green);
  EXPECT_EQ(w.StableHash(), green);
  EXPECT_TRUE(w.HasEvent("RolloutPromoted"));
  // Blue stays for scaleDownDelaySeconds.
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(blue), 3);
  EXPECT_FALSE(
      w.ReplicaSetOf(blue)["metadata"]["annotations"]["gantry.io/scale-down-deadline"].is_null());
  EXPECT_EQ(w.Phase(), "Healthy");
  SyncOutcome out = w.Pass();
  ASSERT_TRUE(out.requeue_after.has_value());
  EXPECT_LE(*out.requeue_after, seconds(30));
  w.clock.Advance(seconds(31));
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(blue), 0);
  EXPECT_EQ(w.ReplicasOf(green), 3);
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_FALSE(w.Status().value("controllerPause", false));
}

TEST_F(BlueGreenTest, AutoPromotionSecondsWaitsThenPromotes) {
  Start(json{{"autoPromotionSeconds", 20}});
  w.SetImage("web:2");
  w.Converge();
  const std::string green = w.CurrentHash();
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  w.clock.Advance(seconds(21));
  w.Converge();
  EXPECT_EQ(w.ServiceSelector("web-active"), green);
  EXPECT_EQ(w.Phase(), "Healthy");
}

TEST_F(BlueGreenTest, AutoPromotionWithoutDelaySwitchesOnceGreenIsReady) {
  Start(json::object());
  w.SetImage("web:2");
  w.Pass();
  const std::string green = w.CurrentHash();
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);  // green not ready yet
  w.Converge();
  EXPECT_EQ(w.ServiceSelector("web-active"), green);
}

TEST_F(BlueGreenTest, AbortKeepsActiveOnBlueAndScalesGreenDownAfterTheDelay) {
  Start(json{{"autoPromotionEnabled", false}, {"abortScaleDownDelaySeconds", 10}});
  w.SetImage("web:2");
  w.Converge();
  const std::string green = w.CurrentHash();
  ASSERT_EQ(w.ReplicasOf(green), 3);
  w.PatchStatus({{"abort", true}});
  w.Converge();
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  EXPECT_EQ(w.ReplicasOf(green), 3);
  w.clock.Advance(seconds(11));
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(green), 0);
  EXPECT_EQ(w.ReplicasOf(blue), 3);
  // Retry brings the preview back.
  w.PatchStatus({{"abort", false}});
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(green), 3);
  EXPECT_EQ(w.Phase(), "Paused");
}

json Template(const std::string& name) {
  return json{
      {"apiVersion", "gantry.io/v1alpha1"},
      {"kind", "AnalysisTemplate"},
      {"metadata", {{"name", name}, {"namespace", "shop"}}},
      {"spec",
       {{"metrics",
         json::array({{{"name", "ok"}, {"provider", {{"web", {{"url", "http://x"}}}}}}})}}}};
}

TEST_F(BlueGreenTest, PrePromotionAnalysisGatesTheSwitch) {
  w.Create(Template("pre"));
  Start(json{{"prePromotionAnalysis", {{"templates", json::array({{{"templateName", "pre"}}})}}}});
  w.SetImage("web:2");
  w.Converge();
  const std::string green = w.CurrentHash();
  auto runs = w.AnalysisRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["metadata"]["labels"]["rollout-type"], "PrePromotion");
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  w.SetRunPhase(runs[0]["metadata"]["name"], "Successful");
  w.Converge();
  EXPECT_EQ(w.ServiceSelector("web-active"), green);
}

TEST_F(BlueGreenTest, FailedPostPromotionAnalysisSwitchesBack) {
  w.Create(Template("post"));
  Start(json{{"postPromotionAnalysis", {{"templates", json::array({{{"templateName", "post"}}})}}},
             {"scaleDownDelaySeconds", 5}});
  w.SetImage("web:2");
  w.Converge();
  const std::string green = w.CurrentHash();
  ASSERT_EQ(w.ServiceSelector("web-active"), green);
  EXPECT_EQ(w.StableHash(), blue);  // not stable before the analysis passed
  EXPECT_EQ(w.Phase(), "Progressing");
  // Blue stays up past its scale-down delay while the analysis runs.
  w.clock.Advance(seconds(10));
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(blue), 3);
  auto runs = w.AnalysisRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["metadata"]["labels"]["rollout-type"], "PostPromotion");
  w.SetRunPhase(runs[0]["metadata"]["name"], "Failed");
  w.Converge();
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_EQ(w.ServiceSelector("web-active"), blue);
  EXPECT_EQ(w.ReplicasOf(blue), 3);
}

}  // namespace
}  // namespace gantry::rollout::testing
