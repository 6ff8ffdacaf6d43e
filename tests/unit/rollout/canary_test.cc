// The canary strategy pass by pass against the fake API server: replica counts at every step,
// pauses, promotion, abort, retry, undo, analysis, restarts of the operator.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using std::chrono::seconds;

json CanaryStrategy(json steps, int surge = 1, int unavailable = 0) {
  return json{{"canary",
               {{"maxSurge", surge},
                {"maxUnavailable", unavailable},
                {"steps", std::move(steps)},
                {"stableService", "web-stable"},
                {"canaryService", "web-canary"}}}};
}

class CanaryTest : public ::testing::Test {
 protected:
  void Start(json steps, int replicas = 4, int surge = 1, int unavailable = 0) {
    w.CreateService("web-stable");
    w.CreateService("web-canary");
    w.Create(RolloutWorld::RolloutJson(replicas, "web:1",
                                       CanaryStrategy(std::move(steps), surge, unavailable)));
    w.Converge();
    stable = w.StableHash();
    ASSERT_FALSE(stable.empty());
    ASSERT_EQ(w.Phase(), "Healthy");
  }
  RolloutWorld w;
  std::string stable;
};

TEST_F(CanaryTest, FirstTemplateBecomesStableAtOnce) {
  Start(json::array({{{"setWeight", 50}}, {{"pause", json::object()}}}));
  const json st = w.Status();
  EXPECT_EQ(st["currentPodHash"], stable);
  EXPECT_EQ(st["currentStepIndex"], 2);  // steps skipped
  EXPECT_EQ(st["replicas"], 4);
  EXPECT_EQ(st["availableReplicas"], 4);
  EXPECT_EQ(st["updatedReplicas"], 4);
  EXPECT_EQ(st["selector"], "app=web");
  EXPECT_EQ(w.ReplicasOf(stable), 4);
  const json rs = w.ReplicaSetOf(stable);
  EXPECT_EQ(rs["metadata"]["name"], "web-" + stable);
  EXPECT_EQ(rs["metadata"]["annotations"]["gantry.io/revision"], "1");
  EXPECT_EQ(rs["metadata"]["ownerReferences"][0]["kind"], "Rollout");
  EXPECT_EQ(rs["spec"]["template"]["metadata"]["labels"]["rollouts-pod-template-hash"], stable);
  EXPECT_EQ(w.ServiceSelector("web-stable"), stable);
  EXPECT_EQ(w.ServiceSelector("web-canary"), stable);
  EXPECT_TRUE(w.HasEvent("NewReplicaSetCreated"));
  EXPECT_TRUE(w.HasEvent("RolloutHealthy"));
  EXPECT_EQ(st["observedGeneration"], w.Rollout()["metadata"]["generation"]);
}

TEST_F(CanaryTest, StepsThroughWeightsPausesAndPromotion) {
  Start(json::array({{{"setWeight", 25}},
                     {{"pause", json::object()}},
                     {{"setWeight", 50}},
                     {{"pause", {{"duration", "30s"}}}}}));
  w.SetImage("web:2");
  w.Pass();
  const std::string canary = w.CurrentHash();
  ASSERT_NE(canary, stable);
  EXPECT_EQ(w.ReplicaSetOf(canary)["metadata"]["annotations"]["gantry.io/revision"], "2");
  // maxSurge 1, maxUnavailable 0: the canary pod comes first, then a stable pod goes.
  EXPECT_EQ(w.ReplicasOf(canary), 1);
  EXPECT_EQ(w.ReplicasOf(stable), 4);
  EXPECT_EQ(w.Phase(), "Progressing");
  EXPECT_EQ(w.ServiceSelector("web-canary"), canary);
  EXPECT_EQ(w.ServiceSelector("web-stable"), stable);
  w.Settle();
  w.Pass();
  EXPECT_EQ(w.ReplicasOf(canary), 1);
  EXPECT_EQ(w.ReplicasOf(stable), 3);
  w.Converge();
  // Step 1 (setWeight 25) done; paused at step 2 until promoted.
  EXPECT_EQ(w.StepIndex(), 1);
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.Status()["pauseConditions"][0]["reason"], "CanaryPauseStep");
  EXPECT_EQ(w.Status()["controllerPause"], true);
  EXPECT_EQ(w.Status()["canary"]["weights"]["canary"]["weight"], 25);
  EXPECT_EQ(w.ReplicasOf(canary), 1);
  EXPECT_EQ(w.ReplicasOf(stable), 3);
  // Paused stays paused.
  w.clock.Advance(std::chrono::hours(1));
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 1);

  w.Promote();
  w.Converge();
  // setWeight 50 reached, then the 30s pause.
  EXPECT_EQ(w.StepIndex(), 3);
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.ReplicasOf(canary), 2);
  EXPECT_EQ(w.ReplicasOf(stable), 2);
  EXPECT_TRUE(w.HasEvent("RolloutStepCompleted"));
  SyncOutcome waiting = w.Pass();
  ASSERT_TRUE(waiting.requeue_after.has_value());
  EXPECT_LE(*waiting.requeue_after, seconds(30));
  w.clock.Advance(seconds(31));
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 4);
  EXPECT_EQ(w.StableHash(), canary);
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(w.ReplicasOf(canary), 4);
  EXPECT_EQ(w.ReplicasOf(stable), 0);
  EXPECT_EQ(w.ServiceSelector("web-stable"), canary);
  EXPECT_TRUE(w.HasEvent("RolloutCompleted"));
  EXPECT_EQ(w.Status()["canary"]["weights"]["canary"]["weight"], 0);
}

