#include "operator/rollout/analysis_run_builder.h"

#include <gtest/gtest.h>

namespace gantry::rollout {
namespace {

using nlohmann::json;

FetchedTemplate Template(const std::string& name, const std::string& json_spec) {
  auto t = api::AnalysisTemplate::FromJson(json::parse(
      R"({"apiVersion":"gantry.io/v1alpha1","kind":"AnalysisTemplate","metadata":{"name":")" +
      name + R"("},"spec":)" + json_spec + "}"));
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return FetchedTemplate{name, false, t.ok() ? t->spec : api::AnalysisTemplateSpec{}};
}

api::RolloutAnalysis Analysis(const std::string& json_text) {
  auto r = api::Rollout::FromJson(
      json::parse(R"({"metadata":{"name":"web"},"spec":{"strategy":{"canary":{"analysis":)" +
                  json_text + "}}}}"));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r->spec.strategy.canary->analysis : api::RolloutAnalysis{};
}

AnalysisRunParams Params() {
  AnalysisRunParams p;
  p.name = AnalysisRunName("web", "abc", 2, AnalysisKind::kStep, 3, 0);
  p.ns = "shop";
  p.owner = {"gantry.io/v1alpha1", "Rollout", "web", "uid-1"};
  p.rollout_json =
      json{{"metadata", {{"name", "web"}, {"labels", {{"app.kubernetes.io/name", "shop-web"}}}}}};
  p.kind = AnalysisKind::kStep;
  p.step_index = 3;
  p.latest_hash = "abc";
  p.stable_hash = "old";
  p.revision = 2;
  return p;
}

const char* kSuccessRate = R"({
  "args":[{"name":"service"},{"name":"threshold","value":"0.95"},{"name":"hash"}],
  "metrics":[{"name":"success","interval":"10s","successCondition":"result[0] >= 0.95",
              "provider":{"web":{"url":"http://x/{{args.service}}"}}}]})";

TEST(AnalysisRunBuilderTest, Names) {
  EXPECT_EQ(AnalysisRunName("web", "abc", 2, AnalysisKind::kStep, 3, 0), "web-abc-2-step-3");
  EXPECT_EQ(AnalysisRunName("web", "abc", 2, AnalysisKind::kBackground, std::nullopt, 0),
            "web-abc-2-background");
  EXPECT_EQ(AnalysisRunName("web", "abc", 2, AnalysisKind::kPrePromotion, std::nullopt, 1),
            "web-abc-2-pre.1");
  EXPECT_EQ(AnalysisRunName("web", "abc", 2, AnalysisKind::kPostPromotion, std::nullopt, 0),
            "web-abc-2-post");
}

TEST(AnalysisRunBuilderTest, ResolvesArgumentsAndLabels) {
  auto run = BuildAnalysisRun(Analysis(R"({"templates":[{"templateName":"success-rate"}],
                  "args":[{"name":"service","valueFrom":{"fieldRef":{"fieldPath":"metadata.labels['app.kubernetes.io/name']"}}},
                          {"name":"hash","valueFrom":{"podTemplateHashValue":"Latest"}}]})"),
                              {Template("success-rate", kSuccessRate)}, Params());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->metadata.name, "web-abc-2-step-3");
  EXPECT_EQ(run->metadata.labels.at("gantry.io/rollout"), "web");
  EXPECT_EQ(run->metadata.labels.at("rollouts-pod-template-hash"), "abc");
  EXPECT_EQ(run->metadata.labels.at("rollout-type"), "Step");
  EXPECT_EQ(run->metadata.labels.at("step-index"), "3");
  EXPECT_EQ(run->metadata.annotations.at("gantry.io/revision"), "2");
  const json j = run->ToJson();
  EXPECT_EQ(j["metadata"]["ownerReferences"][0]["uid"], "uid-1");
  ASSERT_EQ(run->spec.args.size(), 3u);
  EXPECT_EQ(run->spec.args[0].name, "service");
  EXPECT_EQ(run->spec.args[0].value, "shop-web");
  EXPECT_EQ(run->spec.args[1].value, "0.95");  // template default
  EXPECT_EQ(run->spec.args[2].value, "abc");
  ASSERT_EQ(run->spec.metrics.size(), 1u);
  // Substitution is the AnalysisRun reconciler's job.
  EXPECT_EQ(run->spec.metrics[0].provider.web->url, "http://x/{{args.service}}");
  EXPECT_TRUE(run->Validate().ok()) << run->Validate().ToString();
}

TEST(AnalysisRunBuilderTest, MissingArgumentNamesTemplateAndArgument) {
  auto run = BuildAnalysisRun(Analysis(R"({"templates":[{"templateName":"success-rate"}]})"),
                              {Template("success-rate", kSuccessRate)}, Params());
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("argument service of AnalysisTemplate success-rate"),
            std::string::npos)
      << run.status().message();
  EXPECT_NE(run.status().message().find("Rollout shop/web"), std::string::npos);
}

TEST(AnalysisRunBuilderTest, DuplicateMetricsAcrossTemplatesAreRejected) {
  const char* spec = R"({"metrics":[{"name":"m","provider":{"web":{"url":"http://x"}}}]})";
  auto run =
      BuildAnalysisRun(Analysis(R"({"templates":[{"templateName":"a"},{"templateName":"b"}]})"),
                       {Template("a", spec), Template("b", spec)}, Params());
  ASSERT_FALSE(run.ok());
  EXPECT_NE(run.status().message().find("metric m"), std::string::npos);
}

TEST(AnalysisRunBuilderTest, FieldPaths) {
  const json o =
      json::parse(R"({"metadata":{"name":"web","labels":{"a.b/c":"v"}},"spec":{"replicas":3}})");
  EXPECT_EQ(ResolveFieldPath(o, "metadata.name"), "web");
  EXPECT_EQ(ResolveFieldPath(o, "metadata.labels['a.b/c']"), "v");
  EXPECT_EQ(ResolveFieldPath(o, "metadata.labels[\"a.b/c\"]"), "v");
  EXPECT_EQ(ResolveFieldPath(o, "spec.replicas"), "3");
  EXPECT_EQ(ResolveFieldPath(o, "metadata.labels['missing']"), std::nullopt);
  EXPECT_EQ(ResolveFieldPath(o, "metadata.labels['oops"), std::nullopt);
}

}  // namespace
}  // namespace gantry::rollout
