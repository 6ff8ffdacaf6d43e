#include "operator/api/analysis.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "yaml_testdata.h"

namespace gantry::api {
namespace {

using testing::BadCase;
using ::testing::ElementsAre;
using testing::ExpectRejected;
using ::testing::HasSubstr;
using Json = nlohmann::json;

const Json kTemplate = R"json({
  "apiVersion": "gantry.io/v1alpha1", "kind": "AnalysisTemplate",
  "metadata": {"name": "rate", "namespace": "default"},
  "spec": {
    "args": [{"name": "service"}, {"name": "count", "value": "3"}],
    "metrics": [{
      "name": "success",
      "interval": "30s",
      "count": "{{args.count}}",
      "successCondition": "result[0] > 0.9",
      "provider": {"prometheus": {"address": "http://prom:9090",
                                  "query": "rate(http{svc=\"{{args.service}}\"}[1m])"}}
    }]
  }
})json"_json;

// A patch that replaces the first metric's fields (merge semantics inside it).
Json Metric0(Json fields) {
  Json metric = kTemplate["spec"]["metrics"][0];
  metric.merge_patch(fields);
  return {{"spec", {{"metrics", {metric}}}}};
}
Json Provider(Json provider) {
  Json metric = kTemplate["spec"]["metrics"][0];
  metric["provider"] = std::move(provider);
  return {{"spec", {{"metrics", {metric}}}}};
}
Json Args(Json args) { return {{"spec", {{"args", std::move(args)}}}}; }

TEST(ApiAnalysisTest, AppliesDefaults) {
  Result<AnalysisTemplate> t = AnalysisTemplate::FromJson(kTemplate);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->spec.metrics.size(), 1u);
  const Metric& m = t->spec.metrics[0];
  EXPECT_EQ(m.failure_limit, IntOrString(0));
  EXPECT_EQ(m.inconclusive_limit, IntOrString(0));
  EXPECT_EQ(m.consecutive_error_limit, IntOrString(4));
  EXPECT_EQ(m.count, IntOrString("{{args.count}}"));
  EXPECT_FALSE(m.provider.prometheus->timeout.has_value());
  EXPECT_FALSE(t->spec.args[0].value.has_value());
  EXPECT_EQ(t->spec.args[1].value, "3");

  Result<AnalysisTemplate> web = AnalysisTemplate::FromJson(
      R"({"spec": {"metrics": [{"name": "w", "provider": {"web": {"url": "http://x"}}}]}})"_json);
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web->spec.metrics[0].provider.web->method, "GET");
  EXPECT_EQ(web->spec.metrics[0].provider.web->timeout_seconds, 10);

  Result<AnalysisRun> run = AnalysisRun::FromJson({{"spec", kTemplate["spec"]}});
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status.phase, AnalysisPhase::kPending);
  EXPECT_FALSE(run->spec.terminate);
}

TEST(ApiAnalysisTest, EmptyStringArgumentValueIsAValue) {
  Json json = kTemplate;
  json["spec"]["args"][0]["value"] = "";
  Result<AnalysisTemplate> t = AnalysisTemplate::FromJson(json);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->spec.args[0].value, "");
  EXPECT_EQ(t->ToJson()["spec"]["args"][0]["value"], "");
}

