#include "operator/api/rollout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "yaml_testdata.h"

namespace gantry::api {
namespace {

using testing::BadCase;
using testing::ExpectRejected;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const Json kCanary = R"({
  "apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
  "metadata": {"name": "web", "namespace": "default"},
  "spec": {
    "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web", "tier": "front"}},
                 "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
    "strategy": {"canary": {
      "canaryService": "web-canary", "stableService": "web-stable",
      "trafficRouting": {"nginx": {"stableIngress": "web"}},
      "analysis": {"templates": [{"templateName": "rate"}], "startingStep": 1},
      "steps": [
        {"setCanaryScale": {"replicas": 1}},
        {"setWeight": 20},
        {"pause": {"duration": "1m"}},
        {"analysis": {"templates": [{"templateName": "rate"}],
                      "args": [{"name": "hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]}},
        {"pause": {}}
      ]}}
  }
})"_json;

const Json kBlueGreen = R"({
  "apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
  "metadata": {"name": "api", "namespace": "default"},
  "spec": {
    "selector": {"matchLabels": {"app": "api"}},
    "template": {"metadata": {"labels": {"app": "api"}},
                 "spec": {"containers": [{"name": "api", "image": "api:1"}]}},
    "strategy": {"blueGreen": {"activeService": "api", "previewService": "api-preview"}}
  }
})"_json;

// A patch that replaces spec.strategy.canary.steps.
Json Steps(Json steps) {
  return {{"spec", {{"strategy", {{"canary", {{"steps", std::move(steps)}}}}}}}};
}
Json Canary(Json fields) { return {{"spec", {{"strategy", {{"canary", std::move(fields)}}}}}}; }
Json BlueGreen(Json fields) {
  return {{"spec", {{"strategy", {{"blueGreen", std::move(fields)}}}}}};
}

TEST(ApiRolloutTest, AppliesDefaults) {
  Result<Rollout> canary = Rollout::FromJson(kCanary);
  ASSERT_TRUE(canary.ok()) << canary.status().ToString();
  EXPECT_EQ(canary->spec.replicas, 1);
  EXPECT_EQ(canary->spec.revision_history_limit, 10);
  EXPECT_EQ(canary->spec.progress_deadline_seconds, 600);
  EXPECT_FALSE(canary->spec.progress_deadline_abort);
  EXPECT_FALSE(canary->spec.paused);
  EXPECT_EQ(canary->spec.min_ready_seconds, 0);
  const CanaryStrategy& c = *canary->spec.strategy.canary;
  EXPECT_EQ(c.max_surge, IntOrString("25%"));
  EXPECT_EQ(c.max_unavailable, IntOrString("25%"));
  EXPECT_EQ(c.scale_down_delay_seconds, 30);
  EXPECT_EQ(c.abort_scale_down_delay_seconds, 30);
  EXPECT_FALSE(canary->spec.strategy.blue_green.has_value());
  EXPECT_FALSE(canary->status.phase.has_value());
  EXPECT_FALSE(canary->status.current_step_index.has_value());

  Result<Rollout> bg = Rollout::FromJson(kBlueGreen);
  ASSERT_TRUE(bg.ok());
  const BlueGreenStrategy& b = *bg->spec.strategy.blue_green;
  EXPECT_TRUE(b.auto_promotion_enabled);
  EXPECT_EQ(b.scale_down_delay_seconds, 30);
  EXPECT_EQ(b.abort_scale_down_delay_seconds, 30);
  EXPECT_FALSE(b.preview_replica_count.has_value());
  EXPECT_FALSE(b.auto_promotion_seconds.has_value());
}

TEST(ApiRolloutTest, KeepsThePodTemplateVerbatim) {
  Result<Rollout> r = Rollout::FromJson(kCanary);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec.pod_template, kCanary["spec"]["template"]);
  EXPECT_EQ(r->ToJson()["spec"]["template"], kCanary["spec"]["template"]);
}

