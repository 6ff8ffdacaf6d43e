#include "operator/rollout/steps.h"

#include <gtest/gtest.h>

#include "operator/rollout/pause.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

api::Rollout Parse(const std::string& yaml_json) {
  auto r = api::Rollout::FromJson(json::parse(yaml_json));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : api::Rollout{};
}

api::Rollout Canary() {
  return Parse(R"({"apiVersion":"gantry.io/v1alpha1","kind":"Rollout",
    "metadata":{"name":"web","namespace":"shop"},
    "spec":{"replicas":4,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"i:1"}]}},
      "strategy":{"canary":{
        "analysis":{"templates":[{"templateName":"bg"}],"startingStep":2},
        "trafficRouting":{"nginx":{"stableIngress":"web"}},
        "canaryService":"web-canary","stableService":"web-stable",
        "steps":[{"setWeight":20},{"pause":{"duration":"30s"}},{"setCanaryScale":{"replicas":3}},
                 {"setWeight":60},{"analysis":{"templates":[{"templateName":"a"}]}},
                 {"setCanaryScale":{"matchTrafficWeight":true}},{"pause":{}}]}}}})");
}

TEST(StepsTest, WalksTheSteps) {
  api::Rollout r = Canary();
  EXPECT_EQ(CurrentStepIndex(r), 0);
  EXPECT_EQ(CurrentSetWeight(r), 20);
  ASSERT_NE(CurrentStep(r), nullptr);
  EXPECT_TRUE(CurrentStep(r)->set_weight.has_value());
  EXPECT_TRUE(BeforeStartingStep(r));
  EXPECT_FALSE(CurrentCanaryScale(r).has_value());

  r.status.current_step_index = 2;
  EXPECT_EQ(CurrentSetWeight(r), 20);
  ASSERT_TRUE(CurrentCanaryScale(r).has_value());
  EXPECT_EQ(CurrentCanaryScale(r)->replicas, 3);
  EXPECT_FALSE(BeforeStartingStep(r));

  r.status.current_step_index = 4;
  EXPECT_EQ(CurrentSetWeight(r), 60);
  EXPECT_EQ(CurrentCanaryScale(r)->replicas, 3);  // still in effect

  r.status.current_step_index = 5;
  EXPECT_FALSE(CurrentCanaryScale(r).has_value());  // matchTrafficWeight

  r.status.current_step_index = 7;
  EXPECT_EQ(CurrentStep(r), nullptr);
  EXPECT_EQ(CurrentSetWeight(r), 100);

  r.status.current_step_index = 99;  // clamped
  EXPECT_EQ(CurrentStepIndex(r), 7);
  r.status.current_step_index = -3;
  EXPECT_EQ(CurrentStepIndex(r), 0);
}

TEST(StepsTest, NoStepsMeansFullWeight) {
  api::Rollout r = Canary();
  r.spec.strategy.canary->steps.clear();
  EXPECT_EQ(CurrentStep(r), nullptr);
  EXPECT_EQ(CurrentSetWeight(r), 100);
}

TEST(StepsTest, StepHashFollowsTheSteps) {
  api::Rollout a = Canary();
  api::Rollout b = Canary();
  EXPECT_EQ(ComputeStepHash(a), ComputeStepHash(b));
  b.spec.strategy.canary->steps[0].set_weight = 25;
  EXPECT_NE(ComputeStepHash(a), ComputeStepHash(b));
  b = Canary();
  b.spec.replicas = 9;  // not a step change
  EXPECT_EQ(ComputeStepHash(a), ComputeStepHash(b));
}

TEST(StepsTest, Descriptions) {
  const api::Rollout r = Canary();
  const auto& steps = StepsOf(r);
  EXPECT_EQ(StepDescription(steps[0]), "setWeight: 20");
  EXPECT_EQ(StepDescription(steps[1]), "pause: 30s");
  EXPECT_EQ(StepDescription(steps[2]), "setCanaryScale: 3 replicas");
  EXPECT_EQ(StepDescription(steps[4]), "analysis: a");
  EXPECT_EQ(StepDescription(steps[5]), "setCanaryScale: matchTrafficWeight");
  EXPECT_EQ(StepDescription(steps[6]), "pause");
}

using std::chrono::seconds;

TEST(PauseStateTest, AddsConditionsWithStartTimeAndKeepsOldOnes) {
  const Clock::TimePoint t0{seconds(1000)};
  api::RolloutStatus old;
  PauseState p(old);
  p.AddPause(api::PauseReason::kCanaryPauseStep);
  EXPECT_TRUE(p.HasAddedPause());
  EXPECT_TRUE(p.IsPausedFor(api::PauseReason::kCanaryPauseStep));
  api::RolloutStatus s1;
  p.ApplyTo(s1, t0);
  ASSERT_EQ(s1.pause_conditions.size(), 1u);
  EXPECT_EQ(s1.pause_conditions[0].start_time, t0);
  EXPECT_TRUE(s1.controller_pause);

  PauseState again(s1);
  again.AddPause(api::PauseReason::kCanaryPauseStep);
  api::RolloutStatus s2;
  again.ApplyTo(s2, t0 + seconds(5));
  ASSERT_EQ(s2.pause_conditions.size(), 1u);
  EXPECT_EQ(s2.pause_conditions[0].start_time, t0);  // not restarted
}

