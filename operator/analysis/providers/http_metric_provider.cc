#include "operator/analysis/providers/http_metric_provider.h"

#include <utility>

namespace gantry::analysis {

api::Measurement HttpMetricProvider::Run(const MeasurementRequest& request) {
  api::Measurement m;
  m.started_at = clock_.Now();
  Result<HttpCall> call = BuildCall(request.metric);
  if (!call.ok()) {
    FinishWithError(m, call.status().message(), clock_.Now());
    return m;
  }
  Result<HttpAnswer> answer = Exchange(*call);
  if (!answer.ok()) {
    FinishWithError(m, answer.status().message(), clock_.Now());
    return m;
  }
  Result<Value> result = Interpret(request.metric, *call, *answer);
  if (!result.ok()) {
    FinishWithError(m, result.status().message(), clock_.Now());
    return m;
  }
  FinishWithValue(m, request.conditions, *result, clock_.Now());
  return m;
}

api::Measurement HttpMetricProvider::Resume(const MeasurementRequest& request,
                                            api::Measurement measurement) {
  (void)measurement;
  return Run(request);
}

api::Measurement HttpMetricProvider::Terminate(const MeasurementRequest&,
                                               api::Measurement measurement) {
  measurement.phase = api::AnalysisPhase::kSuccessful;
  measurement.message = "Metric Terminated";
  measurement.finished_at = clock_.Now();
  measurement.resume_at.reset();
  return measurement;
}

Result<HttpAnswer> HttpMetricProvider::Exchange(HttpCall& call) { return http_.Send(call); }

}  // namespace gantry::analysis