TEST_F(CanaryTest, NoStepsIsARollingUpdateWithinTheBudget) {
  Start(json::array(), 4, 1, 1);
  w.SetImage("web:2");
  std::string canary;
  for (int i = 0; i < 20; ++i) {
    w.Pass();
    canary = w.CurrentHash();
    const auto counts = w.Replicas();
    int total = 0;
    for (const auto& [h, n] : counts) total += n;
    EXPECT_LE(total, 5) << "pass " << i;  // replicas + maxSurge
    int available = 0;
    auto sets = w.client.List(kRsKind, w.ns);
    ASSERT_TRUE(sets.ok());
    for (const json& rs : sets->items) {
      available += std::min(rs["spec"].value("replicas", 0),
                            rs.value("status", json::object()).value("availableReplicas", 0));
    }
    EXPECT_GE(available, 3) << "pass " << i;  // replicas - maxUnavailable
    w.Settle();
  }
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(w.StableHash(), canary);
  EXPECT_EQ(w.ReplicasOf(canary), 4);
  EXPECT_EQ(w.ReplicasOf(stable), 0);
}

TEST_F(CanaryTest, TimedPauseSurvivesAnOperatorRestart) {
  Start(json::array({{{"setWeight", 50}}, {{"pause", {{"duration", "1m"}}}}}));
  w.SetImage("web:2");
  w.Converge();
  ASSERT_EQ(w.StepIndex(), 1);
  ASSERT_EQ(w.Phase(), "Paused");
  const json started = w.Status()["pauseConditions"][0]["startTime"];
  // A new operator process: fresh collaborators, same cluster.
  RolloutEvent last;
  Collaborators restarted{w.client, w.clock,
                          [&](const kube::Object&, const RolloutEvent& e) { last = e; }};
  w.clock.Advance(seconds(30));
  ASSERT_TRUE(SyncRollout(restarted, {"shop", "web"}).ok());
  EXPECT_EQ(w.StepIndex(), 1);
  EXPECT_EQ(w.Status()["pauseConditions"][0]["startTime"], started);  // not restarted
  w.clock.Advance(seconds(31));
  ASSERT_TRUE(SyncRollout(restarted, {"shop", "web"}).ok());
  EXPECT_EQ(w.StepIndex(), 2);
}

