// AnalysisRunReconciler's decisions, pass by pass, with scripted providers, a FakeKubeClient
// and a FakeClock.
#include "operator/reconcilers/analysis_run_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "operator/kube/fake_event_recorder.h"
#include "operator/kube/fake_kube_client.h"

namespace gantry::reconcilers {
namespace {

using api::AnalysisPhase;
using controller::ReconcileResult;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr AnalysisPhase S = AnalysisPhase::kSuccessful;
constexpr AnalysisPhase F = AnalysisPhase::kFailed;
constexpr AnalysisPhase I = AnalysisPhase::kInconclusive;
constexpr AnalysisPhase E = AnalysisPhase::kError;
constexpr AnalysisPhase R = AnalysisPhase::kRunning;

// Answers each Run/Resume with the next scripted phase (Successful when the script is empty).
class ScriptedProvider final : public analysis::MetricProvider {
 public:
  explicit ScriptedProvider(Clock& clock) : clock_(clock) {}
  std::string_view Type() const override { return "scripted"; }
  api::Measurement Run(const analysis::MeasurementRequest& request) override {
    ++runs;
    last_query =
        request.metric.provider.prometheus ? request.metric.provider.prometheus->query : "";
    api::Measurement m;
    m.started_at = clock_.Now();
    return Next(std::move(m));
  }
  api::Measurement Resume(const analysis::MeasurementRequest&, api::Measurement m) override {
    ++resumes;
    return Next(std::move(m));
  }
  api::Measurement Terminate(const analysis::MeasurementRequest&, api::Measurement m) override {
    ++terminates;
    m.phase = S;
    m.message = "Metric Terminated";
    m.finished_at = clock_.Now();
    m.resume_at.reset();
    return m;
  }
  std::deque<AnalysisPhase> script;
  int runs = 0, resumes = 0, terminates = 0;
  std::string last_query;

 private:
  api::Measurement Next(api::Measurement m) {
    m.phase = script.empty() ? S : script.front();
    if (!script.empty()) script.pop_front();
    if (m.phase == R) {
      m.resume_at = clock_.Now() + seconds(5);
    } else {
      m.finished_at = clock_.Now();
      m.value = "[1]";
      if (m.phase == E) m.message = "connection refused";
    }
    return m;
  }
  Clock& clock_;
};

class ScriptedFactory final : public analysis::MetricProviderFactory {
 public:
  analysis::MetricProvider* ProviderFor(const api::Metric& metric) override {
    auto it = providers.find(metric.name);
    return it == providers.end() ? nullptr : it->second.get();
  }
  std::map<std::string, std::unique_ptr<ScriptedProvider>> providers;
};

class RecordingMetrics final : public AnalysisRunMetrics {
 public:
  void RecordMetricPhase(const std::string&, const std::string&, const std::string& metric,
                         AnalysisPhase phase) override {
    phases[metric] = phase;
  }
  void CountMeasurement(std::string_view, AnalysisPhase) override { ++measurements; }
  void ForgetRun(const std::string&, const std::string&) override { phases.clear(); }
  std::map<std::string, AnalysisPhase> phases;
  int measurements = 0;
};

api::Metric MakeMetric(std::string name, std::string interval = "",
                       std::optional<int64_t> count = std::nullopt) {
  api::Metric m;
  m.name = std::move(name);
  m.interval = std::move(interval);
  if (count) m.count = api::IntOrString(*count);
  m.provider.prometheus = api::PrometheusMetric{};
  m.provider.prometheus->address = "http://prometheus:9090";
  m.provider.prometheus->query = "up";
  return m;
}

class AnalysisRunReconcilerTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
  kube::FakeEventRecorder events_;
  RecordingMetrics metrics_;
  ScriptedFactory factory_;
  api::AnalysisRun run_;
  const kube::ObjectKey key_{"team", "web-1-step-0"};

