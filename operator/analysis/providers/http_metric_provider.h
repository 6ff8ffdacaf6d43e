// HttpMetricProvider: what the Prometheus and web providers share. For both, a measurement is
// one synchronous HTTP exchange whose answer the metric's conditions judge:
//
//   Run        startedAt; BuildCall (a spec that cannot be sent is an Error measurement);
//              Exchange; Interpret the answer as `result`; FinishWithValue decides the phase.
//              A failure at any step is an Error measurement carrying the step's message.
//   Resume     measures again: a Running measurement of these providers can only come from a
//              pass of an older version that was interrupted.
//   Terminate  nothing to release: the measurement ends Successful, "Metric Terminated", as in
//              Argo Rollouts.
//
// Subclasses supply only what differs (the request, how it is sent, how the answer reads) and
// must be as thread-safe as MetricProvider requires: the hooks are const or touch only their
// arguments. Built by the providers' factories; not meant for callers outside providers/.
#pragma once

#include "operator/analysis/providers/http_client.h"
#include "operator/analysis/providers/metric_provider.h"
#include "operator/analysis/value.h"
#include "operator/common/clock.h"
#include "operator/common/status.h"

namespace gantry::analysis {

class HttpMetricProvider : public MetricProvider {
 public:
  HttpMetricProvider(const HttpMetricProvider&) = delete;
  HttpMetricProvider& operator=(const HttpMetricProvider&) = delete;

  // MetricProvider
  api::Measurement Run(const MeasurementRequest& request) final;
  api::Measurement Resume(const MeasurementRequest& request, api::Measurement measurement) final;
  api::Measurement Terminate(const MeasurementRequest& request, api::Measurement measurement) final;

 protected:
  // `http` and `clock` must outlive the provider.
  HttpMetricProvider(HttpClient& http, Clock& clock) : http_(http), clock_(clock) {}

  // The request for `metric` (args substituted). An error (InvalidArgument naming the field,
  // e.g. "provider.web.timeoutSeconds 0 is not positive") becomes the Error measurement's
  // message as it is.
  virtual Result<HttpCall> BuildCall(const api::Metric& metric) const = 0;

  // Sends `call` and returns the answer; may change `call` and send it again (Prometheus falls
  // back from POST to GET), leaving in it what was sent last, for Interpret's messages.
  // Errors are HttpClient::Send's, with whatever context the provider adds; their message is
  // the Error measurement's. The default sends once, as is.
  virtual Result<HttpAnswer> Exchange(HttpCall& call);

  // `result` from `answer` (any HTTP status) to `call`, made for `metric`, or why the answer
  // cannot be judged (an HTTP error, a body that does not parse, a jsonPath that selects
  // nothing): the status's message is the Error measurement's.
  virtual Result<Value> Interpret(const api::Metric& metric, const HttpCall& call,
                                  const HttpAnswer& answer) const = 0;

  HttpClient& http() { return http_; }

 private:
  HttpClient& http_;
  Clock& clock_;
};

}  // namespace gantry::analysis
