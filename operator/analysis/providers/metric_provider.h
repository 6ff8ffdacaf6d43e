// MetricProvider: takes the measurements of one kind of analysis metric (Prometheus, web, Job).
//
// The AnalysisRun reconciler decides *when* a metric is measured and what the measurements
// add up to; a provider only takes one measurement and says what it saw:
//
//   Run        starts a measurement. Synchronous providers (Prometheus, web) answer with a
//              finished measurement; asynchronous ones (Job) answer Running, with resumeAt.
//   Resume     looks again at a Running measurement; returns it finished or still Running.
//   Terminate  stops a Running measurement because the run no longer needs it (terminated,
//              or decided by another metric); returns it finished.
//
// Every call is idempotent with respect to what it leaves behind: the reconciler may repeat a
// call after a status write was lost (a Job that already exists is adopted, a Job already gone
// is not an error). Providers never fail: trouble (unreachable server, bad answer, a condition
// that cannot be evaluated) is a measurement with phase Error and a message that says what
// happened, for the reconciler to count against consecutiveErrorLimit.
//
// The metric handed to a provider has its `{{args.NAME}}` already substituted (args.h), and
// `conditions` are its parsed successCondition/failureCondition. Implementations are safe to
// call from several threads at once (the reconciler runs runs in parallel).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "operator/analysis/measurement.h"
#include "operator/analysis/value.h"
#include "operator/api/analysis.h"
#include "operator/common/clock.h"

namespace gantry::analysis {

// The longest text kept in a measurement's value and message: status objects stay small.
inline constexpr size_t kMaxMeasurementValueLength = 1024;
inline constexpr size_t kMaxMeasurementMessageLength = 1024;

// What a provider is asked about.
struct MeasurementRequest {
  const api::AnalysisRun& run;         // the run, as read this pass
  const api::Metric& metric;           // args substituted
  const MetricConditions& conditions;  // parsed from the metric
};

class MetricProvider {
 public:
  virtual ~MetricProvider() = default;

  // "prometheus", "web" or "job": the provider label of metrics and log lines.
  virtual std::string_view Type() const = 0;

  // Takes one measurement. The result has startedAt set; when finished also finishedAt and a
  // phase of Successful, Failed, Inconclusive or Error; when Running, resumeAt.
  virtual api::Measurement Run(const MeasurementRequest& request) = 0;

  // Continues `measurement`, which Run (or an earlier Resume) returned Running.
  virtual api::Measurement Resume(const MeasurementRequest& request,
                                  api::Measurement measurement) = 0;

  // Ends `measurement` early, releasing what it holds (a Job is deleted). The result is
  // finished; as in Argo Rollouts a terminated measurement counts as Successful.
  virtual api::Measurement Terminate(const MeasurementRequest& request,
                                     api::Measurement measurement) = 0;
};

// Chooses the provider for a metric. Implementations own their providers.
class MetricProviderFactory {
 public:
  virtual ~MetricProviderFactory() = default;

  // The provider of `metric` (by which of provider.prometheus/web/job is set), or null when
  // none is set or the kind is not supported (the reconciler records an Error measurement).
  virtual MetricProvider* ProviderFor(const api::Metric& metric) = 0;
};

// Finishes `measurement` with the phase the conditions give `result` (DecideMeasurement): sets
// value (FormatValue, cut to kMaxMeasurementValueLength), phase, message and finishedAt.
// Refuses documents nested deeper than kMaxValueDepth with an Error measurement.
void FinishWithValue(api::Measurement& measurement, const MetricConditions& conditions,
                     const Value& result, Clock::TimePoint now);

// Finishes `measurement` as an Error with `message` (made printable and cut to
// kMaxMeasurementMessageLength) at `now`.
void FinishWithError(api::Measurement& measurement, std::string_view message, Clock::TimePoint now);

}  // namespace gantry::analysis
