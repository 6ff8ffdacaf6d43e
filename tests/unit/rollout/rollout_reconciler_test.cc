// The Rollout reconciler's contract with the controller runner: typed results, events through
// the recorder, and the gantry_rollout_* metrics.
#include "operator/reconcilers/rollout_reconciler.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "operator/kube/fake_event_recorder.h"
#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using controller::ReconcileResult;

class RolloutReconcilerTest : public ::testing::Test {
 protected:
  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry.Collect()); }
  RolloutWorld w;
  kube::FakeEventRecorder events;
  prometheus::Registry registry;
  std::unique_ptr<RolloutMetrics> metrics = NewPrometheusRolloutMetrics(registry);
  reconcilers::RolloutReconciler reconciler{w.client, events, w.clock, *metrics};
};

TEST_F(RolloutReconcilerTest, MovingWaitsSettledResyncsGoneForgets) {
  w.Create(RolloutWorld::RolloutJson(
      2, "web:1",
      json{{"canary",
            {{"steps", json::array({{{"setWeight", 50}}, {{"pause", json::object()}}})}}}}));
  ReconcileResult first = reconciler.Reconcile({"shop", "web"});
  EXPECT_EQ(first.kind(), ReconcileResult::Kind::kWaiting);  // pods to come
  ASSERT_TRUE(first.requeue_after().has_value());
  w.Settle();
  ReconcileResult settled = reconciler.Reconcile({"shop", "web"});
  EXPECT_EQ(settled.kind(), ReconcileResult::Kind::kDone);
  ASSERT_TRUE(settled.requeue_after().has_value());
  EXPECT_GE(*settled.requeue_after(), std::chrono::minutes(1));
  EXPECT_EQ(w.Phase(), "Healthy");

  bool healthy_event = false;
  for (const auto& e : events.Events()) {
    if (e.reason == "RolloutHealthy" && e.type == kube::EventType::kNormal && e.kind == "Rollout") {
      healthy_event = true;
    }
  }
  EXPECT_TRUE(healthy_event);
  std::string text = Metrics();
  EXPECT_NE(text.find("gantry_rollout_info{name=\"web\",namespace=\"shop\",phase=\"Healthy\","
                      "strategy=\"canary\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gantry_rollout_canary_weight{name=\"web\",namespace=\"shop\"} 0"),
            std::string::npos)
      << text;

  // A paused canary at 50%: the weight is the pod ratio; the phase series moves.
  w.SetImage("web:2");
  for (int i = 0; i < 10; ++i) {
    reconciler.Reconcile({"shop", "web"});
    w.Settle();
  }
  EXPECT_EQ(w.Phase(), "Paused");
  text = Metrics();
  EXPECT_NE(text.find("phase=\"Paused\""), std::string::npos) << text;
  EXPECT_EQ(text.find("phase=\"Healthy\""), std::string::npos) << text;
  EXPECT_NE(text.find("gantry_rollout_canary_weight{name=\"web\",namespace=\"shop\"} 50"),
            std::string::npos)
      << text;

  ASSERT_TRUE(w.client.Delete({kRolloutKind, "shop", "web"}).ok());
  EXPECT_EQ(reconciler.Reconcile({"shop", "web"}).kind(), ReconcileResult::Kind::kDone);
  EXPECT_EQ(Metrics().find("name=\"web\""), std::string::npos);
}

TEST_F(RolloutReconcilerTest, InvalidSpecStallsAndApiErrorsRetry) {
  json bad = RolloutWorld::RolloutJson(2, "web:1", json{{"canary", json::object()}});
  bad["spec"]["strategy"]["blueGreen"] = {{"activeService", "a"}};  // both strategies
  w.Create(bad);
  ReconcileResult stalled = reconciler.Reconcile({"shop", "web"});
  EXPECT_EQ(stalled.kind(), ReconcileResult::Kind::kStalled);
  EXPECT_NE(stalled.reason().find("InvalidSpec"), std::string::npos);

  ASSERT_TRUE(w.client.Delete({kRolloutKind, "shop", "web"}).ok());
  w.Create(RolloutWorld::RolloutJson(2, "web:1", json{{"canary", json::object()}}));
  w.client.InjectError(kube::FakeKubeClient::Verb::kList, "ReplicaSet", "",
                       Status(StatusCode::kUnavailable, "apiserver restarting"));
  ReconcileResult error = reconciler.Reconcile({"shop", "web"});
  EXPECT_EQ(error.kind(), ReconcileResult::Kind::kError);
  EXPECT_EQ(error.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gantry::rollout::testing
