// The Prometheus, web and Job providers with a scripted HttpClient and a FakeKubeClient.
#include "operator/analysis/providers/providers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "operator/analysis/providers/http_client.h"
#include "operator/analysis/providers/job_provider.h"
#include "operator/analysis/providers/prometheus_provider.h"
#include "operator/analysis/providers/web_provider.h"
#include "operator/kube/fake_kube_client.h"

namespace gantry::analysis {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;

// Answers calls from a script, remembering them.
class ScriptedHttpClient final : public HttpClient {
 public:
  Result<HttpAnswer> Send(const HttpCall& call) override {
    calls.push_back(call);
    if (answers.empty()) return Unavailable("no scripted answer");
    Result<HttpAnswer> next = answers.front();
    answers.pop_front();
    return next;
  }
  void Answer(int status, std::string body) {
    answers.push_back(HttpAnswer{status, {}, std::move(body)});
  }
  std::deque<Result<HttpAnswer>> answers;
  std::vector<HttpCall> calls;
};

constexpr std::string_view kVector =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.97"]}]}})";
constexpr std::string_view kEmptyVector =
    R"({"status":"success","data":{"resultType":"vector","result":[]}})";
constexpr std::string_view kNaN =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"NaN"]}]}})";

class ProviderTest : public ::testing::Test {
 protected:
  api::AnalysisRun run_;
  api::Metric metric_;
  MetricConditions conditions_;
  FakeClock clock_;
  ScriptedHttpClient http_;

  void SetUp() override {
    run_.metadata.name = "web-5f7c9-3-step-2";
    run_.metadata.namespace_ = "team";
    run_.metadata.uid = "run-uid";
    metric_.name = "success-rate";
  }
  void Conditions(std::string_view success, std::string_view failure = "") {
    Result<MetricConditions> c = ParseMetricConditions(success, failure);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    conditions_ = std::move(c).value();
  }
  MeasurementRequest Request() { return MeasurementRequest{run_, metric_, conditions_}; }
};

TEST_F(ProviderTest, PrometheusQueryAndDecision) {
  metric_.provider.prometheus = api::PrometheusMetric{};
  metric_.provider.prometheus->address = "http://prom:9090/";
  metric_.provider.prometheus->query = "sum(rate(x[1m])) / 2";
  metric_.provider.prometheus->headers = {{"Authorization", "Bearer t"}};
  Conditions("result[0] >= 0.95");
  auto provider = NewPrometheusProvider(http_, clock_);
  EXPECT_EQ(provider->Type(), "prometheus");
  http_.Answer(200, std::string(kVector));
  api::Measurement m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  EXPECT_EQ(m.value, "[0.97]");
  EXPECT_EQ(m.started_at, clock_.Now());
  EXPECT_EQ(m.finished_at, clock_.Now());
  ASSERT_EQ(http_.calls.size(), 1u);
  const HttpCall& call = http_.calls[0];
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "http://prom:9090/api/v1/query");
  EXPECT_EQ(call.body, "query=sum%28rate%28x%5B1m%5D%29%29%20%2F%202");
  EXPECT_EQ(call.timeout, std::chrono::seconds(30));
  EXPECT_THAT(call.headers, Contains(Pair("Authorization", "Bearer t")));

  Conditions("result[0] >= 0.99");
  http_.Answer(200, std::string(kVector));
  EXPECT_EQ(provider->Run(Request()).phase, api::AnalysisPhase::kFailed);
}