TEST(ApiAnalysisTest, TemplateValidationErrorsNameTheField) {
  ExpectRejected<AnalysisTemplate>(
      kTemplate,
      {
          {"no metrics",
           {{"spec", {{"metrics", Json::array()}}}},
           "AnalysisTemplate default/rate: spec.metrics: must list at least one metric"},
          {"metric without name", Metric0({{"name", nullptr}}),
           "spec.metrics[0].name: is required"},
          {"duplicate metric",
           {{"spec",
             {{"metrics", {kTemplate["spec"]["metrics"][0], kTemplate["spec"]["metrics"][0]}}}}},
           "spec.metrics[1].name: duplicate metric \"success\""},
          {"bad interval", Metric0({{"interval", "often"}}),
           "spec.metrics[0].interval: invalid duration \"often\""},
          {"zero interval", Metric0({{"interval", "0s"}}),
           "spec.metrics[0].interval: must be a positive duration, got \"0s\""},
          {"negative initial delay", Metric0({{"initialDelay", "-5s"}}),
           "spec.metrics[0].initialDelay: must not be negative, got \"-5s\""},
          {"negative count", Metric0({{"count", -1}}),
           "spec.metrics[0].count: must be a non-negative integer or \"{{args.NAME}}\", got "
           "\"-1\""},
          {"word count", Metric0({{"count", "five"}}),
           "spec.metrics[0].count: must be a non-negative integer or \"{{args.NAME}}\", got "
           "\"five\""},
          {"bad failureLimit", Metric0({{"failureLimit", "1.5"}}),
           "spec.metrics[0].failureLimit: must be a non-negative integer"},
          {"bad inconclusiveLimit", Metric0({{"inconclusiveLimit", -2}}),
           "spec.metrics[0].inconclusiveLimit: must be a non-negative integer"},
          {"bad consecutiveErrorLimit", Metric0({{"consecutiveErrorLimit", "x{{args.count}}"}}),
           "spec.metrics[0].consecutiveErrorLimit: must be a non-negative integer"},
          {"count below failureLimit", Metric0({{"count", 2}, {"failureLimit", 3}}),
           "spec.metrics[0].count: must be >= failureLimit (3), got 2"},
          {"count below inconclusiveLimit", Metric0({{"count", "2"}, {"inconclusiveLimit", 4}}),
           "spec.metrics[0].count: must be >= inconclusiveLimit (4), got 2"},
          {"count without interval", Metric0({{"count", 3}, {"interval", nullptr}}),
           "spec.metrics[0].interval: is required when count is greater than 1"},
          {"no provider", Provider(Json::object()),
           "spec.metrics[0].provider: must set exactly one of prometheus, web, job; 0 set"},
          {"two providers",
           Provider({{"prometheus", {{"address", "http://p"}, {"query", "up"}}},
                     {"web", {{"url", "http://w"}}}}),
           "spec.metrics[0].provider: must set exactly one of prometheus, web, job; 2 set"},
          {"prometheus without address", Provider({{"prometheus", {{"query", "up"}}}}),
           "spec.metrics[0].provider.prometheus.address: is required"},
          {"prometheus address without scheme",
           Provider({{"prometheus", {{"address", "prom:9090"}, {"query", "up"}}}}),
           "spec.metrics[0].provider.prometheus.address: must be an http:// or https:// URL, "
           "got \"prom:9090\""},
          {"prometheus without query", Provider({{"prometheus", {{"address", "http://p"}}}}),
           "spec.metrics[0].provider.prometheus.query: is required"},
          {"negative timeout",
           Provider({{"prometheus", {{"address", "http://p"}, {"query", "up"}, {"timeout", -1}}}}),
           "spec.metrics[0].provider.prometheus.timeout: must be >= 0, got -1"},
          {"bad timeout",
           Provider({{"prometheus",
                      {{"address", "http://p"}, {"query", "up"}, {"timeout", "a while"}}}}),
           "spec.metrics[0].provider.prometheus.timeout: invalid duration \"a while\""},
          {"header without key",
           Provider(
               {{"prometheus",
                 {{"address", "http://p"}, {"query", "up"}, {"headers", {{{"value", "x"}}}}}}}),
           "spec.metrics[0].provider.prometheus.headers[0].key: is required"},
          {"web without url", Provider({{"web", {{"method", "GET"}}}}),
           "spec.metrics[0].provider.web.url: is required"},
          {"web ftp url", Provider({{"web", {{"url", "ftp://x"}}}}),
           "spec.metrics[0].provider.web.url: must be an http:// or https:// URL, got \"ftp://x\""},
          {"web bad method", Provider({{"web", {{"url", "http://x"}, {"method", "DELETE"}}}}),
           "spec.metrics[0].provider.web.method: must be one of GET, POST, PUT, got \"DELETE\""},
          {"web GET with body", Provider({{"web", {{"url", "http://x"}, {"body", "{}"}}}}),
           "spec.metrics[0].provider.web.body: is only allowed with method POST or PUT"},
          {"web negative timeout",
           Provider({{"web", {{"url", "http://x"}, {"timeoutSeconds", -1}}}}),
           "spec.metrics[0].provider.web.timeoutSeconds: must be >= 0, got -1"},
          {"web header without key",
           Provider({{"web", {{"url", "http://x"}, {"headers", {{{"key", ""}, {"value", "v"}}}}}}}),
           "spec.metrics[0].provider.web.headers[0].key: is required"},
          {"job without spec", Provider({{"job", {{"metadata", {{"labels", {{"a", "b"}}}}}}}}),
           "spec.metrics[0].provider.job.spec: is required: a batch/v1 JobSpec"},
          {"job without template", Provider({{"job", {{"spec", {{"backoffLimit", 1}}}}}}),
           "spec.metrics[0].provider.job.spec.template: is required: the Job's pod template"},
          {"undeclared argument in query",
           Provider(
               {{"prometheus", {{"address", "http://p"}, {"query", "up{x=\"{{args.nope}}\"}"}}}}),
           "spec.metrics[0].provider.prometheus.query: refers to {{args.nope}}, which spec.args "
           "does not declare"},
          {"undeclared argument deep in a job",
           Provider({{"job",
                      {{"spec",
                        {{"template",
                          {{"spec",
                            {{"containers",
                              {{{"name", "c"}, {"args", {"--svc={{ args.svc }}"}}}}}}}}}}}}}}),
           "spec.metrics[0].provider.job.spec.template.spec.containers[0].args[0]: refers to "
           "{{args.svc}}"},
          {"undeclared argument in count", Metric0({{"count", "{{args.n}}"}}),
           "spec.metrics[0].count: refers to {{args.n}}, which spec.args does not declare"},
          {"arg without name", Args({{{"value", "x"}}}), "spec.args[0].name: is required"},
          {"duplicate arg", Args({{{"name", "service"}}, {{"name", "count"}}, {{"name", "count"}}}),
           "spec.args[2].name: duplicate argument \"count\""},
          {"value and valueFrom",
           Args({{{"name", "service"},
                  {"value", "a"},
                  {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}},
                 {{"name", "count"}}}),
           "spec.args[0]: must set at most one of value, valueFrom"},
          {"empty valueFrom",
           Args({{{"name", "service"}, {"valueFrom", Json::object()}}, {{"name", "count"}}}),
           "spec.args[0].valueFrom: must set exactly one of secretKeyRef, fieldRef"},
          {"secretKeyRef without name",
           Args({{{"name", "service"}, {"valueFrom", {{"secretKeyRef", {{"key", "k"}}}}}},
                 {{"name", "count"}}}),
           "spec.args[0].valueFrom.secretKeyRef.name: is required"},
          {"secretKeyRef without key",
           Args({{{"name", "service"}, {"valueFrom", {{"secretKeyRef", {{"name", "s"}}}}}},
                 {{"name", "count"}}}),
           "spec.args[0].valueFrom.secretKeyRef.key: is required"},
          {"fieldRef without path",
           Args({{{"name", "service"}, {"valueFrom", {{"fieldRef", Json::object()}}}},
                 {{"name", "count"}}}),
           "spec.args[0].valueFrom.fieldRef.fieldPath: is required"},
          {"dryRun without name",
           {{"spec", {{"dryRun", {Json::object()}}}}},
           "spec.dryRun[0].metricName: is required"},
          {"dryRun of an unknown metric",
           {{"spec", {{"dryRun", {{{"metricName", "latency"}}}}}}},
           "spec.dryRun[0].metricName: \"latency\" is not the name of a metric (or \"*\")"},
      });
}