TEST_F(CanaryTest, ManualAbortReturnsToStableThenRetryStartsOver) {
  Start(json::array({{{"setWeight", 50}}, {{"pause", json::object()}}}));
  w.SetImage("web:2");
  w.Converge();
  const std::string canary = w.CurrentHash();
  ASSERT_EQ(w.ReplicasOf(canary), 2);
  ASSERT_EQ(w.ReplicasOf(stable), 2);
  w.PatchStatus({{"abort", true}});
  w.Pass();
  // Stable comes back first (surge), the canary shrinks as stable becomes available.
  EXPECT_EQ(w.ReplicasOf(stable), 3);
  EXPECT_EQ(w.ReplicasOf(canary), 2);
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_NE(w.Status()["message"].get<std::string>().find("RolloutAborted"), std::string::npos);
  EXPECT_TRUE(w.Status().contains("abortedAt"));
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(stable), 4);
  EXPECT_EQ(w.ReplicasOf(canary), 0);
  EXPECT_EQ(w.StepIndex(), 0);
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_TRUE(w.HasEvent("RolloutDegraded"));
  // Ready=False, Stalled=True for kstatus tools.
  bool stalled = false;
  const json status = w.Status();
  for (const json& c : status["conditions"]) {
    if (c["type"] == "Stalled" && c["status"] == "True") stalled = true;
  }
  EXPECT_TRUE(stalled) << status["conditions"].dump(1);

  w.PatchStatus({{"abort", false}});
  w.Converge();
  EXPECT_EQ(w.StepIndex(), 1);
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.ReplicasOf(canary), 2);
  EXPECT_EQ(w.ReplicasOf(stable), 2);
  EXPECT_FALSE(w.Status().contains("abortedAt"));
}

TEST_F(CanaryTest, UndoToStableSkipsStepsAndReusesItsReplicaSet) {
  Start(json::array({{{"setWeight", 50}}, {{"pause", json::object()}}}));
  w.SetImage("web:2");
  w.Converge();
  const std::string canary = w.CurrentHash();
  ASSERT_EQ(w.Phase(), "Paused");
  w.SetImage("web:1");
  w.Converge();
  EXPECT_EQ(w.CurrentHash(), stable);
  EXPECT_EQ(w.StepIndex(), 2);
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(w.ReplicasOf(stable), 4);
  EXPECT_EQ(w.ReplicasOf(canary), 0);
  EXPECT_TRUE(w.HasEvent("SkipSteps"));
  // The old template's ReplicaSet is reused and becomes the newest revision.
  EXPECT_EQ(w.ReplicaSetOf(stable)["metadata"]["annotations"]["gantry.io/revision"], "3");
  EXPECT_EQ(w.Replicas().size(), 2u);
}

TEST_F(CanaryTest, NewTemplateMidRolloutRestartsTheSteps) {
  Start(json::array({{{"setWeight", 25}}, {{"pause", json::object()}}}));
  w.SetImage("web:2");
  w.Converge();
  const std::string second = w.CurrentHash();
  ASSERT_EQ(w.Phase(), "Paused");
  w.SetImage("web:3");
  w.Converge();
  const std::string third = w.CurrentHash();
  EXPECT_NE(third, second);
  EXPECT_EQ(w.StepIndex(), 1);
  EXPECT_EQ(w.ReplicasOf(second), 0);
  EXPECT_EQ(w.ReplicasOf(third), 1);
  EXPECT_EQ(w.ReplicasOf(stable), 3);
  EXPECT_EQ(w.ReplicaSetOf(third)["metadata"]["annotations"]["gantry.io/revision"], "3");
}

TEST_F(CanaryTest, PromoteFullSkipsTheRemainingSteps) {
  Start(json::array({{{"setWeight", 25}}, {{"pause", json::object()}}, {{"setWeight", 75}}}));
  w.SetImage("web:2");
  w.Converge();
  ASSERT_EQ(w.Phase(), "Paused");
  w.PatchStatus({{"promoteFull", true}});
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(w.StableHash(), w.CurrentHash());
  EXPECT_EQ(w.StepIndex(), 3);
  EXPECT_EQ(w.Status().value("promoteFull", false), false);
}

TEST_F(CanaryTest, SpecPausedHoldsTheStep) {
  Start(json::array({{{"setWeight", 25}}, {{"setWeight", 50}}}));
  w.PatchSpec({{"paused", true}});
  w.SetImage("web:2");
  w.Converge();
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.StepIndex(), 0);
  EXPECT_EQ(w.ReplicasOf(w.CurrentHash()), 1);  // the current step's counts are still reached
  w.PatchSpec({{"paused", false}});
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
}

TEST_F(CanaryTest, HistoryIsPrunedToTheLimit) {
  Start(json::array());
  w.PatchSpec({{"revisionHistoryLimit", 1}});
  for (int v = 2; v <= 5; ++v) {
    w.SetImage("web:" + std::to_string(v));
    w.Converge();
  }
  // Current plus one old revision.
  EXPECT_EQ(w.Replicas().size(), 2u);
}