TEST(PauseStateTest, TimedPauseEndsAfterItsDuration) {
  const Clock::TimePoint t0{seconds(1000)};
  api::RolloutStatus old;
  old.controller_pause = true;
  old.pause_conditions.push_back({api::PauseReason::kCanaryPauseStep, t0, json::object()});
  PauseState p(old);
  auto early =
      p.PauseProgress(api::PauseReason::kCanaryPauseStep, Millis(30'000), t0 + seconds(10));
  EXPECT_FALSE(early.done);
  ASSERT_TRUE(early.remaining.has_value());
  EXPECT_EQ(*early.remaining, seconds(20));
  EXPECT_TRUE(
      p.PauseProgress(api::PauseReason::kCanaryPauseStep, Millis(30'000), t0 + seconds(30)).done);
  // Without a duration only a user ends it.
  EXPECT_FALSE(
      p.PauseProgress(api::PauseReason::kCanaryPauseStep, std::nullopt, t0 + seconds(9999)).done);
}

TEST(PauseStateTest, UserResumeIsRemovedConditionWithControllerPause) {
  api::RolloutStatus old;
  old.controller_pause = true;  // the condition was removed by `promote`
  PauseState p(old);
  EXPECT_TRUE(
      p.PauseProgress(api::PauseReason::kCanaryPauseStep, std::nullopt, Clock::TimePoint{}).done);
  api::RolloutStatus kept;
  p.ApplyTo(kept, Clock::TimePoint{});
  EXPECT_TRUE(kept.controller_pause);  // not acted on yet: the resume is kept
  p.ConsumeResume();
  api::RolloutStatus s;
  p.ApplyTo(s, Clock::TimePoint{});
  EXPECT_FALSE(s.controller_pause);  // consumed
  api::RolloutStatus never;
  PauseState q(never);
  EXPECT_FALSE(
      q.PauseProgress(api::PauseReason::kCanaryPauseStep, std::nullopt, Clock::TimePoint{}).done);
}

TEST(PauseStateTest, AbortClearsPausesAndKeepsAbortedAt) {
  const Clock::TimePoint t0{seconds(1000)};
  api::RolloutStatus old;
  old.controller_pause = true;
  old.pause_conditions.push_back({api::PauseReason::kCanaryPauseStep, t0, json::object()});
  PauseState p(old);
  EXPECT_FALSE(p.IsAborted());
  p.AddAbort("analysis failed");
  EXPECT_TRUE(p.IsAborted());
  api::RolloutStatus s;
  p.ApplyTo(s, t0 + seconds(1));
  EXPECT_TRUE(s.abort);
  EXPECT_EQ(s.aborted_at, t0 + seconds(1));
  EXPECT_TRUE(s.pause_conditions.empty());

  PauseState later(s);
  api::RolloutStatus s2;
  later.ApplyTo(s2, t0 + seconds(50));
  EXPECT_TRUE(s2.abort);
  EXPECT_EQ(s2.aborted_at, t0 + seconds(1));  // kept

  PauseState retry(s2);
  retry.RemoveAbort();
  api::RolloutStatus s3;
  retry.ApplyTo(s3, t0 + seconds(60));
  EXPECT_FALSE(s3.abort);
  EXPECT_FALSE(s3.aborted_at.has_value());
}

TEST(PauseStateTest, RemoveAndClear) {
  api::RolloutStatus old;
  old.controller_pause = true;
  old.pause_conditions.push_back(
      {api::PauseReason::kCanaryPauseStep, std::nullopt, json::object()});
  old.pause_conditions.push_back(
      {api::PauseReason::kInconclusiveAnalysisRun, std::nullopt, json::object()});
  PauseState p(old);
  p.RemovePause(api::PauseReason::kCanaryPauseStep);
  EXPECT_FALSE(p.IsPausedFor(api::PauseReason::kCanaryPauseStep));
  api::RolloutStatus s;
  p.ApplyTo(s, Clock::TimePoint{});
  ASSERT_EQ(s.pause_conditions.size(), 1u);
  EXPECT_EQ(s.pause_conditions[0].reason, api::PauseReason::kInconclusiveAnalysisRun);
  EXPECT_TRUE(s.controller_pause);
  PauseState c(old);
  c.ClearPauses();
  api::RolloutStatus s2;
  c.ApplyTo(s2, Clock::TimePoint{});
  EXPECT_TRUE(s2.pause_conditions.empty());
  EXPECT_FALSE(s2.controller_pause);
}

}  // namespace
}  // namespace gantry::rollout