TEST(ApiRolloutTest, StepActions) {
  Result<Rollout> r = Rollout::FromJson(kCanary);
  ASSERT_TRUE(r.ok());
  const std::vector<CanaryStep>& steps = r->spec.strategy.canary->steps;
  ASSERT_EQ(steps.size(), 5u);
  EXPECT_EQ(steps[0].Action(), CanaryStepAction::kSetCanaryScale);
  EXPECT_EQ(steps[1].Action(), CanaryStepAction::kSetWeight);
  EXPECT_EQ(steps[2].Action(), CanaryStepAction::kPause);
  EXPECT_EQ(steps[3].Action(), CanaryStepAction::kAnalysis);
  EXPECT_EQ(steps[4].Action(), CanaryStepAction::kPause);
  EXPECT_EQ(CanaryStep().Action(), std::nullopt);
  CanaryStep two;
  two.set_weight = 5;
  two.pause = RolloutPause();
  EXPECT_EQ(two.Action(), std::nullopt);
}

TEST(ApiRolloutTest, PauseDurations) {
  auto pause = [](std::optional<IntOrString> d) {
    RolloutPause p;
    p.duration = std::move(d);
    return p.Duration();
  };
  ASSERT_TRUE(pause(std::nullopt).ok());
  EXPECT_EQ(*pause(std::nullopt), std::nullopt);  // until promoted
  EXPECT_EQ(*pause(IntOrString(30)), std::optional<Millis>(std::chrono::seconds(30)));
  EXPECT_EQ(*pause(IntOrString("45")), std::optional<Millis>(std::chrono::seconds(45)));
  EXPECT_EQ(*pause(IntOrString("1m30s")), std::optional<Millis>(std::chrono::seconds(90)));
  EXPECT_EQ(*pause(IntOrString("0")), std::optional<Millis>(Millis(0)));
  EXPECT_THAT(pause(IntOrString("ten minutes")).status().message(),
              HasSubstr("invalid duration \"ten minutes\""));
  EXPECT_THAT(pause(IntOrString(-5)).status().message(), HasSubstr("must not be negative, got -5"));
  EXPECT_THAT(pause(IntOrString("-5s")).status().message(),
              HasSubstr("must not be negative, got \"-5s\""));
}

using Pair = std::pair<int64_t, int64_t>;

TEST(ApiRolloutTest, FencepostsResolveLikeDeployments) {
  auto fp = [](IntOrString surge, IntOrString unavailable, int64_t replicas) {
    Result<Fenceposts> f = ResolveFenceposts(surge, unavailable, replicas);
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::pair(f->max_surge, f->max_unavailable) : Pair();
  };
  EXPECT_EQ(fp("25%", "25%", 4), Pair(1, 1));
  EXPECT_EQ(fp("25%", "25%", 10), Pair(3, 2));
  EXPECT_EQ(fp("25%", "25%", 1), Pair(1, 0));
  EXPECT_EQ(fp(0, 0, 10), Pair(0, 1));  // must make progress
  EXPECT_EQ(fp("0%", "10%", 5), Pair(0, 1));
  EXPECT_EQ(fp(2, "0%", 3), Pair(2, 0));
  Result<Fenceposts> bad = ResolveFenceposts("x", "25%", 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("maxSurge: invalid value \"x\""));
  bad = ResolveFenceposts("25%", "1/4", 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("maxUnavailable: invalid value \"1/4\""));
}

