// The Prometheus and web providers over real HTTP: Debian's `prometheus` scraping a target this
// test serves, and a local web endpoint, everything on 127.0.0.1.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "operator/analysis/providers/http_client.h"
#include "operator/analysis/providers/prometheus_provider.h"
#include "operator/analysis/providers/web_provider.h"
#include "tests/integration/analysisrun/test_http_server.h"

namespace gantry::analysis {
namespace {

using ::testing::HasSubstr;
using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;
namespace fs = std::filesystem;

constexpr std::string_view kMetrics =
    "# TYPE requests_total counter\n"
    "requests_total{code=\"200\"} 97\n"
    "requests_total{code=\"500\"} 3\n";

int FreePort() {
  TestHttpServer probe([](const TestRequest&) { return TestResponse{}; });
  return probe.port();
}

class ProvidersIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    target_ = new TestHttpServer([](const TestRequest&) {
      return TestResponse{200, "text/plain; version=0.0.4", std::string(kMetrics)};
    });
    ASSERT_TRUE(target_->ok());
    char pattern[] = "/tmp/gantry-analysisrun-prom-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = new fs::path(pattern);
    std::ofstream(*dir_ / "prometheus.yml") << fmt::format(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: target\n    static_configs:\n"
        "      - targets: ['127.0.0.1:{}']\n",
        target_->port());
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
      port_ = FreePort();
      std::vector<std::string> args = {"prometheus",
                                       "--config.file=" + (*dir_ / "prometheus.yml").string(),
                                       "--storage.tsdb.path=" + (*dir_ / "data").string(),
                                       fmt::format("--web.listen-address=127.0.0.1:{}", port_)};
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      const int log_fd = ::open((*dir_ / "prometheus.log").c_str(),
                                O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      ASSERT_GE(log_fd, 0);
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::execvp("prometheus", argv.data());
        ::_exit(127);
      }
      ::close(log_fd);
      auto http = NewBeastHttpClient();
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (std::chrono::steady_clock::now() < deadline) {
        if (::waitpid(pid, nullptr, WNOHANG) == pid) break;
        HttpCall call;
        call.url = fmt::format("http://127.0.0.1:{}/-/ready", port_);
        call.timeout = std::chrono::seconds(2);
        Result<HttpAnswer> ready = http->Send(call);
        if (ready.ok() && ready->status == 200) {
          pid_ = pid;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      if (pid_ <= 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    if (pid_ <= 0) {
      std::stringstream log;
      log << std::ifstream(*dir_ / "prometheus.log").rdbuf();
      FAIL() << "prometheus did not come up (hack/install-deps installs it); its log:\n"
             << log.str();
    }
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
    delete target_;
    target_ = nullptr;
    if (dir_ != nullptr) {
      std::error_code ignored;
      fs::remove_all(*dir_, ignored);
      delete dir_;
      dir_ = nullptr;
    }
  }

  void SetUp() override {
    if (pid_ <= 0) GTEST_FAIL() << "prometheus is not running";
    run_.metadata.name = "run";
    run_.metadata.namespace_ = "default";
  }

  api::Measurement Prometheus(const std::string& query, const std::string& success,
                              const std::string& failure = "") {
    api::Metric metric;
    metric.name = "rate";
    metric.provider.prometheus = api::PrometheusMetric{};
    metric.provider.prometheus->address = fmt::format("http://127.0.0.1:{}", port_);
    metric.provider.prometheus->query = query;
    metric.provider.prometheus->timeout = api::IntOrString(int64_t{10});
    Result<MetricConditions> conditions = ParseMetricConditions(success, failure);
    EXPECT_TRUE(conditions.ok());
    auto provider = NewPrometheusProvider(*http_, RealClock());
    return provider->Run(MeasurementRequest{run_, metric, *conditions});
  }

  // Waits until Prometheus has the target's series.
  void WaitForScrape() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Prometheus("up{job=\"target\"}", "result[0] == 1").phase ==
          api::AnalysisPhase::kSuccessful) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    FAIL() << "prometheus did not scrape the target within 60s";
  }