TEST_F(ProviderTest, PrometheusFallsBackToGetAndHonoursTimeout) {
  metric_.provider.prometheus = api::PrometheusMetric{};
  metric_.provider.prometheus->address = "http://prom:9090";
  metric_.provider.prometheus->query = "up";
  metric_.provider.prometheus->timeout = api::IntOrString("1m30s");
  auto provider = NewPrometheusProvider(http_, clock_);
  http_.Answer(405, "method not allowed");
  http_.Answer(200, std::string(kVector));
  api::Measurement m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  ASSERT_EQ(http_.calls.size(), 2u);
  EXPECT_EQ(http_.calls[1].method, "GET");
  EXPECT_EQ(http_.calls[1].url, "http://prom:9090/api/v1/query?query=up");
  EXPECT_EQ(http_.calls[1].timeout, std::chrono::seconds(90));

  metric_.provider.prometheus->timeout = api::IntOrString(int64_t{5});
  http_.Answer(200, std::string(kVector));
  provider->Run(Request());
  EXPECT_EQ(http_.calls.back().timeout, std::chrono::seconds(5));
}

TEST_F(ProviderTest, PrometheusEmptyNaNAndErrors) {
  metric_.provider.prometheus = api::PrometheusMetric{};
  metric_.provider.prometheus->address = "http://prom:9090";
  metric_.provider.prometheus->query = "x";
  auto provider = NewPrometheusProvider(http_, clock_);

  // An empty vector is the empty list; indexing it is an Error naming the condition.
  Conditions("result[0] >= 0.95");
  http_.Answer(200, std::string(kEmptyVector));
  api::Measurement m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("successCondition"));
  Conditions("len(result) == 0 || result[0] < 5");
  http_.Answer(200, std::string(kEmptyVector));
  EXPECT_EQ(provider->Run(Request()).phase, api::AnalysisPhase::kSuccessful);

  // NaN compares false: a plain threshold fails, isNaN can accept it.
  Conditions("result[0] >= 0.95");
  http_.Answer(200, std::string(kNaN));
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kFailed);
  EXPECT_EQ(m.value, "[NaN]");
  Conditions("isNaN(result[0]) || result[0] >= 0.95");
  http_.Answer(200, std::string(kNaN));
  EXPECT_EQ(provider->Run(Request()).phase, api::AnalysisPhase::kSuccessful);

  http_.Answer(400, R"({"status":"error","errorType":"bad_data","error":"parse error at char 3"})");
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("HTTP 400"));
  EXPECT_THAT(m.message, HasSubstr("parse error at char 3"));

  http_.answers.push_back(Unavailable("POST http://prom:9090/api/v1/query: connection refused"));
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("connection refused"));

  metric_.provider.prometheus->timeout = api::IntOrString("soon");
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("provider.prometheus.timeout"));
}

TEST_F(ProviderTest, WebRequestJsonPathAndDecision) {
  metric_.provider.web = api::WebMetric{};
  metric_.provider.web->url = "https://status.example/api?x=1";
  metric_.provider.web->method = "POST";
  metric_.provider.web->body = R"({"q":1})";
  metric_.provider.web->headers = {{"X-Token", "abc"}};
  metric_.provider.web->json_path = "{$.data.ok}";
  metric_.provider.web->timeout_seconds = 3;
  Conditions("result == true");
  auto provider = NewWebProvider(http_, clock_);
  EXPECT_EQ(provider->Type(), "web");
  http_.Answer(200, R"({"data":{"ok":true}})");
  api::Measurement m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  EXPECT_EQ(m.value, "true");
  const HttpCall& call = http_.calls[0];
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://status.example/api?x=1");
  EXPECT_EQ(call.body, R"({"q":1})");
  EXPECT_EQ(call.timeout, std::chrono::seconds(3));
  EXPECT_THAT(call.headers, Contains(Pair("X-Token", "abc")));
  EXPECT_THAT(call.headers, Contains(Pair("Content-Type", "application/json")));

  http_.Answer(200, R"({"data":{"ok":false}})");
  EXPECT_EQ(provider->Run(Request()).phase, api::AnalysisPhase::kFailed);
}