  void SetUp() override {
    run_.metadata.name = key_.name;
    run_.metadata.namespace_ = key_.ns;
  }
  ScriptedProvider& Provider(const std::string& metric, std::deque<AnalysisPhase> script = {}) {
    auto& p = factory_.providers[metric];
    if (!p) p = std::make_unique<ScriptedProvider>(clock_);
    p->script = std::move(script);
    return *p;
  }
  void Create() {
    Result<kube::Object> created = client_.Create(run_.ToJson());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  ReconcileResult Pass() {
    AnalysisRunReconciler reconciler(
        AnalysisRunReconcilerDeps{client_, factory_, clock_, &events_, &metrics_});
    return reconciler.Reconcile(key_);
  }
  api::AnalysisRun Read() {
    Result<kube::Object> got =
        client_.Get({{"gantry.io", "v1alpha1", "AnalysisRun"}, key_.ns, key_.name});
    EXPECT_TRUE(got.ok());
    Result<api::AnalysisRun> run = api::AnalysisRun::FromJson(*got);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return *run;
  }
  // Passes until the run is decided (at most `max`), advancing the clock by what each asks.
  api::AnalysisRun RunToEnd(int max = 50) {
    for (int i = 0; i < max; ++i) {
      ReconcileResult r = Pass();
      EXPECT_NE(r.kind(), ReconcileResult::Kind::kError) << r.status().ToString();
      if (r.kind() != ReconcileResult::Kind::kWaiting) break;
      clock_.Advance(*r.requeue_after());
    }
    return Read();
  }
};

TEST_F(AnalysisRunReconcilerTest, OneMeasurementWithoutIntervalDecidesTheRun) {
  run_.spec.metrics = {MakeMetric("rate")};
  Provider("rate", {S});
  Create();
  ReconcileResult r = Pass();
  EXPECT_EQ(r.kind(), ReconcileResult::Kind::kDone);
  api::AnalysisRun run = Read();
  EXPECT_EQ(run.status.phase, S);
  EXPECT_EQ(run.status.started_at, clock_.Now());
  ASSERT_EQ(run.status.metric_results.size(), 1u);
  const api::MetricResult& m = run.status.metric_results[0];
  EXPECT_EQ(m.phase, S);
  EXPECT_EQ(m.count, 1);
  EXPECT_EQ(m.successful, 1);
  ASSERT_EQ(m.measurements.size(), 1u);
  EXPECT_EQ(m.measurements[0].value, "[1]");
  EXPECT_TRUE(api::IsConditionTrue(run.status.conditions, api::kConditionReady));
  EXPECT_THAT(events_.Lines(), Contains("Normal AnalysisRunSuccessful: AnalysisRun is Successful"));
  EXPECT_EQ(metrics_.phases["rate"], S);
  EXPECT_EQ(metrics_.measurements, 1);
  // Decided: later passes do nothing.
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  EXPECT_EQ(factory_.providers["rate"]->runs, 1);
}

struct DecisionCase {
  std::string name;
  std::deque<AnalysisPhase> script;
  std::optional<int64_t> count;
  int64_t failure_limit = 0;
  int64_t inconclusive_limit = 0;
  int64_t consecutive_error_limit = 4;
  AnalysisPhase want_phase;
  int want_runs;
  std::string want_message;
};

class DecisionTest : public AnalysisRunReconcilerTest,
                     public ::testing::WithParamInterface<DecisionCase> {};

TEST_P(DecisionTest, Decides) {
  const DecisionCase& c = GetParam();
  api::Metric m = MakeMetric("rate", "1m", c.count);
  m.failure_limit = api::IntOrString(c.failure_limit);
  m.inconclusive_limit = api::IntOrString(c.inconclusive_limit);
  m.consecutive_error_limit = api::IntOrString(c.consecutive_error_limit);
  run_.spec.metrics = {m};
  ScriptedProvider& p = Provider("rate", c.script);
  Create();
  api::AnalysisRun run = RunToEnd();
  EXPECT_EQ(run.status.phase, c.want_phase) << run.status.message;
  EXPECT_EQ(p.runs, c.want_runs);
  EXPECT_THAT(run.status.message, HasSubstr(c.want_message));
}

INSTANTIATE_TEST_SUITE_P(
    Limits, DecisionTest,
    ::testing::Values(
        DecisionCase{"AllSucceed", {S, S, S}, 3, 0, 0, 4, S, 3, ""},
        DecisionCase{"OneFailureOverLimitZero",
                     {S, F, S},
                     3,
                     0,
                     0,
                     4,
                     F,
                     2,
                     "metric \"rate\": failed (1) > failureLimit (0)"},
        DecisionCase{"FailuresWithinLimit", {F, S, F}, 3, 2, 0, 4, S, 3, ""},
        DecisionCase{"FailuresOverLimit", {F, F, F, S}, 5, 2, 0, 4, F, 3, "failed (3)"},
        DecisionCase{
            "Inconclusive", {S, I}, 3, 0, 0, 4, I, 2, "inconclusive (1) > inconclusiveLimit (0)"},
        DecisionCase{"InconclusiveWithinLimit", {I, S}, 2, 0, 1, 4, S, 2, ""},
        DecisionCase{"ConsecutiveErrors",
                     {E, E, E, E, E},
                     3,
                     0,
                     0,
                     4,
                     E,
                     5,
                     "consecutiveError (5) > consecutiveErrorLimit (4): connection refused"},
        DecisionCase{"ErrorsResetBySuccess", {E, E, S, E, E, S, S}, 3, 0, 0, 2, S, 7, ""},
        DecisionCase{"ErrorsDoNotCount", {E, S, E, S}, 2, 0, 0, 4, S, 4, ""}),
    [](const ::testing::TestParamInfo<DecisionCase>& p) { return p.param.name; });

TEST_F(AnalysisRunReconcilerTest, InitialDelayAndIntervalSetTheSchedule) {
  api::Metric m = MakeMetric("rate", "1m", 2);
  m.initial_delay = "30s";
  run_.spec.metrics = {m};
  ScriptedProvider& p = Provider("rate");
  Create();
  ReconcileResult r = Pass();
  ASSERT_EQ(r.kind(), ReconcileResult::Kind::kWaiting);
  EXPECT_EQ(*r.requeue_after(), seconds(30));
  EXPECT_EQ(p.runs, 0);
  EXPECT_EQ(Read().status.phase, R);
  EXPECT_TRUE(api::IsConditionTrue(Read().status.conditions, api::kConditionReconciling));

  clock_.Advance(seconds(10));  // woken early (another event): nothing due yet
  r = Pass();
  EXPECT_EQ(*r.requeue_after(), seconds(20));
  EXPECT_EQ(p.runs, 0);

  clock_.Advance(seconds(20));
  r = Pass();
  EXPECT_EQ(p.runs, 1);
  EXPECT_EQ(*r.requeue_after(), minutes(1));
  clock_.Advance(seconds(59));
  r = Pass();
  EXPECT_EQ(p.runs, 1);
  EXPECT_EQ(*r.requeue_after(), seconds(1));
  clock_.Advance(seconds(1));
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  EXPECT_EQ(p.runs, 2);
  EXPECT_EQ(Read().status.phase, S);
}

TEST_F(AnalysisRunReconcilerTest, ErrorIsRetriedSoonerThanALongInterval) {
  run_.spec.metrics = {MakeMetric("rate", "5m", 2)};
  Provider("rate", {E});
  Create();
  ReconcileResult r = Pass();
  EXPECT_EQ(*r.requeue_after(), kAnalysisErrorRetryInterval);
}

TEST_F(AnalysisRunReconcilerTest, RestartedOperatorResumesFromStatus) {
  run_.spec.metrics = {MakeMetric("rate", "1m", 3)};
  run_.spec.metrics[0].failure_limit = api::IntOrString(int64_t{1});
  Provider("rate", {F, S, S});
  Create();
  Pass();
  clock_.Advance(minutes(1));
  // A new process: new reconciler, new providers; only status carries over.
  factory_.providers.clear();
  ScriptedProvider& fresh = Provider("rate", {S, S});
  Pass();
  api::AnalysisRun run = Read();
  EXPECT_EQ(fresh.runs, 1);
  EXPECT_EQ(run.status.metric_results[0].count, 2);
  EXPECT_EQ(run.status.metric_results[0].failed, 1);
}

TEST_F(AnalysisRunReconcilerTest, DryRunMetricIsRecordedButNeverFailsTheRun) {
  run_.spec.metrics = {MakeMetric("rate"), MakeMetric("latency")};
  run_.spec.dry_run = {api::DryRun{"latency"}};
  Provider("rate", {S});
  Provider("latency", {F});
  Create();
  api::AnalysisRun run = RunToEnd();
  EXPECT_EQ(run.status.phase, S);
  const api::MetricResult* latency = run.status.FindMetricResult("latency");
  ASSERT_NE(latency, nullptr);
  EXPECT_EQ(latency->phase, F);
  EXPECT_TRUE(latency->dry_run);
  EXPECT_THAT(run.status.message, HasSubstr("dry-run metrics did not pass: latency (Failed)"));
}

TEST_F(AnalysisRunReconcilerTest, TerminateStopsAnOpenEndedRun) {
  run_.spec.metrics = {MakeMetric("rate", "1m")};  // no count: until terminated
  ScriptedProvider& p = Provider("rate");
  Create();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Pass().kind(), ReconcileResult::Kind::kWaiting);
    clock_.Advance(minutes(1));
  }
  EXPECT_EQ(p.runs, 3);
  Result<kube::Object> live =
      client_.Patch({{"gantry.io", "v1alpha1", "AnalysisRun"}, key_.ns, key_.name},
                    kube::PatchType::kMerge, {{"spec", {{"terminate", true}}}});
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  api::AnalysisRun run = Read();
  EXPECT_EQ(run.status.phase, S);
  EXPECT_EQ(run.status.message, "Run Terminated");
  EXPECT_EQ(p.runs, 3);
}