TEST_F(CanaryTest, ScaleSubresourceResizesTheRollout) {
  Start(json::array());
  auto scaled = w.client.UpdateScale({kRolloutKind, "shop", "web"}, 7);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(stable), 7);
  EXPECT_EQ(w.Status()["replicas"], 7);
  auto scale = w.client.GetScale({kRolloutKind, "shop", "web"});
  ASSERT_TRUE(scale.ok());
  EXPECT_EQ((*scale)["status"]["replicas"], 7);
  EXPECT_EQ((*scale)["status"]["selector"], "app=web");
}

TEST_F(CanaryTest, ProgressDeadlineAbortsWhenAsked) {
  Start(json::array({{{"setWeight", 50}}}));
  w.PatchSpec({{"progressDeadlineSeconds", 60}, {"progressDeadlineAbort", true}});
  w.SetImage("web:2");
  w.Pass();
  const std::string canary = w.CurrentHash();
  w.ready_limit[canary] = 0;  // the canary's pods never become ready
  w.Settle();
  w.Pass();
  EXPECT_EQ(w.Phase(), "Progressing");
  w.clock.Advance(seconds(61));
  w.Pass();
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_NE(w.Status()["message"].get<std::string>().find("ProgressDeadlineExceeded"),
            std::string::npos);
  EXPECT_EQ(w.Status()["abort"], true);
  w.Converge();
  EXPECT_EQ(w.ReplicasOf(canary), 0);
  EXPECT_EQ(w.ReplicasOf(stable), 4);
}

TEST_F(CanaryTest, ProgressDeadlineWithoutAbortOnlyReports) {
  Start(json::array({{{"setWeight", 50}}}));
  w.PatchSpec({{"progressDeadlineSeconds", 60}});
  w.SetImage("web:2");
  w.Pass();
  w.ready_limit[w.CurrentHash()] = 0;
  w.Settle();
  w.Pass();  // the canary pod exists: that was progress
  EXPECT_EQ(w.Phase(), "Progressing");
  w.clock.Advance(seconds(61));
  w.Pass();
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_FALSE(w.Status().value("abort", false));
  w.Pass();  // no flapping back to Progressing without progress
  EXPECT_EQ(w.Phase(), "Degraded");
  w.ready_limit.clear();
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
}

json Template(const std::string& name) {
  return json{{"apiVersion", "gantry.io/v1alpha1"},
              {"kind", "AnalysisTemplate"},
              {"metadata", {{"name", name}, {"namespace", "shop"}}},
              {"spec",
               {{"args", json::array({{{"name", "hash"}}})},
                {"metrics",
                 json::array({{{"name", "ok"},
                               {"successCondition", "result == 1"},
                               {"provider", {{"web", {{"url", "http://x/{{args.hash}}"}}}}}}})}}}};
}

TEST_F(CanaryTest, AnalysisStepWaitsForItsRun) {
  w.Create(Template("check"));
  Start(json::array(
      {{{"setWeight", 25}},
       {{"analysis",
         {{"templates", json::array({{{"templateName", "check"}}})},
          {"args", json::array({{{"name", "hash"},
                                 {"valueFrom", {{"podTemplateHashValue", "Latest"}}}}})}}}},
       {{"setWeight", 50}}}));
  w.SetImage("web:2");
  w.Converge();
  const std::string canary = w.CurrentHash();
  ASSERT_EQ(w.StepIndex(), 1);
  auto runs = w.AnalysisRuns();
  ASSERT_EQ(runs.size(), 1u);
  const json& run = runs[0];
  const std::string name = run["metadata"]["name"];
  EXPECT_EQ(name, "web-" + canary + "-2-step-1");
  EXPECT_EQ(run["metadata"]["labels"]["rollout-type"], "Step");
  EXPECT_EQ(run["metadata"]["labels"]["rollouts-pod-template-hash"], canary);
  EXPECT_EQ(run["spec"]["args"][0]["value"], canary);
  EXPECT_EQ(run["metadata"]["ownerReferences"][0]["name"], "web");
  EXPECT_EQ(w.Status()["canary"]["currentStepAnalysisRunStatus"]["name"], name);
  EXPECT_EQ(w.Phase(), "Progressing");
  w.SetRunPhase(name, "Successful");
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
  EXPECT_EQ(w.StableHash(), canary);
  EXPECT_EQ(w.AnalysisRuns().size(), 1u);
}