TEST_F(ProviderTest, WebErrorsSayWhatCameBack) {
  metric_.provider.web = api::WebMetric{};
  metric_.provider.web->url = "http://svc/health";
  metric_.provider.web->json_path = "$.status";
  Conditions("result == \"ok\"");
  auto provider = NewWebProvider(http_, clock_);

  http_.Answer(503, "upstream\nunavailable " + std::string(1000, 'x'));
  api::Measurement m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("GET http://svc/health: HTTP 503: \"upstream\\nunavailable"));
  EXPECT_LT(m.message.size(), 400u);

  http_.Answer(200, "<html>hi</html>");
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("the answer is not JSON"));

  http_.Answer(200, R"({"state":"ok"})");
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("jsonPath \"$.status\""));

  http_.Answer(200, std::string(300, '[') + std::string(300, ']'));
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("nests deeper than"));

  metric_.provider.web->method = "DELETE";
  m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("provider.web.method \"DELETE\""));
}

// The Prometheus and web providers share one measurement flow (HttpMetricProvider): what each
// adds to a transport error, and how Resume and Terminate treat a measurement.
TEST_F(ProviderTest, HttpProvidersShareTheMeasurementFlow) {
  metric_.provider.prometheus = api::PrometheusMetric{};
  metric_.provider.prometheus->address = "http://prom:9090";
  metric_.provider.prometheus->query = "up";
  Conditions("result[0] == 1");
  auto prometheus = NewPrometheusProvider(http_, clock_);

  http_.answers.push_back(Unavailable("POST http://prom:9090/api/v1/query: connection refused"));
  api::Measurement m = prometheus->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_EQ(m.message,
            "querying Prometheus: POST http://prom:9090/api/v1/query: connection refused");
  EXPECT_EQ(m.started_at, clock_.Now());
  EXPECT_EQ(m.finished_at, clock_.Now());

  // The GET fallback's failure is reported the same way, naming what was sent last.
  http_.Answer(405, "");
  http_.answers.push_back(Unavailable("GET http://prom:9090/api/v1/query?query=up: reset"));
  m = prometheus->Run(Request());
  EXPECT_EQ(m.message, "querying Prometheus: GET http://prom:9090/api/v1/query?query=up: reset");
  ASSERT_GE(http_.calls.size(), 2u);
  EXPECT_THAT(http_.calls.back().headers, Not(Contains(Pair("Content-Type", ::testing::_))));

  // A body that is not a Prometheus answer: quoted with the status only when that is not 2xx.
  http_.Answer(502, "bad gateway");
  m = prometheus->Run(Request());
  EXPECT_THAT(m.message, ::testing::StartsWith("HTTP 502 from http://prom:9090/api/v1/query: "));
  http_.Answer(200, "bad gateway");
  m = prometheus->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, Not(HasSubstr("HTTP 200")));

  // Resume measures again; Terminate releases nothing and counts as Successful.
  api::Measurement running;
  running.phase = api::AnalysisPhase::kRunning;
  running.started_at = clock_.Now();
  running.resume_at = clock_.Now();
  const size_t calls = http_.calls.size();
  clock_.Advance(std::chrono::seconds(3));
  http_.Answer(200, std::string(kVector));  // 0.97, not 1
  m = prometheus->Resume(Request(), running);
  EXPECT_EQ(http_.calls.size(), calls + 1);
  EXPECT_EQ(m.phase, api::AnalysisPhase::kFailed) << m.message;
  EXPECT_EQ(m.started_at, clock_.Now());
  EXPECT_FALSE(m.resume_at.has_value());
  m = prometheus->Terminate(Request(), running);
  EXPECT_EQ(http_.calls.size(), calls + 1);
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful);
  EXPECT_EQ(m.message, "Metric Terminated");
  EXPECT_EQ(m.finished_at, clock_.Now());
  EXPECT_FALSE(m.resume_at.has_value());

  // The web provider passes the client's error on as it is.
  metric_.provider.prometheus.reset();
  metric_.provider.web = api::WebMetric{};
  metric_.provider.web->url = "http://svc/health";
  auto web = NewWebProvider(http_, clock_);
  http_.answers.push_back(Unavailable("GET http://svc/health: connection refused"));
  m = web->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_EQ(m.message, "GET http://svc/health: connection refused");
  m = web->Terminate(Request(), running);
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful);
  EXPECT_EQ(m.message, "Metric Terminated");
  http_.Answer(200, R"({"ok":true})");
  Conditions("result.ok");
  m = web->Resume(Request(), running);
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  EXPECT_EQ(m.started_at, clock_.Now());
}