TEST_F(AnalysisRunReconcilerTest, TerminatedBeforeAnyMeasurementIsSuccessful) {
  run_.spec.metrics = {MakeMetric("rate", "1m")};
  run_.spec.terminate = true;
  Provider("rate");
  Create();
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  EXPECT_EQ(Read().status.phase, S);
}

TEST_F(AnalysisRunReconcilerTest, AsyncMeasurementIsResumedAndFailingMetricStopsTheOthers) {
  run_.spec.metrics = {MakeMetric("job"), MakeMetric("rate", "1m", 5)};
  ScriptedProvider& job = Provider("job", {R, R, R, R});
  ScriptedProvider& rate = Provider("rate", {S, F});
  Create();
  ReconcileResult r = Pass();
  ASSERT_EQ(r.kind(), ReconcileResult::Kind::kWaiting);
  EXPECT_EQ(*r.requeue_after(), seconds(5));  // the job's resumeAt comes first
  api::AnalysisRun run = Read();
  EXPECT_EQ(run.status.FindMetricResult("job")->phase, R);
  EXPECT_EQ(run.status.FindMetricResult("job")->measurements.back().phase, R);
  clock_.Advance(seconds(5));
  Pass();
  EXPECT_EQ(job.resumes, 1);
  clock_.Advance(seconds(55));
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  run = Read();
  EXPECT_EQ(rate.runs, 2);
  EXPECT_EQ(run.status.phase, F);
  EXPECT_EQ(job.terminates, 1);
  EXPECT_EQ(run.status.FindMetricResult("job")->phase, S);
  EXPECT_EQ(run.status.FindMetricResult("job")->measurements.back().message, "Metric Terminated");
  EXPECT_FALSE(api::IsConditionTrue(run.status.conditions, api::kConditionReady));
  EXPECT_THAT(events_.Lines(), Contains(HasSubstr("Warning AnalysisRunFailed")));
  EXPECT_THAT(events_.Lines(), Contains(HasSubstr("Warning MetricFailed: Metric \"rate\"")));
}

