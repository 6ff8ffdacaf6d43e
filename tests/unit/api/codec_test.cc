// FromJson's shape errors and ToJson's round trips, shown on all kinds: the codec is shared.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/api/types.h"
#include "operator/common/clock.h"
#include "yaml_testdata.h"

namespace gantry::api {
namespace {

using ::testing::HasSubstr;
using testing::JsonContains;

const nlohmann::json kRollout = R"({
  "apiVersion": "gantry.io/v1alpha1", "kind": "Rollout",
  "metadata": {"name": "web", "namespace": "default"},
  "spec": {
    "selector": {"matchLabels": {"app": "web"}},
    "template": {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "web", "image": "web:1"}]}},
    "strategy": {"canary": {"steps": [{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}]}}
  }
})"_json;

std::string DecodeError(const nlohmann::json& patch) {
  nlohmann::json json = kRollout;
  json.merge_patch(patch);
  Result<Rollout> r = Rollout::FromJson(json);
  EXPECT_FALSE(r.ok()) << patch.dump();
  return r.ok() ? "" : r.status().message();
}

TEST(ApiCodecTest, ReportsTypeErrorsWithTheirPath) {
  EXPECT_EQ(DecodeError({{"spec", {{"replicas", "3"}}}}),
            "Rollout default/web: spec.replicas: must be an integer, got \"3\"");
  EXPECT_EQ(DecodeError({{"spec", {{"replicas", 2.5}}}}),
            "Rollout default/web: spec.replicas: must be an integer, got 2.5");
  EXPECT_EQ(
      DecodeError(
          {{"spec",
            {{"strategy",
              {{"canary",
                {{"steps", {{{"setWeight", 10}}, {{"pause", {}}}, {{"setWeight", "ten"}}}}}}}}}}}),
      "Rollout default/web: spec.strategy.canary.steps[2].setWeight: must be an integer, got "
      "\"ten\"");
  EXPECT_THAT(DecodeError({{"spec", {{"paused", "yes"}}}}),
              HasSubstr("spec.paused: must be true or false, got \"yes\""));
  EXPECT_THAT(DecodeError({{"spec", {{"selector", {{"matchLabels", {{"app", 5}}}}}}}}),
              HasSubstr("spec.selector.matchLabels.app: must be a string, got 5"));
  EXPECT_THAT(DecodeError({{"spec", {{"strategy", {{"canary", {{"steps", {{"x", 1}}}}}}}}}}),
              HasSubstr("spec.strategy.canary.steps: must be a list"));
  EXPECT_THAT(DecodeError({{"spec", {{"strategy", {{"canary", {{"steps", {1, 2}}}}}}}}}),
              HasSubstr("spec.strategy.canary.steps[0]: must be an object"));
  EXPECT_THAT(DecodeError({{"spec", {{"strategy", {{"canary", {{"maxSurge", true}}}}}}}}),
              HasSubstr("spec.strategy.canary.maxSurge: must be an integer or a string, got true"));
  EXPECT_THAT(DecodeError({{"spec", {{"restartAt", "yesterday"}}}}),
              HasSubstr("spec.restartAt: must be an RFC 3339 time like \"2024-05-01T12:00:00Z\", "
                        "got \"yesterday\""));
  EXPECT_THAT(DecodeError({{"status", {{"phase", "Running"}}}}),
              HasSubstr("status.phase: must be one of Healthy, Progressing, Paused, Degraded"));
  EXPECT_THAT(
      DecodeError(
          {{"spec", {{"selector", {{"matchExpressions", {{{"key", "a"}, {"values", "x"}}}}}}}}}),
      HasSubstr("spec.selector.matchExpressions[0].values: must be a list of strings"));
  EXPECT_THAT(DecodeError({{"metadata", {{"finalizers", {"a", 1}}}}}),
              HasSubstr("metadata.finalizers[1]: must be a string, got 1"));
  EXPECT_THAT(DecodeError({{"spec", {{"replicas", 18446744073709551615ULL}}}}),
              HasSubstr("spec.replicas: is out of range"));
  EXPECT_THAT(DecodeError({{"spec", nlohmann::json::array()}}),
              HasSubstr("Rollout default/web: spec: must be an object"));
}

