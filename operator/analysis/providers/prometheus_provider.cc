#include "operator/analysis/providers/prometheus_provider.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "operator/analysis/prometheus_response.h"
#include "operator/analysis/providers/http_metric_provider.h"
#include "operator/common/duration.h"
#include "operator/kube/encoding.h"

namespace gantry::analysis {
namespace {

// The request timeout: integer seconds (Argo's form) or a Go duration.
Result<std::chrono::milliseconds> TimeoutOf(const api::PrometheusMetric& p) {
  if (!p.timeout.has_value()) return std::chrono::milliseconds(kDefaultPrometheusTimeout);
  if (p.timeout->is_int()) {
    if (p.timeout->int_value() <= 0) {
      return InvalidArgument(
          fmt::format("provider.prometheus.timeout: {} is not positive", p.timeout->int_value()));
    }
    return std::chrono::milliseconds(std::chrono::seconds(p.timeout->int_value()));
  }
  Result<Millis> d = ParseDuration(p.timeout->string_value());
  if (!d.ok()) return d.status().WithContext("provider.prometheus.timeout");
  if (d->count() <= 0) {
    return InvalidArgument(fmt::format("provider.prometheus.timeout: \"{}\" is not positive",
                                       p.timeout->string_value()));
  }
  return *d;
}

class PrometheusProvider final : public HttpMetricProvider {
 public:
  PrometheusProvider(HttpClient& http, Clock& clock) : HttpMetricProvider(http, clock) {}

  std::string_view Type() const override { return "prometheus"; }

 private:
  Result<HttpCall> BuildCall(const api::Metric& metric) const override {
    const api::PrometheusMetric& p = *metric.provider.prometheus;
    Result<std::chrono::milliseconds> timeout = TimeoutOf(p);
    if (!timeout.ok()) return timeout.status();
    HttpCall call;
    call.method = "POST";
    call.url = BaseOf(p) + "/api/v1/query";
    call.timeout = *timeout;
    call.insecure = p.insecure;
    for (const api::HttpHeader& h : p.headers) call.headers.emplace_back(h.key, h.value);
    call.headers.emplace_back("Accept", "application/json");
    call.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    call.body = "query=" + kube::UrlEscape(p.query);
    return call;
  }

  Result<HttpAnswer> Exchange(HttpCall& call) override {
    Result<HttpAnswer> answer = http().Send(call);
    if (answer.ok() && (answer->status == 405 || answer->status == 501)) {
      // The query was form-encoded into the body; it moves into the URL.
      const std::string query = call.body.substr(std::string_view("query=").size());
      call.method = "GET";
      call.url += "?query=" + query;
      call.body.clear();
      call.headers.pop_back();  // no Content-Type without a body
      answer = http().Send(call);
    }
    if (!answer.ok()) return answer.status().WithContext("querying Prometheus");
    return answer;
  }

  Result<Value> Interpret(const api::Metric&, const HttpCall& call,
                          const HttpAnswer& answer) const override {
    // Prometheus answers errors (bad_data 400, timeout 503, ...) with a JSON body that says
    // more than the status line, so the body is parsed whatever the status.
    Result<Value> result = ParsePrometheusResponse(answer.body);
    if (!result.ok() && (answer.status < 200 || answer.status >= 300)) {
      return Status(result.status().code(), fmt::format("HTTP {} from {}: {}", answer.status,
                                                        call.url, result.status().message()));
    }
    return result;
  }

  static std::string BaseOf(const api::PrometheusMetric& p) {
    std::string base = p.address;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
  }
};

}  // namespace

std::unique_ptr<MetricProvider> NewPrometheusProvider(HttpClient& http, Clock& clock) {
  return std::make_unique<PrometheusProvider>(http, clock);
}

}  // namespace gantry::analysis