TEST_F(AnalysisRunReconcilerTest, HistoryIsBoundedAndCountsKept) {
  run_.spec.metrics = {MakeMetric("rate", "1s", 15)};
  Provider("rate");
  Create();
  api::AnalysisRun run = RunToEnd();
  EXPECT_EQ(run.status.phase, S);
  const api::MetricResult& r = run.status.metric_results[0];
  EXPECT_EQ(r.count, 15);
  EXPECT_EQ(r.successful, 15);
  EXPECT_EQ(r.measurements.size(), kDefaultMaxMeasurements);
}

TEST_F(AnalysisRunReconcilerTest, ArgsAreResolvedAndAMissingSecretIsAnErrorNamingIt) {
  api::Argument service;
  service.name = "service";
  service.value = "web";
  api::Argument token;
  token.name = "token";
  token.value_from = api::ArgumentValueFrom{};
  token.value_from->secret_key_ref = api::SecretKeySelector{"prom-auth", "token"};
  run_.spec.args = {service, token};
  run_.spec.metrics = {MakeMetric("rate")};
  run_.spec.metrics[0].provider.prometheus->query = "up{service=\"{{args.service}}\"}";
  ScriptedProvider& p = Provider("rate");
  Create();
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  api::AnalysisRun run = Read();
  EXPECT_EQ(run.status.phase, E);
  EXPECT_THAT(run.status.message, HasSubstr("argument \"token\": Secret team/prom-auth"));
  EXPECT_EQ(p.runs, 0);
  EXPECT_THAT(events_.Lines(), Contains(HasSubstr("Warning AnalysisRunError")));
}