TEST(ApiAnalysisTest, DryRunMayNameEveryMetric) {
  Json json = kTemplate;
  json["spec"]["dryRun"] = {{{"metricName", "*"}}, {{"metricName", "success"}}};
  EXPECT_TRUE(testing::DecodeAndValidate<AnalysisTemplate>(json).ok());
}

TEST(ApiAnalysisTest, ClusterTemplatesValidateTheSame) {
  Json json = kTemplate;
  json["kind"] = "ClusterAnalysisTemplate";
  json["metadata"] = {{"name", "shared"}};
  EXPECT_TRUE(testing::DecodeAndValidate<ClusterAnalysisTemplate>(json).ok());
  json["spec"]["metrics"][0]["interval"] = "0";
  Status s = testing::DecodeAndValidate<ClusterAnalysisTemplate>(json);
  EXPECT_THAT(s.message(), HasSubstr("ClusterAnalysisTemplate shared: spec.metrics[0].interval: "
                                     "must be a positive duration"));
}

TEST(ApiAnalysisTest, RunArgumentsNeedValues) {
  Json json = kTemplate;
  json["kind"] = "AnalysisRun";
  json["metadata"]["name"] = "web-abc-1";
  Status s = testing::DecodeAndValidate<AnalysisRun>(json);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("AnalysisRun default/web-abc-1: spec.args[0]: argument "
                                     "\"service\" has no value"));
  json["spec"]["args"][0]["value"] = "web";
  EXPECT_TRUE(testing::DecodeAndValidate<AnalysisRun>(json).ok());
}