TEST(ApiRolloutTest, SpecValidationErrorsNameTheField) {
  ExpectRejected<Rollout>(
      kCanary,
      {
          {"negative replicas",
           {{"spec", {{"replicas", -1}}}},
           "Rollout default/web: spec.replicas: must be >= 0, got -1"},
          {"negative minReadySeconds",
           {{"spec", {{"minReadySeconds", -1}}}},
           "spec.minReadySeconds: must be >= 0, got -1"},
          {"negative history",
           {{"spec", {{"revisionHistoryLimit", -2}}}},
           "spec.revisionHistoryLimit: must be >= 0, got -2"},
          {"deadline below minReady",
           {{"spec", {{"minReadySeconds", 10}, {"progressDeadlineSeconds", 5}}}},
           "spec.progressDeadlineSeconds: must be greater than minReadySeconds (10), got 5"},
          {"empty selector",
           {{"spec", {{"selector", {{"matchLabels", nullptr}}}}}},
           "spec.selector: must not be empty: it selects the Rollout's pods"},
          {"bad operator",
           {{"spec",
             {{"selector",
               {{"matchExpressions",
                 {{{"key", "app"}, {"operator", "Like"}, {"values", {"web"}}}}}}}}}},
           "spec.selector.matchExpressions[0].operator: must be one of In, NotIn, Exists, "
           "DoesNotExist, got \"Like\""},
          {"In without values",
           {{"spec",
             {{"selector", {{"matchExpressions", {{{"key", "app"}, {"operator", "In"}}}}}}}}},
           "spec.selector.matchExpressions[0].values: must not be empty with operator In"},
          {"Exists with values",
           {{"spec",
             {{"selector",
               {{"matchExpressions",
                 {{{"key", "app"}, {"operator", "Exists"}, {"values", {"x"}}}}}}}}}},
           "spec.selector.matchExpressions[0].values: must be empty with operator Exists"},
          {"expression without key",
           {{"spec", {{"selector", {{"matchExpressions", {{{"operator", "Exists"}}}}}}}}},
           "spec.selector.matchExpressions[0].key: is required"},
          {"no template",
           {{"spec", {{"template", nullptr}}}},
           "spec.template: is required: a pod template"},
          {"labels do not match",
           {{"spec", {{"template", {{"metadata", {{"labels", {{"app", "api"}}}}}}}}}},
           "spec.template.metadata.labels: do not match spec.selector \"app=web\""},
          {"no containers",
           {{"spec", {{"template", {{"spec", {{"containers", Json::array()}}}}}}}},
           "spec.template.spec.containers: must list at least one container"},
          {"no strategy",
           {{"spec", {{"strategy", {{"canary", nullptr}}}}}},
           "spec.strategy: must set exactly one of canary, blueGreen"},
          {"both strategies",
           {{"spec", {{"strategy", {{"blueGreen", {{"activeService", "web"}}}}}}}},
           "spec.strategy: must set exactly one of canary, blueGreen"},
      });
}

