// ParsePrometheusResponse and the condition language against a real Prometheus (Debian's
// `prometheus`), scraping a target this test serves, all on 127.0.0.1. Proves that what the
// parser expects is what Prometheus actually sends, for every result type and for errors.
#include "operator/analysis/prometheus_response.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/analysis/measurement.h"

namespace gantry::analysis {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// What the scraped target exposes: 97 of 100 requests succeeded.
constexpr std::string_view kMetrics =
    "# TYPE requests_total counter\n"
    "requests_total{code=\"200\"} 97\n"
    "requests_total{code=\"500\"} 3\n";

int ListenOnLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

// A port that was free a moment ago, for Prometheus, which cannot report a port 0 choice.
uint16_t FreePort() {
  const int fd = ListenOnLoopback(0);
  const uint16_t port = fd < 0 ? 0 : PortOf(fd);
  if (fd >= 0) ::close(fd);
  return port;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Serves kMetrics to every request until destroyed.
class MetricsTarget {
 public:
  MetricsTarget() : fd_(ListenOnLoopback(0)) {
    if (fd_ >= 0) thread_ = std::thread([this] { Serve(); });
  }
  ~MetricsTarget() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  MetricsTarget(const MetricsTarget&) = delete;
  MetricsTarget& operator=(const MetricsTarget&) = delete;

  bool ok() const { return fd_ >= 0; }
  uint16_t port() const { return PortOf(fd_); }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      char buffer[8192];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
        const ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      SendAll(client, fmt::format("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                                  "Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                                  kMetrics.size(), kMetrics));
      ::close(client);
    }
  }

  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The body of GET http://127.0.0.1:port<target>, or nullopt when the server cannot be reached.
// HTTP/1.0, so that the answer is neither chunked nor kept alive.
std::optional<std::string> HttpGet(uint16_t port, const std::string& target) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      !SendAll(fd, fmt::format("GET {} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", target, port))) {
    ::close(fd);
    return std::nullopt;
  }
  std::string response;
  char buffer[8192];
  ssize_t n = 0;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    response.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (body == std::string::npos) return std::nullopt;
  return response.substr(body + 4);
}

class PrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    target_ = new MetricsTarget();
    ASSERT_TRUE(target_->ok()) << "cannot listen on 127.0.0.1";
    char pattern[] = "/tmp/gantry-prometheus-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = new fs::path(pattern);
    const fs::path config = *directory_ / "prometheus.yml";
    std::ofstream(config) << fmt::format(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: target\n    static_configs:\n"
        "      - targets: ['127.0.0.1:{}']\n",
        target_->port());

    // Prometheus cannot listen on port 0 and say which port it got, so pick a free one and
    // retry with another if something took it in between.
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
      port_ = FreePort();
      ASSERT_NE(port_, 0);
      const std::string log = (*directory_ / "prometheus.log").string();
      std::vector<std::string> args = {
          "prometheus",
          "--config.file=" + config.string(),
          "--storage.tsdb.path=" + (*directory_ / "data").string(),
          fmt::format("--web.listen-address=127.0.0.1:{}", port_),
      };
      // Everything the child needs is prepared before fork: the target thread is running, so
      // the child may only make async-signal-safe calls until exec.
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      ASSERT_GE(log_fd, 0) << std::strerror(errno);
      static constexpr char kExecFailed[] = "cannot exec prometheus\n";
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        ::execvp("prometheus", argv.data());
        [[maybe_unused]] const ssize_t ignored =
            ::write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
        ::_exit(127);
      }
      ::close(log_fd);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      bool exited = false;
      while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;
          break;
        }
        if (HttpGet(port_, "/-/ready") == "Prometheus Server is Ready.\n") {
          pid_ = pid;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
      if (pid_ <= 0 && !exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    if (pid_ <= 0) {
      std::ifstream log(*directory_ / "prometheus.log");
      std::stringstream text;
      text << log.rdbuf();
      FAIL() << "prometheus did not come up (is it installed? hack/install-deps); its log:\n"
             << text.str();
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
    if (directory_ != nullptr) {
      std::error_code ignored;
      fs::remove_all(*directory_, ignored);
      delete directory_;
      directory_ = nullptr;
    }
  }

  void SetUp() override {
    if (pid_ <= 0) GTEST_FAIL() << "prometheus is not running";
  }

  // Waits until Prometheus has scraped the target once, so that its series exist. Prometheus
  // applies discovered targets only every 5 s, so only the tests that need the data wait.
  static void WaitForScrape() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<Value> up = Query("up{job=\"target\"}");
      if (up.ok() && *up == Value::array({1.0})) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    FAIL() << "prometheus did not scrape the target within 60s";
  }

  // The parsed answer to an instant query.
  static Result<Value> Query(std::string_view promql) {
    std::optional<std::string> body = HttpGet(port_, "/api/v1/query?query=" + UrlEncode(promql));
    if (!body) return Unavailable("cannot reach prometheus");
    return ParsePrometheusResponse(*body);
  }

  static std::string Decide(std::string_view success, std::string_view failure,
                            const Value& result) {
    Result<MetricConditions> conditions = ParseMetricConditions(success, failure);
    if (!conditions.ok()) return conditions.status().ToString();
    const MeasurementDecision decision = DecideMeasurement(*conditions, result);
    return std::string(MeasurementPhaseName(decision.phase)) +
           (decision.message.empty() ? "" : ": " + decision.message);
  }

  static MetricsTarget* target_;
  static fs::path* directory_;
  static pid_t pid_;
  static uint16_t port_;
};

