#include "operator/analysis/providers/prometheus_provider.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "operator/analysis/prometheus_response.h"
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

class PrometheusProvider final : public MetricProvider {
 public:
  PrometheusProvider(HttpClient& http, Clock& clock) : http_(http), clock_(clock) {}

  std::string_view Type() const override { return "prometheus"; }

  api::Measurement Run(const MeasurementRequest& request) override {
    api::Measurement m;
    m.started_at = clock_.Now();
    const api::PrometheusMetric& p = *request.metric.provider.prometheus;
    Result<std::chrono::milliseconds> timeout = TimeoutOf(p);
    if (!timeout.ok()) {
      FinishWithError(m, timeout.status().message(), clock_.Now());
      return m;
    }
    std::string base = p.address;
    while (!base.empty() && base.back() == '/') base.pop_back();
    HttpCall call;
    call.method = "POST";
    call.url = base + "/api/v1/query";
    call.timeout = *timeout;
    call.insecure = p.insecure;
    for (const api::HttpHeader& h : p.headers) call.headers.emplace_back(h.key, h.value);
    call.headers.emplace_back("Accept", "application/json");
    call.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    call.body = "query=" + kube::UrlEscape(p.query);
    Result<HttpAnswer> answer = http_.Send(call);
    if (answer.ok() && (answer->status == 405 || answer->status == 501)) {
      call.method = "GET";
      call.url = base + "/api/v1/query?query=" + kube::UrlEscape(p.query);
      call.body.clear();
      call.headers.pop_back();  // no Content-Type without a body
      answer = http_.Send(call);
    }
    if (!answer.ok()) {
      FinishWithError(m, fmt::format("querying Prometheus: {}", answer.status().message()),
                      clock_.Now());
      return m;
    }
    // Prometheus answers errors (bad_data 400, timeout 503, ...) with a JSON body that says
    // more than the status line, so the body is parsed whatever the status.
    Result<Value> result = ParsePrometheusResponse(answer->body);
    if (!result.ok()) {
      std::string message = answer->status >= 200 && answer->status < 300
                                ? result.status().message()
                                : fmt::format("HTTP {} from {}: {}", answer->status, call.url,
                                              result.status().message());
      FinishWithError(m, message, clock_.Now());
      return m;
    }
    FinishWithValue(m, request.conditions, *result, clock_.Now());
    return m;
  }

  api::Measurement Resume(const MeasurementRequest& request,
                          api::Measurement measurement) override {
    // Queries finish within Run; a Running measurement can only come from an interrupted pass
    // of an older version: measure again.
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
  HttpClient& http_;
  Clock& clock_;
};

}  // namespace

std::unique_ptr<MetricProvider> NewPrometheusProvider(HttpClient& http, Clock& clock) {
  return std::make_unique<PrometheusProvider>(http, clock);
}

}  // namespace gantry::analysis