TEST(ApiRolloutTest, CanaryValidationErrorsNameTheField) {
  ExpectRejected<Rollout>(
      kCanary,
      {
          {"same services", Canary({{"stableService", "web-canary"}}),
           "spec.strategy.canary.stableService: must differ from canaryService, both are "
           "\"web-canary\""},
          {"bad service name", Canary({{"canaryService", "Web"}}),
           "spec.strategy.canary.canaryService: \"Web\" is not a valid name"},
          {"bad maxSurge", Canary({{"maxSurge", "lots"}}),
           "spec.strategy.canary.maxSurge: must be a non-negative integer or a percentage like "
           "\"25%\", got \"lots\""},
          {"negative maxSurge", Canary({{"maxSurge", -1}}),
           "spec.strategy.canary.maxSurge: must be >= 0, got -1"},
          {"digit string maxUnavailable", Canary({{"maxUnavailable", "1"}}),
           "spec.strategy.canary.maxUnavailable: must be a non-negative integer or a percentage"},
          {"both zero", Canary({{"maxSurge", 0}, {"maxUnavailable", "0%"}}),
           "spec.strategy.canary.maxUnavailable: must not be 0 when maxSurge is 0"},
          {"negative scale down delay", Canary({{"scaleDownDelaySeconds", -1}}),
           "spec.strategy.canary.scaleDownDelaySeconds: must be >= 0, got -1"},
          {"negative abort delay", Canary({{"abortScaleDownDelaySeconds", -3}}),
           "spec.strategy.canary.abortScaleDownDelaySeconds: must be >= 0, got -3"},
          {"no router", Canary({{"trafficRouting", {{"nginx", nullptr}}}}),
           "spec.strategy.canary.trafficRouting: must set exactly one of nginx, gatewayAPI"},
          {"two routers", Canary({{"trafficRouting", {{"gatewayAPI", {{"httpRoute", "web"}}}}}}),
           "spec.strategy.canary.trafficRouting: must set exactly one of nginx, gatewayAPI"},
          {"nginx without ingress",
           Canary({{"trafficRouting", {{"nginx", {{"stableIngress", nullptr}}}}}}),
           "spec.strategy.canary.trafficRouting.nginx.stableIngress: is required"},
          {"gateway without route",
           Canary(
               {{"trafficRouting", {{"nginx", nullptr}, {"gatewayAPI", {{"namespace", "Bad"}}}}}}),
           "spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute: is required"},
          {"gateway bad namespace",
           Canary(
               {{"trafficRouting",
                 {{"nginx", nullptr}, {"gatewayAPI", {{"httpRoute", "r"}, {"namespace", "B"}}}}}}),
           "spec.strategy.canary.trafficRouting.gatewayAPI.namespace: \"B\" is not a valid name"},
          {"router without canary service", Canary({{"canaryService", nullptr}}),
           "spec.strategy.canary.canaryService: is required with trafficRouting"},
          {"router without stable service", Canary({{"stableService", nullptr}}),
           "spec.strategy.canary.stableService: is required with trafficRouting"},
          {"empty step", Steps({{{"setWeight", 5}}, Json::object()}),
           "spec.strategy.canary.steps[1]: must set exactly one of setWeight, pause, analysis, "
           "setCanaryScale; 0 set"},
          {"two actions", Steps({{{"setWeight", 5}, {"pause", Json::object()}}}),
           "spec.strategy.canary.steps[0]: must set exactly one of setWeight, pause, analysis, "
           "setCanaryScale; 2 set"},
          {"weight over 100",
           Steps({{{"setWeight", 10}}, {{"setWeight", 50}}, {{"setWeight", 101}}}),
           "spec.strategy.canary.steps[2].setWeight: must be an integer 0..100, got 101"},
          {"negative weight", Steps({{{"setWeight", -1}}}),
           "spec.strategy.canary.steps[0].setWeight: must be an integer 0..100, got -1"},
          {"bad pause", Steps({{{"pause", {{"duration", "soon"}}}}}),
           "spec.strategy.canary.steps[0].pause.duration: invalid duration \"soon\""},
          {"negative pause", Steps({{{"pause", {{"duration", -5}}}}}),
           "spec.strategy.canary.steps[0].pause.duration: must not be negative, got -5"},
          {"analysis without templates", Steps({{{"analysis", {{"templates", Json::array()}}}}}),
           "spec.strategy.canary.steps[0].analysis.templates: must list at least one template"},
          {"template without name", Steps({{{"analysis", {{"templates", {Json::object()}}}}}}),
           "spec.strategy.canary.steps[0].analysis.templates[0].templateName: is required"},
          {"duplicate arg",
           Steps({{{"analysis",
                    {{"templates", {{{"templateName", "t"}}}},
                     {"args",
                      {{{"name", "a"}, {"value", "1"}}, {{"name", "a"}, {"value", "2"}}}}}}}}),
           "spec.strategy.canary.steps[0].analysis.args[1].name: duplicate argument \"a\""},
          {"arg without name",
           Steps({{{"analysis",
                    {{"templates", {{{"templateName", "t"}}}}, {"args", {{{"value", "1"}}}}}}}}),
           "spec.strategy.canary.steps[0].analysis.args[0].name: is required"},
          {"arg value and valueFrom",
           Steps({{{"analysis",
                    {{"templates", {{{"templateName", "t"}}}},
                     {"args",
                      {{{"name", "a"},
                        {"value", "1"},
                        {"valueFrom", {{"podTemplateHashValue", "Stable"}}}}}}}}}}),
           "spec.strategy.canary.steps[0].analysis.args[0]: must set at most one of value, "
           "valueFrom"},
          {"empty valueFrom",
           Steps({{{"analysis",
                    {{"templates", {{{"templateName", "t"}}}},
                     {"args", {{{"name", "a"}, {"valueFrom", Json::object()}}}}}}}}),
           "spec.strategy.canary.steps[0].analysis.args[0].valueFrom: must set exactly one of "
           "podTemplateHashValue, fieldRef"},
          {"bad hash value",
           Steps({{{"analysis",
                    {{"templates", {{{"templateName", "t"}}}},
                     {"args",
                      {{{"name", "a"}, {"valueFrom", {{"podTemplateHashValue", "Newest"}}}}}}}}}}),
           "spec.strategy.canary.steps[0].analysis.args[0].valueFrom.podTemplateHashValue: must "
           "be Stable or Latest, got \"Newest\""},
          {"fieldRef without path",
           Steps(
               {{{"analysis",
                  {{"templates", {{{"templateName", "t"}}}},
                   {"args", {{{"name", "a"}, {"valueFrom", {{"fieldRef", Json::object()}}}}}}}}}}),
           "spec.strategy.canary.steps[0].analysis.args[0].valueFrom.fieldRef.fieldPath: is "
           "required"},
          {"dryRun without name",
           Steps({{{"analysis",
                    {{"templates", {{{"templateName", "t"}}}}, {"dryRun", {Json::object()}}}}}}),
           "spec.strategy.canary.steps[0].analysis.dryRun[0].metricName: is required"},
          {"startingStep in a step",
           Steps({{{"analysis", {{"templates", {{{"templateName", "t"}}}}, {"startingStep", 0}}}}}),
           "spec.strategy.canary.steps[0].analysis.startingStep: is only allowed for background "
           "analysis"},
          {"scale sets nothing", Steps({{{"setCanaryScale", Json::object()}}}),
           "spec.strategy.canary.steps[0].setCanaryScale: must set exactly one of weight, "
           "replicas, matchTrafficWeight: true"},
          {"scale sets two", Steps({{{"setCanaryScale", {{"weight", 5}, {"replicas", 1}}}}}),
           "spec.strategy.canary.steps[0].setCanaryScale: must set exactly one of weight"},
          {"scale weight over 100", Steps({{{"setCanaryScale", {{"weight", 120}}}}}),
           "spec.strategy.canary.steps[0].setCanaryScale.weight: must be an integer 0..100, got "
           "120"},
          {"negative scale replicas", Steps({{{"setCanaryScale", {{"replicas", -1}}}}}),
           "spec.strategy.canary.steps[0].setCanaryScale.replicas: must be >= 0, got -1"},
          {"scale without router",
           Canary({{"trafficRouting", nullptr},
                   {"canaryService", nullptr},
                   {"stableService", nullptr}}),
           "spec.strategy.canary.steps[0].setCanaryScale: requires trafficRouting"},
          {"background startingStep past the end", Canary({{"analysis", {{"startingStep", 5}}}}),
           "spec.strategy.canary.analysis.startingStep: must be an integer 0..4, got 5"},
          {"background startingStep without steps",
           Canary({{"steps", nullptr}, {"analysis", {{"startingStep", 0}}}}),
           "spec.strategy.canary.analysis.startingStep: requires steps"},
          {"background without templates", Canary({{"analysis", {{"templates", nullptr}}}}),
           "spec.strategy.canary.analysis.templates: must list at least one template"},
      });
}