TEST_F(CanaryTest, FailedAnalysisAbortsAndRetryRunsItAgain) {
  w.Create(Template("check"));
  Start(json::array({{{"setWeight", 25}},
                     {{"analysis",
                       {{"templates", json::array({{{"templateName", "check"}}})},
                        {"args", json::array({{{"name", "hash"}, {"value", "x"}}})}}}}}));
  w.SetImage("web:2");
  w.Converge();
  const std::string canary = w.CurrentHash();
  const std::string first = w.AnalysisRuns()[0]["metadata"]["name"];
  w.SetRunPhase(first, "Failed");
  w.Converge();
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_NE(w.Status()["message"].get<std::string>().find(first), std::string::npos);
  EXPECT_EQ(w.ReplicasOf(canary), 0);
  EXPECT_EQ(w.ReplicasOf(stable), 4);
  EXPECT_TRUE(w.HasEvent("AnalysisRunFailed"));

  w.PatchStatus({{"abort", false}});
  w.Converge();
  auto runs = w.AnalysisRuns();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(w.Status()["canary"]["currentStepAnalysisRunStatus"]["name"], first + ".1");
  EXPECT_EQ(w.Phase(), "Progressing");
}

// Every retry of a failed analysis leaves a Failed run behind; the Rollout keeps the newest 5
// of them (and of Successful ones), never the run its status still follows. (A deleted run's
// name is free again, so runs are told apart by uid.)
TEST_F(CanaryTest, OldAnalysisRunsAreDeletedBeyondFiveFailedAndFiveSuccessful) {
  w.Create(Template("check"));
  Start(json::array({{{"setWeight", 25}},
                     {{"analysis",
                       {{"templates", json::array({{{"templateName", "check"}}})},
                        {"args", json::array({{{"name", "hash"}, {"value", "x"}}})}}}}}));
  w.SetImage("web:2");
  w.Converge();
  const auto uid_of = [&](const std::string& name) {
    for (const json& run : w.AnalysisRuns()) {
      if (run["metadata"]["name"] == name) return run["metadata"]["uid"].get<std::string>();
    }
    return std::string();
  };
  std::vector<std::string> failed;  // uids, oldest first
  for (int i = 0; i < 7; ++i) {
    const std::string run = w.Status()["canary"]["currentStepAnalysisRunStatus"]["name"];
    failed.push_back(uid_of(run));
    w.SetRunPhase(run, "Failed");
    w.Converge();
    ASSERT_EQ(w.Phase(), "Degraded");
    w.clock.Advance(seconds(1));  // runs are ordered by creationTimestamp
    w.PatchStatus({{"abort", false}});
    w.Converge();
  }
  const std::string current =
      uid_of(w.Status()["canary"]["currentStepAnalysisRunStatus"]["name"]);
  std::set<std::string> left;
  for (const json& run : w.AnalysisRuns()) left.insert(run["metadata"]["uid"]);
  EXPECT_EQ(left.size(), 6u);  // 5 failed + the one measuring now
  EXPECT_TRUE(left.contains(current));
  EXPECT_FALSE(left.contains(failed[0]));
  EXPECT_FALSE(left.contains(failed[1]));
  for (size_t i = 2; i < failed.size(); ++i) EXPECT_TRUE(left.contains(failed[i])) << i;

  // Successful runs of later revisions have a history of their own.
  w.SetRunPhase(w.Status()["canary"]["currentStepAnalysisRunStatus"]["name"], "Successful");
  w.Converge();
  ASSERT_EQ(w.Phase(), "Healthy");
  for (int i = 3; i < 9; ++i) {
    w.clock.Advance(seconds(1));
    w.SetImage("web:" + std::to_string(i));
    w.Converge();
    const std::string run = w.Status()["canary"]["currentStepAnalysisRunStatus"]["name"];
    w.SetRunPhase(run, "Successful");
    w.Converge();
    ASSERT_EQ(w.Phase(), "Healthy");
  }
  int successful = 0;
  int unsuccessful = 0;
  for (const json& run : w.AnalysisRuns()) {
    (run["status"]["phase"] == "Successful" ? successful : unsuccessful)++;
  }
  // The newest Successful run is still the one the status points at, so it is kept on top.
  const bool tracked_kept = w.Status()["canary"].contains("currentStepAnalysisRunStatus");
  EXPECT_EQ(successful, tracked_kept ? 6 : 5);
  EXPECT_EQ(unsuccessful, 5);
}