MetricsTarget* PrometheusTest::target_ = nullptr;
fs::path* PrometheusTest::directory_ = nullptr;
pid_t PrometheusTest::pid_ = 0;
uint16_t PrometheusTest::port_ = 0;

TEST_F(PrometheusTest, SuccessRateIsAOneElementVector) {
  ASSERT_NO_FATAL_FAILURE(WaitForScrape());
  Result<Value> rate =
      Query("sum(requests_total{code!~\"5..\"}) / sum(requests_total{job=\"target\"})");
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  EXPECT_EQ(*rate, Value::array({0.97}));
  EXPECT_EQ(Decide("result[0] >= 0.95", "", *rate), "Successful");
  EXPECT_EQ(Decide("result[0] >= 0.99", "result[0] < 0.9", *rate), "Inconclusive");
  EXPECT_EQ(Decide("", "result[0] < 0.99", *rate), "Failed");
  EXPECT_EQ(FormatValue(*rate), "[0.97]");
}

TEST_F(PrometheusTest, SeveralSeriesKeepPrometheusOrder) {
  ASSERT_NO_FATAL_FAILURE(WaitForScrape());
  Result<Value> values = Query("sort_desc(requests_total)");
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  EXPECT_EQ(*values, Value::array({97.0, 3.0}));
  EXPECT_EQ(Decide("len(result) == 2 && result[0] + result[1] == 100", "", *values), "Successful");
}

TEST_F(PrometheusTest, ScalarIsANumber) {
  ASSERT_NO_FATAL_FAILURE(WaitForScrape());
  Result<Value> total = Query("scalar(sum(requests_total))");
  ASSERT_TRUE(total.ok()) << total.status().ToString();
  EXPECT_EQ(*total, Value(100.0));
  EXPECT_EQ(Decide("result == 100", "", *total), "Successful");
}

TEST_F(PrometheusTest, NoSeriesIsAnEmptyList) {
  ASSERT_NO_FATAL_FAILURE(WaitForScrape());
  Result<Value> none = Query("requests_total{code=\"404\"}");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, Value::array());
  EXPECT_EQ(Decide("len(result) == 0", "", *none), "Successful");
  EXPECT_EQ(Decide("default(result[0], 0) < 1", "", *none), "Successful");
  EXPECT_THAT(Decide("result[0] < 1", "", *none),
              HasSubstr("Error: successCondition: in `result[0]`: index 0 is out of range"));
}

TEST_F(PrometheusTest, NaNAndInfinities) {
  Result<Value> nan = Query("vector(0) / 0");
  ASSERT_TRUE(nan.ok()) << nan.status().ToString();
  ASSERT_EQ(nan->size(), 1u);
  EXPECT_TRUE(std::isnan((*nan)[0].get<double>()));
  EXPECT_EQ(Decide("result[0] >= 0.95", "result[0] < 0.5", *nan), "Inconclusive");
  EXPECT_EQ(Decide("isNaN(result[0])", "", *nan), "Successful");

  Result<Value> inf = Query("1 / 0");
  ASSERT_TRUE(inf.ok()) << inf.status().ToString();
  EXPECT_EQ(FormatValue(*inf), "+Inf");
  Result<Value> negative_inf = Query("-1 / 0");
  ASSERT_TRUE(negative_inf.ok()) << negative_inf.status().ToString();
  EXPECT_EQ(FormatValue(*negative_inf), "-Inf");
  EXPECT_EQ(Decide("isInf(result) && result < 0", "", *negative_inf), "Successful");
}

TEST_F(PrometheusTest, StringIsAString) {
  Result<Value> text = Query("\"ok\"");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, Value("ok"));
  EXPECT_EQ(Decide("result == 'ok'", "", *text), "Successful");
}

TEST_F(PrometheusTest, BadQueryIsAnErrorWithPrometheusMessage) {
  Result<Value> value = Query("sum(requests_total");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(value.status().message(),
              HasSubstr("Prometheus answered with an error (bad_data): invalid parameter"));
  EXPECT_THAT(value.status().message(), HasSubstr("parse error"));
}

TEST_F(PrometheusTest, RangeVectorIsRefused) {
  Result<Value> value = Query("requests_total[1m]");
  ASSERT_FALSE(value.ok());
  EXPECT_THAT(value.status().message(), HasSubstr("the query returned a matrix"));
}

TEST_F(PrometheusTest, AnswerThatIsNotJsonIsQuoted) {
  // /-/ready answers in plain text, as a proxy's error page would.
  std::optional<std::string> body = HttpGet(port_, "/-/ready");
  ASSERT_TRUE(body.has_value());
  Result<Value> value = ParsePrometheusResponse(*body);
  ASSERT_FALSE(value.ok());
  EXPECT_THAT(value.status().message(), HasSubstr("the body is not JSON"));
  EXPECT_THAT(value.status().message(), HasSubstr("it begins \"Prometheus Server is Ready."));
}

}  // namespace
}  // namespace gantry::analysis