TEST(ApiAnalysisTest, FindsArgumentReferences) {
  EXPECT_THAT(FindArgReferences("a {{args.x}} b {{ args.y-z }} {{args.x}} {{metrics.m}} {{args.}}"),
              ElementsAre("x", "y-z", "x"));
  EXPECT_TRUE(FindArgReferences("no refs {{ unterminated").empty());
}

TEST(ApiAnalysisTest, SubstitutesArguments) {
  Result<std::string> s = SubstituteArgs("up{svc=\"{{args.svc}}\", ns=\"{{ args.ns }}\"} {{x}}",
                                         {{"svc", "web"}, {"ns", "prod"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "up{svc=\"web\", ns=\"prod\"} {{x}}");
  EXPECT_EQ(*SubstituteArgs("plain", {}), "plain");
  Result<std::string> missing = SubstituteArgs("{{args.svc}}/{{args.port}}", {{"svc", "web"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("{{args.port}} has no value"));
}

TEST(ApiAnalysisTest, PhasesAndResults) {
  EXPECT_FALSE(IsTerminal(AnalysisPhase::kPending));
  EXPECT_FALSE(IsTerminal(AnalysisPhase::kRunning));
  EXPECT_TRUE(IsTerminal(AnalysisPhase::kSuccessful));
  EXPECT_TRUE(IsTerminal(AnalysisPhase::kFailed));
  EXPECT_TRUE(IsTerminal(AnalysisPhase::kError));
  EXPECT_TRUE(IsTerminal(AnalysisPhase::kInconclusive));
  EXPECT_EQ(ToString(AnalysisPhase::kInconclusive), "Inconclusive");
  EXPECT_EQ(ParseEnum<AnalysisPhase>("Failed"), AnalysisPhase::kFailed);
  EXPECT_EQ(ParseEnum<AnalysisPhase>("failed"), std::nullopt);

  AnalysisRunStatus status;
  status.metric_results.push_back(MetricResult{});
  status.metric_results.back().name = "a";
  status.metric_results.push_back(MetricResult{});
  status.metric_results.back().name = "b";
  ASSERT_NE(status.FindMetricResult("b"), nullptr);
  EXPECT_EQ(status.FindMetricResult("b")->name, "b");
  EXPECT_EQ(status.FindMetricResult("c"), nullptr);
}

}  // namespace
}  // namespace gantry::api