TEST_F(CanaryTest, InconclusiveAnalysisPausesUntilPromoted) {
  w.Create(Template("check"));
  Start(json::array({{{"analysis",
                       {{"templates", json::array({{{"templateName", "check"}}})},
                        {"args", json::array({{{"name", "hash"}, {"value", "x"}}})}}}},
                     {{"setWeight", 50}}}));
  w.SetImage("web:2");
  w.Converge();
  const std::string run = w.AnalysisRuns()[0]["metadata"]["name"];
  w.SetRunPhase(run, "Inconclusive");
  w.Converge();
  EXPECT_EQ(w.Phase(), "Paused");
  EXPECT_EQ(w.Status()["pauseConditions"][0]["reason"], "InconclusiveAnalysisRun");
  EXPECT_EQ(w.StepIndex(), 0);
  w.Promote();
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
}

TEST_F(CanaryTest, BackgroundAnalysisStartsAtItsStepAndStopsWhenDone) {
  w.Create(Template("bg"));
  w.CreateService("web-stable");
  w.CreateService("web-canary");
  json strategy = CanaryStrategy(json::array({{{"setWeight", 25}},
                                              {{"pause", json::object()}},
                                              {{"setWeight", 50}},
                                              {{"pause", json::object()}}}));
  strategy["canary"]["analysis"] = {{"templates", json::array({{{"templateName", "bg"}}})},
                                    {"args", json::array({{{"name", "hash"}, {"value", "v"}}})},
                                    {"startingStep", 2}};
  w.Create(RolloutWorld::RolloutJson(4, "web:1", strategy));
  w.Converge();
  w.SetImage("web:2");
  w.Converge();
  ASSERT_EQ(w.StepIndex(), 1);
  EXPECT_TRUE(w.AnalysisRuns().empty());
  w.Promote();
  w.Converge();
  ASSERT_EQ(w.StepIndex(), 3);
  auto runs = w.AnalysisRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["metadata"]["labels"]["rollout-type"], "Background");
  w.Promote();
  w.Converge();
  EXPECT_EQ(w.Phase(), "Healthy");
  runs = w.AnalysisRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["spec"]["terminate"], true);
}

TEST_F(CanaryTest, BackgroundAnalysisFailureAborts) {
  w.Create(Template("bg"));
  w.CreateService("web-stable");
  w.CreateService("web-canary");
  json strategy = CanaryStrategy(json::array({{{"setWeight", 25}}, {{"pause", json::object()}}}));
  strategy["canary"]["analysis"] = {{"templates", json::array({{{"templateName", "bg"}}})},
                                    {"args", json::array({{{"name", "hash"}, {"value", "v"}}})}};
  w.Create(RolloutWorld::RolloutJson(4, "web:1", strategy));
  w.Converge();
  w.SetImage("web:2");
  w.Converge();
  auto runs = w.AnalysisRuns();
  ASSERT_EQ(runs.size(), 1u);
  w.SetRunPhase(runs[0]["metadata"]["name"], "Error");
  w.Converge();
  EXPECT_EQ(w.Phase(), "Degraded");
  EXPECT_EQ(w.ReplicasOf(w.CurrentHash()), 0);
}

TEST_F(CanaryTest, MissingServiceIsInvalidSpecNamingIt) {
  w.Create(RolloutWorld::RolloutJson(2, "web:1", CanaryStrategy(json::array())));
  Result<SyncOutcome> r = w.TryPass();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::string message = w.Status()["message"];
  EXPECT_NE(message.find("Service shop/web-stable"), std::string::npos) << message;
  EXPECT_NE(message.find("spec.strategy.canary.stableService"), std::string::npos) << message;
  EXPECT_TRUE(w.Replicas().empty());  // nothing touched
}

}  // namespace
}  // namespace gantry::rollout::testing