  static TestHttpServer* target_;
  static fs::path* dir_;
  static int port_;
  static pid_t pid_;
  std::unique_ptr<HttpClient> http_ = NewBeastHttpClient();
  api::AnalysisRun run_;
};

TestHttpServer* ProvidersIntegrationTest::target_ = nullptr;
fs::path* ProvidersIntegrationTest::dir_ = nullptr;
int ProvidersIntegrationTest::port_ = 0;
pid_t ProvidersIntegrationTest::pid_ = 0;

constexpr char kSuccessRate[] = "sum(requests_total{code=\"200\"}) / sum(requests_total)";

TEST_F(ProvidersIntegrationTest, PrometheusSuccessFailureEmptyAndBadQuery) {
  WaitForScrape();
  api::Measurement m = Prometheus(kSuccessRate, "result[0] >= 0.95");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  EXPECT_EQ(m.value, "[0.97]");
  m = Prometheus(kSuccessRate, "result[0] >= 0.99");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kFailed) << m.message;
  // An empty vector and NaN (0/0) reach the conditions as Argo users expect.
  m = Prometheus("requests_total{code=\"404\"}", "len(result) == 0");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  m = Prometheus("sum(requests_total{code=\"200\"}) * 0 / 0", "isNaN(result[0])");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  EXPECT_EQ(m.value, "[NaN]");
  m = Prometheus("sum(", "result[0] > 0");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("HTTP 400"));
  EXPECT_THAT(m.message, HasSubstr("bad_data"));
}

// With both conditions, a result that meets neither is Inconclusive; failureCondition wins
// over successCondition when both hold, as in Argo Rollouts.
TEST_F(ProvidersIntegrationTest, PrometheusInconclusiveAndBothConditions) {
  WaitForScrape();
  api::Measurement m = Prometheus(kSuccessRate, "result[0] >= 0.99", "result[0] < 0.9");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kInconclusive) << m.message;
  EXPECT_EQ(m.value, "[0.97]");
  m = Prometheus(kSuccessRate, "result[0] >= 0.95", "result[0] < 0.98");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kFailed) << m.message;
  m = Prometheus(kSuccessRate, "", "result[0] < 0.9");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  // A scalar query is a number, not a list.
  m = Prometheus("scalar(sum(requests_total))", "result == 100");
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message << " " << m.value;
}

TEST_F(ProvidersIntegrationTest, PrometheusUnreachableIsAnError) {
  api::Metric metric;
  metric.name = "rate";
  metric.provider.prometheus = api::PrometheusMetric{};
  metric.provider.prometheus->address = fmt::format("http://127.0.0.1:{}", FreePort());
  metric.provider.prometheus->query = "up";
  Result<MetricConditions> conditions = ParseMetricConditions("true", "");
  ASSERT_TRUE(conditions.ok());
  auto provider = NewPrometheusProvider(*http_, RealClock());
  api::Measurement m = provider->Run(MeasurementRequest{run_, metric, *conditions});
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("querying Prometheus"));
}

TEST_F(ProvidersIntegrationTest, WebGetPostHeadersAndErrors) {
  TestHttpServer web([](const TestRequest& r) {
    if (r.target == "/health")
      return TestResponse{200, "application/json", R"({"data":{"ok":true,"rate":0.99}})"};
    if (r.target == "/echo" && r.method == "POST") {
      nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
      auto auth = r.headers.find("authorization");
      return TestResponse{
          200, "application/json",
          nlohmann::json{{"got", body}, {"auth", auth == r.headers.end() ? "" : auth->second}}
              .dump()};
    }
    return TestResponse{500, "text/plain", "internal trouble"};
  });
  ASSERT_TRUE(web.ok());
  auto provider = NewWebProvider(*http_, RealClock());
  api::Metric metric;
  metric.name = "health";
  metric.provider.web = api::WebMetric{};
  metric.provider.web->url = web.url() + "/health";
  metric.provider.web->json_path = "{$.data.rate}";
  Result<MetricConditions> conditions = ParseMetricConditions("result > 0.95", "");
  ASSERT_TRUE(conditions.ok());
  api::Measurement m = provider->Run(MeasurementRequest{run_, metric, *conditions});
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message;
  EXPECT_EQ(m.value, "0.99");

  metric.provider.web->url = web.url() + "/echo";
  metric.provider.web->method = "POST";
  metric.provider.web->body = R"({"service":"web"})";
  metric.provider.web->headers = {{"Authorization", "Bearer abc"}};
  metric.provider.web->json_path = "";
  conditions =
      ParseMetricConditions("result.got.service == \"web\" && result.auth == \"Bearer abc\"", "");
  ASSERT_TRUE(conditions.ok());
  m = provider->Run(MeasurementRequest{run_, metric, *conditions});
  EXPECT_EQ(m.phase, api::AnalysisPhase::kSuccessful) << m.message << " " << m.value;

  metric.provider.web->url = web.url() + "/broken";
  metric.provider.web->method = "GET";
  metric.provider.web->body.clear();
  m = provider->Run(MeasurementRequest{run_, metric, *conditions});
  EXPECT_EQ(m.phase, api::AnalysisPhase::kError);
  EXPECT_THAT(m.message, HasSubstr("HTTP 500: \"internal trouble\""));
}

}  // namespace
}  // namespace gantry::analysis