TEST(ApiRolloutTest, BlueGreenValidationErrorsNameTheField) {
  ExpectRejected<Rollout>(
      kBlueGreen,
      {
          {"no active service", BlueGreen({{"activeService", nullptr}}),
           "Rollout default/api: spec.strategy.blueGreen.activeService: is required"},
          {"same services", BlueGreen({{"previewService", "api"}}),
           "spec.strategy.blueGreen.previewService: must differ from activeService, both are "
           "\"api\""},
          {"bad preview name", BlueGreen({{"previewService", "api_preview"}}),
           "spec.strategy.blueGreen.previewService: \"api_preview\" is not a valid name"},
          {"negative preview replicas", BlueGreen({{"previewReplicaCount", -1}}),
           "spec.strategy.blueGreen.previewReplicaCount: must be >= 0, got -1"},
          {"negative auto promotion", BlueGreen({{"autoPromotionSeconds", -1}}),
           "spec.strategy.blueGreen.autoPromotionSeconds: must be >= 0, got -1"},
          {"auto promotion seconds while disabled",
           BlueGreen({{"autoPromotionEnabled", false}, {"autoPromotionSeconds", 30}}),
           "spec.strategy.blueGreen.autoPromotionSeconds: cannot be set when "
           "autoPromotionEnabled is false"},
          {"negative scale down delay", BlueGreen({{"scaleDownDelaySeconds", -1}}),
           "spec.strategy.blueGreen.scaleDownDelaySeconds: must be >= 0, got -1"},
          {"negative abort delay", BlueGreen({{"abortScaleDownDelaySeconds", -1}}),
           "spec.strategy.blueGreen.abortScaleDownDelaySeconds: must be >= 0, got -1"},
          {"pre-promotion without templates",
           BlueGreen({{"prePromotionAnalysis", {{"templates", Json::array()}}}}),
           "spec.strategy.blueGreen.prePromotionAnalysis.templates: must list at least one "
           "template"},
          {"post-promotion with startingStep",
           BlueGreen({{"postPromotionAnalysis",
                       {{"templates", {{{"templateName", "t"}}}}, {"startingStep", 1}}}}),
           "spec.strategy.blueGreen.postPromotionAnalysis.startingStep: is only allowed for "
           "background analysis"},
      });
}