TEST(ApiCodecTest, ReportsEveryTypeErrorWithACausePerField) {
  nlohmann::json json = kRollout;
  json["spec"]["replicas"] = "two";
  json["spec"]["paused"] = 1;
  Result<Rollout> r = Rollout::FromJson(json);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Rollout default/web: spec.replicas: must be an integer, got \"two\"; spec.paused: "
            "must be true or false, got 1");
  ASSERT_EQ(r.status().causes().size(), 2u);
  EXPECT_EQ(r.status().causes()[0].field, "spec.replicas");
  EXPECT_EQ(r.status().causes()[0].reason, "FieldValueInvalid");
  EXPECT_EQ(r.status().causes()[1].field, "spec.paused");
}

TEST(ApiCodecTest, ChecksApiVersionAndKindWhenPresent) {
  nlohmann::json argo = kRollout;
  argo["apiVersion"] = "argoproj.io/v1alpha1";
  Result<Rollout> r = Rollout::FromJson(argo);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Rollout default/web: apiVersion: must be gantry.io/v1alpha1, got "
            "\"argoproj.io/v1alpha1\"");
  Result<Application> wrong_kind = Application::FromJson(kRollout);
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_EQ(wrong_kind.status().message(),
            "Application default/web: kind: must be Application, got \"Rollout\"");
  // Items of a List may come without apiVersion and kind.
  nlohmann::json bare = kRollout;
  bare.erase("apiVersion");
  bare.erase("kind");
  Result<Rollout> ok = Rollout::FromJson(bare);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->ToJson()["apiVersion"], "gantry.io/v1alpha1");
  EXPECT_EQ(ok->ToJson()["kind"], "Rollout");
}

TEST(ApiCodecTest, RejectsNonObjectsAndNamesUnnamedObjects) {
  Result<Rollout> array = Rollout::FromJson(nlohmann::json::array());
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(), "Rollout: must be a JSON object, got array");
  Result<GitRepository> unnamed = GitRepository::FromJson({{"spec", {{"url", 5}}}});
  ASSERT_FALSE(unnamed.ok());
  EXPECT_EQ(unnamed.status().message(),
            "GitRepository (unnamed): spec.url: must be a string, got 5");
  Result<ClusterAnalysisTemplate> cluster = ClusterAnalysisTemplate::FromJson(
      {{"metadata", {{"name", "shared"}}}, {"spec", {{"metrics", 1}}}});
  ASSERT_FALSE(cluster.ok());
  EXPECT_EQ(cluster.status().message(),
            "ClusterAnalysisTemplate shared: spec.metrics: must be a list");
}

TEST(ApiCodecTest, NullMeansAbsent) {
  nlohmann::json json = kRollout;
  json["spec"]["replicas"] = nullptr;
  json["spec"]["strategy"]["canary"]["analysis"] = nullptr;
  json["status"] = nullptr;
  Result<Rollout> r = Rollout::FromJson(json);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->spec.replicas, 1);
  EXPECT_FALSE(r->spec.strategy.canary->analysis.has_value());
}