TEST(SplitUrlTest, OriginAndTarget) {
  EXPECT_EQ(SplitUrl("http://a:1/b?c=d#e").value(),
            std::make_pair(std::string("http://a:1"), std::string("/b?c=d")));
  EXPECT_EQ(SplitUrl("https://a").value(),
            std::make_pair(std::string("https://a"), std::string("/")));
  EXPECT_EQ(SplitUrl("http://a?x=1").value(),
            std::make_pair(std::string("http://a"), std::string("/?x=1")));
  EXPECT_FALSE(SplitUrl("ftp://a/b").ok());
  EXPECT_FALSE(SplitUrl("a/b").ok());
  EXPECT_FALSE(SplitUrl("http:///b").ok());
  EXPECT_FALSE(SplitUrl("http://user:pw@a/b").ok());
}

TEST(JobNameTest, ShortAndLong) {
  EXPECT_EQ(JobName("web-run", "Smoke_Test", 2), "web-run-smoke-test-2");
  std::string long_name = JobName(std::string(60, 'r'), "metric", 1);
  EXPECT_EQ(long_name.size(), 63u);
  EXPECT_NE(long_name, JobName(std::string(60, 'r'), "metric", 2));
}

class JobProviderTest : public ProviderTest {
 protected:
  kube::FakeKubeClient client_{clock_};
  const kube::GroupVersionKind job_gvk_{"batch", "v1", "Job"};

  void SetUp() override {
    ProviderTest::SetUp();
    metric_.name = "smoke";
    metric_.provider.job = api::JobMetric{};
    metric_.provider.job->metadata = {{"labels", {{"team", "a"}}}};
    metric_.provider.job->spec = nlohmann::json::parse(
        R"({"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never",
            "containers":[{"name":"t","image":"busybox"}]}}})");
  }
  void SetJobCondition(const std::string& name, const std::string& type,
                       const std::string& message = "") {
    Result<kube::Object> job = client_.Get({job_gvk_, "team", name});
    ASSERT_TRUE(job.ok()) << job.status().ToString();
    (*job)["status"] = {
        {"conditions", {{{"type", type}, {"status", "True"}, {"message", message}}}}};
    ASSERT_TRUE(client_.UpdateStatus(*job).ok());
  }
};