TEST(ApiRolloutTest, DecodesStatus) {
  Json json = kCanary;
  json["status"] = R"({
    "phase": "Paused", "currentStepIndex": 4, "abort": true,
    "abortedAt": "2026-01-10T12:00:00Z",
    "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-01-10T11:00:00Z"}],
    "canary": {"weights": {"canary": {"weight": 20, "podTemplateHash": "abc"},
                           "stable": {"weight": 80}},
               "currentStepAnalysisRunStatus": {"name": "web-abc-3", "status": "Inconclusive"}},
    "blueGreen": {"activeSelector": "abc"},
    "replicas": 5, "updatedReplicas": 1, "readyReplicas": 5, "availableReplicas": 4,
    "selector": "app=web", "observedGeneration": 7
  })"_json;
  Result<Rollout> r = Rollout::FromJson(json);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const RolloutStatus& s = r->status;
  EXPECT_EQ(s.phase, RolloutPhase::kPaused);
  EXPECT_EQ(s.current_step_index, 4);
  EXPECT_TRUE(s.abort);
  ASSERT_EQ(s.pause_conditions.size(), 1u);
  EXPECT_EQ(s.pause_conditions[0].reason, PauseReason::kCanaryPauseStep);
  EXPECT_EQ(s.canary.weights->canary.weight, 20);
  EXPECT_EQ(s.canary.weights->stable.weight, 80);
  EXPECT_EQ(s.canary.current_step_analysis_run_status->status, AnalysisPhase::kInconclusive);
  EXPECT_EQ(s.blue_green.active_selector, "abc");
  EXPECT_EQ(s.available_replicas, 4);
  EXPECT_EQ(s.observed_generation, 7);

  json["status"]["pauseConditions"][0]["reason"] = "Sleepy";
  Result<Rollout> bad = Rollout::FromJson(json);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("status.pauseConditions[0].reason: must be one of CanaryPauseStep, "
                        "BlueGreenPause, InconclusiveAnalysisRun"));
}

}  // namespace
}  // namespace gantry::api