TEST(ApiCodecTest, KeepsUnknownFieldsAtEveryLevel) {
  nlohmann::json json = kRollout;
  json["metadata"]["ownerReferences"] = {{{"kind", "Application"}, {"name", "shop"}}};
  json["metadata"]["managedFields"] = {{{"manager", "kubectl"}}};
  json["spec"]["workloadRef"] = {{"kind", "Deployment"}};
  json["spec"]["strategy"]["canary"]["steps"][0]["experiment"] = {{"duration", "1h"}};
  json["status"] = R"({
    "phase": "Progressing", "HPAReplicas": 3, "workloadObservedGeneration": "7",
    "canary": {"weights": {"canary": {"weight": 10, "future": true},
                           "stable": {"weight": 90}, "additional": [{"weight": 0}]}},
    "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetCreated",
                    "message": "", "lastTransitionTime": "2026-01-10T12:00:00Z",
                    "lastUpdateTime": "2026-01-10T12:00:05Z"}]
  })"_json;
  Result<Rollout> r = Rollout::FromJson(json);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(JsonContains(r->ToJson(), json));

  // A reconciler changes status the usual way; nothing it does not know about is lost.
  Rollout updated = *r;
  updated.status.phase = RolloutPhase::kPaused;
  updated.status.canary.weights->canary.weight = 20;
  SetCondition(updated.status.conditions,
               Condition{"Progressing", "True", 2, std::nullopt, "RolloutPaused", "paused", {}},
               *ParseRfc3339("2026-01-10T12:01:00Z"));
  MarkReconciling(updated.status.conditions, 2, "Progressing", "step 2", FakeClock().Now());
  nlohmann::json written = updated.ToJson();
  EXPECT_EQ(written["status"]["HPAReplicas"], 3);
  EXPECT_EQ(written["status"]["workloadObservedGeneration"], "7");
  EXPECT_EQ(written["status"]["canary"]["weights"]["canary"]["weight"], 20);
  EXPECT_EQ(written["status"]["canary"]["weights"]["canary"]["future"], true);
  EXPECT_EQ(written["status"]["canary"]["weights"]["additional"],
            json["status"]["canary"]["weights"]["additional"]);
  EXPECT_EQ(written["status"]["conditions"][0]["lastUpdateTime"], "2026-01-10T12:00:05Z");
  EXPECT_EQ(written["status"]["conditions"][0]["reason"], "RolloutPaused");
  EXPECT_EQ(written["status"]["conditions"][0]["lastTransitionTime"], "2026-01-10T12:00:00Z");
  EXPECT_EQ(written["status"]["phase"], "Paused");
  EXPECT_EQ(written["metadata"]["managedFields"], json["metadata"]["managedFields"]);
  EXPECT_EQ(written["spec"]["workloadRef"], json["spec"]["workloadRef"]);
  EXPECT_EQ(written["spec"]["strategy"]["canary"]["steps"][0]["experiment"]["duration"], "1h");

  // And a restarted operator reads back exactly what was written.
  Result<Rollout> reread = Rollout::FromJson(written);
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(*reread, updated);
}

TEST(ApiCodecTest, WritesByOmitEmptyRules) {
  Result<GitRepository> repo =
      GitRepository::FromJson({{"metadata", {{"name", "r"}}}, {"spec", {{"url", "https://h/r"}}}});
  ASSERT_TRUE(repo.ok());
  nlohmann::json json = repo->ToJson();
  EXPECT_EQ(json["apiVersion"], "gantry.io/v1alpha1");
  EXPECT_EQ(json["kind"], "GitRepository");
  EXPECT_EQ(json["metadata"], nlohmann::json({{"name", "r"}}));  // generation 0: omitted
  EXPECT_FALSE(json["spec"].contains("secretRef"));              // unset optional
  EXPECT_EQ(json["spec"]["ref"], nlohmann::json::object());
  EXPECT_EQ(json["spec"]["suspend"], false);             // booleans are always written
  EXPECT_FALSE(json["status"].contains("conditions"));   // empty list
  EXPECT_FALSE(json["status"].contains("webhookPath"));  // empty string
  EXPECT_EQ(json["status"]["observedGeneration"], 0);

  // A condition's message is written even when empty: metav1.Condition requires it.
  repo->status.conditions.push_back(
      Condition{"Ready", "True", 1, *ParseRfc3339("2026-01-01T00:00:00Z"), "Succeeded", "", {}});
  EXPECT_EQ(repo->ToJson()["status"]["conditions"][0]["message"], "");
}

TEST(ApiCodecTest, TimestampsRoundTripAtSecondPrecision) {
  nlohmann::json json = kRollout;
  json["spec"]["restartAt"] = "2026-03-04T05:06:07Z";
  json["status"]["abortedAt"] = "2026-03-04T05:06:07.250+01:00";
  Result<Rollout> r = Rollout::FromJson(json);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ToJson()["spec"]["restartAt"], "2026-03-04T05:06:07Z");
  EXPECT_EQ(r->ToJson()["status"]["abortedAt"], "2026-03-04T04:06:07Z");
}

}  // namespace
}  // namespace gantry::api
