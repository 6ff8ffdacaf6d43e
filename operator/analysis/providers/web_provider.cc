#include "operator/analysis/providers/web_provider.h"

#include <fmt/format.h>

#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "operator/analysis/json_path.h"
#include "operator/analysis/providers/http_metric_provider.h"

namespace gantry::analysis {
namespace {

class WebProvider final : public HttpMetricProvider {
 public:
  WebProvider(HttpClient& http, Clock& clock) : HttpMetricProvider(http, clock) {}

  std::string_view Type() const override { return "web"; }

 private:
  Result<HttpCall> BuildCall(const api::Metric& metric) const override {
    const api::WebMetric& w = *metric.provider.web;
    HttpCall call;
    call.method = w.method.empty() ? "GET" : w.method;
    if (call.method != "GET" && call.method != "POST" && call.method != "PUT") {
      return InvalidArgument(
          fmt::format("provider.web.method \"{}\" is not GET, POST or PUT", call.method));
    }
    if (w.timeout_seconds <= 0) {
      return InvalidArgument(
          fmt::format("provider.web.timeoutSeconds {} is not positive", w.timeout_seconds));
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
    return call;
  }

  Result<Value> Interpret(const api::Metric& metric, const HttpCall& call,
                          const HttpAnswer& answer) const override {
    if (answer.status < 200 || answer.status > 299) {
      return Internal(fmt::format("{} {}: HTTP {}: {}", call.method, call.url, answer.status,
                                  QuoteText(answer.body, kWebBodySnippetLength)));
    }
    Value document;
    try {
      document = Value::parse(answer.body);
    } catch (const std::exception& e) {
      return Internal(fmt::format("{} {}: the answer is not JSON ({}); it begins {}", call.method,
                                  call.url, e.what(),
                                  QuoteText(answer.body, kWebBodySnippetLength)));
    }
    if (NestsDeeperThan(document, kMaxValueDepth)) {
      return Internal(fmt::format("{} {}: the answer nests deeper than {} levels", call.method,
                                  call.url, kMaxValueDepth));
    }
    const std::string& json_path = metric.provider.web->json_path;
    if (json_path.empty()) return document;
    return EvaluateJsonPath(json_path, document);
  }

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
};

}  // namespace

std::unique_ptr<MetricProvider> NewWebProvider(HttpClient& http, Clock& clock) {
  return std::make_unique<WebProvider>(http, clock);
}

}  // namespace gantry::analysis
