#include "operator/analysis/providers/web_provider.h"

#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "operator/analysis/json_path.h"

namespace gantry::analysis {
namespace {

class WebProvider final : public MetricProvider {
 public:
  WebProvider(HttpClient& http, Clock& clock) : http_(http), clock_(clock) {}

  std::string_view Type() const override { return "web"; }

  api::Measurement Run(const MeasurementRequest& request) override {
    api::Measurement m;
    m.started_at = clock_.Now();
    const api::WebMetric& w = *request.metric.provider.web;
    HttpCall call;
    call.method = w.method.empty() ? "GET" : w.method;
    if (call.method != "GET" && call.method != "POST" && call.method != "PUT") {
      FinishWithError(
          m, fmt::format("provider.web.method \"{}\" is not GET, POST or PUT", call.method),
          clock_.Now());
      return m;
    }
    if (w.timeout_seconds <= 0) {
      FinishWithError(
          m, fmt::format("provider.web.timeoutSeconds {} is not positive", w.timeout_seconds),
          clock_.Now());
      return m;
    }
    call.url = w.url;
    call.timeout = std::chrono::seconds(w.timeout_seconds);
    call.insecure = w.insecure;
    bool has_content_type = false;
    for (const api::HttpHeader& h : w.headers) {
      call.headers.emplace_back(h.key, h.value);
      if (CaseInsensitiveEqual(h.key, "content-type")) has_content_type = true;
    }
    call.body = w.body;
    if (!call.body.empty() && !has_content_type) {
      call.headers.emplace_back("Content-Type", "application/json");
    }
    Result<HttpAnswer> answer = http_.Send(call);
    if (!answer.ok()) {
      FinishWithError(m, answer.status().message(), clock_.Now());
      return m;
    }
    if (answer->status < 200 || answer->status > 299) {
      FinishWithError(m,
                      fmt::format("{} {}: HTTP {}: {}", call.method, call.url, answer->status,
                                  QuoteText(answer->body, kWebBodySnippetLength)),
                      clock_.Now());
      return m;
    }
    Value document;
    try {
      document = Value::parse(answer->body);
    } catch (const std::exception& e) {
      FinishWithError(
          m,
          fmt::format("{} {}: the answer is not JSON ({}); it begins {}", call.method, call.url,
                      e.what(), QuoteText(answer->body, kWebBodySnippetLength)),
          clock_.Now());
      return m;
    }
    if (NestsDeeperThan(document, kMaxValueDepth)) {
      FinishWithError(m,
                      fmt::format("{} {}: the answer nests deeper than {} levels", call.method,
                                  call.url, kMaxValueDepth),
                      clock_.Now());
      return m;
    }
    Value result = std::move(document);
    if (!w.json_path.empty()) {
      Result<Value> selected = EvaluateJsonPath(w.json_path, result);
      if (!selected.ok()) {
        FinishWithError(m, selected.status().message(), clock_.Now());
        return m;
      }
      result = std::move(selected).value();
    }
    FinishWithValue(m, request.conditions, result, clock_.Now());
    return m;
  }

  api::Measurement Resume(const MeasurementRequest& request,
                          api::Measurement measurement) override {
    // Requests finish within Run; see PrometheusProvider::Resume.
    (void)measurement;
    return Run(request);
  }

  api::Measurement Terminate(const MeasurementRequest&, api::Measurement measurement) override {
    measurement.phase = api::AnalysisPhase::kSuccessful;
    measurement.message = "Metric Terminated";
    measurement.finished_at = clock_.Now();
    measurement.resume_at.reset();
    return measurement;
  }

 private:
  static bool CaseInsensitiveEqual(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i]))) {
        return false;
      }
    }
    return true;
  }

  HttpClient& http_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<MetricProvider> NewWebProvider(HttpClient& http, Clock& clock) {
  return std::make_unique<WebProvider>(http, clock);
}

}  // namespace gantry::analysis