TEST_F(AnalysisRunReconcilerTest, ArgsAreSubstitutedBeforeTheProviderSeesTheMetric) {
  api::Argument service;
  service.name = "service";
  service.value = "web";
  run_.spec.args = {service};
  run_.spec.metrics = {MakeMetric("rate")};
  run_.spec.metrics[0].provider.prometheus->query = "up{service=\"{{args.service}}\"}";
  ScriptedProvider& p = Provider("rate");
  Create();
  Pass();
  EXPECT_EQ(p.last_query, "up{service=\"web\"}");
  EXPECT_EQ(Read().status.phase, S);
}

TEST_F(AnalysisRunReconcilerTest, BadConditionIsAnErrorMeasurementNamingMetricAndColumn) {
  run_.spec.metrics = {MakeMetric("success-rate", "10s", 3)};
  run_.spec.metrics[0].success_condition = "result[0] >= (0.95";
  run_.spec.metrics[0].consecutive_error_limit = api::IntOrString(int64_t{1});
  ScriptedProvider& p = Provider("success-rate");
  Create();
  api::AnalysisRun run = RunToEnd();
  EXPECT_EQ(run.status.phase, E);
  EXPECT_EQ(p.runs, 0);
  EXPECT_THAT(run.status.message,
              HasSubstr("metric \"success-rate\": consecutiveError (2) > consecutiveErrorLimit "
                        "(1): successCondition: at column "));
  EXPECT_EQ(run.status.metric_results[0].error, 2);
}

TEST_F(AnalysisRunReconcilerTest, InvalidSpecStalls) {
  run_.spec.metrics = {MakeMetric("rate", "soon")};
  Provider("rate");
  Create();
  ReconcileResult r = Pass();
  EXPECT_EQ(r.kind(), ReconcileResult::Kind::kStalled);
  api::AnalysisRun run = Read();
  EXPECT_EQ(run.status.phase, E);
  EXPECT_THAT(run.status.message, HasSubstr("spec.metrics[0].interval"));
  EXPECT_TRUE(api::IsConditionTrue(run.status.conditions, api::kConditionStalled));
}

TEST_F(AnalysisRunReconcilerTest, StatusWriteConflictIsRetried) {
  run_.spec.metrics = {MakeMetric("rate")};
  Provider("rate");
  Create();
  client_.InjectError(kube::FakeKubeClient::Verb::kUpdateStatus, "AnalysisRun", "",
                      Status(StatusCode::kConflict, "the object has been modified"));
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kError);
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  EXPECT_EQ(Read().status.phase, S);
}

TEST_F(AnalysisRunReconcilerTest, DeletedRunForgetsItsSeries) {
  metrics_.phases["rate"] = S;
  EXPECT_EQ(Pass().kind(), ReconcileResult::Kind::kDone);
  EXPECT_TRUE(metrics_.phases.empty());
}

TEST(AssessMetricTest, CountDefaultsToOneWithoutInterval) {
  MetricLimits limits;
  api::MetricResult r;
  EXPECT_EQ(AssessMetric(limits, r, false), AnalysisPhase::kPending);
  EXPECT_EQ(AssessMetric(limits, r, true), AnalysisPhase::kSuccessful);
  r.measurements.push_back(api::Measurement{});
  r.measurements.back().phase = S;
  r.count = 1;
  EXPECT_EQ(AssessMetric(limits, r, false), AnalysisPhase::kSuccessful);
  limits.interval = std::chrono::milliseconds(1000);
  EXPECT_EQ(AssessMetric(limits, r, false), AnalysisPhase::kRunning);
}

}  // namespace
}  // namespace gantry::reconcilers