TEST_F(JobProviderTest, CreatesOwnedJobAndFollowsIt) {
  auto provider = NewJobProvider(client_, clock_);
  EXPECT_EQ(provider->Type(), "job");
  api::Measurement m = provider->Run(Request());
  ASSERT_EQ(m.phase, api::AnalysisPhase::kRunning) << m.message;
  EXPECT_EQ(m.metadata.at("job-name"), "web-5f7c9-3-step-2-smoke-1");
  EXPECT_EQ(m.resume_at, clock_.Now() + kJobPollInterval);

  Result<kube::Object> job = client_.Get({job_gvk_, "team", "web-5f7c9-3-step-2-smoke-1"});
  ASSERT_TRUE(job.ok());
  EXPECT_EQ((*job)["spec"]["template"]["spec"]["containers"][0]["image"], "busybox");
  EXPECT_EQ((*job)["metadata"]["labels"]["team"], "a");
  EXPECT_EQ((*job)["metadata"]["labels"]["gantry.io/analysis-run"], "web-5f7c9-3-step-2");
  const auto& owner = (*job)["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "AnalysisRun");
  EXPECT_EQ(owner["uid"], "run-uid");
  EXPECT_EQ(owner["controller"], true);

  // Not finished yet: still Running.
  clock_.Advance(std::chrono::seconds(5));
  m = provider->Resume(Request(), m);
  EXPECT_EQ(m.phase, api::AnalysisPhase::kRunning);

  SetJobCondition("web-5f7c9-3-step-2-smoke-1", "Complete");
  m = provider->Resume(Request(), m);
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  EXPECT_EQ(m.finished_at, clock_.Now());
}

TEST_F(JobProviderTest, FailedJobAndAdoptionAndNumbering) {
  auto provider = NewJobProvider(client_, clock_);
  api::MetricResult result;
  result.name = "smoke";
  result.count = 2;
  result.error = 1;
  run_.status.metric_results.push_back(result);
  api::Measurement m = provider->Run(Request());
  ASSERT_EQ(m.metadata.at("job-name"), "web-5f7c9-3-step-2-smoke-4");
  // A repeated Run (status write lost) adopts the Job instead of failing.
  api::Measurement again = provider->Run(Request());
  EXPECT_EQ(again.phase, api::AnalysisPhase::kRunning) << again.message;

  SetJobCondition("web-5f7c9-3-step-2-smoke-4", "Failed", "BackoffLimitExceeded");
  m = provider->Resume(Request(), m);
  EXPECT_EQ(m.phase, api::AnalysisPhase::kFailed);
  EXPECT_THAT(m.message, HasSubstr("BackoffLimitExceeded"));
}

TEST_F(JobProviderTest, TerminateDeletesAndVanishedJobIsAnError) {
  auto provider = NewJobProvider(client_, clock_);
  api::Measurement m = provider->Run(Request());
  api::Measurement stopped = provider->Terminate(Request(), m);
  EXPECT_EQ(stopped.phase, api::AnalysisPhase::kSuccessful);
  EXPECT_EQ(stopped.message, "Metric Terminated");
  EXPECT_EQ(client_.Get({job_gvk_, "team", m.metadata.at("job-name")}).status().code(),
            StatusCode::kNotFound);
  bool background = false;
  for (const auto& action : client_.Actions()) {
    if (action.verb == kube::FakeKubeClient::Verb::kDelete) background = true;
  }
  EXPECT_TRUE(background);
  // Terminating again (the status write was lost) is fine.
  EXPECT_EQ(provider->Terminate(Request(), m).phase, api::AnalysisPhase::kSuccessful);

  api::Measurement gone = provider->Resume(Request(), m);
  EXPECT_EQ(gone.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(gone.message, HasSubstr("was deleted before it finished"));
}

TEST_F(JobProviderTest, CreateFailureIsAnErrorMeasurement) {
  client_.InjectError(kube::FakeKubeClient::Verb::kCreate, "Job", "",
                      Status(StatusCode::kForbidden, "jobs.batch is forbidden"));
  auto provider = NewJobProvider(client_, clock_);
  api::Measurement m = provider->Run(Request());
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("jobs.batch is forbidden"));
}

TEST_F(ProviderTest, FactoryPicksByProvider) {
  kube::FakeKubeClient client(clock_);
  auto factory = NewMetricProviderFactory(http_, client, clock_);
  api::Metric m;
  EXPECT_EQ(factory->ProviderFor(m), nullptr);
  m.provider.web = api::WebMetric{};
  EXPECT_EQ(factory->ProviderFor(m)->Type(), "web");
  m.provider.web.reset();
  m.provider.job = api::JobMetric{};
  EXPECT_EQ(factory->ProviderFor(m)->Type(), "job");
  m.provider.job.reset();
  m.provider.prometheus = api::PrometheusMetric{};
  EXPECT_EQ(factory->ProviderFor(m)->Type(), "prometheus");
}

}  // namespace
}  // namespace gantry::analysis
