// AnalysisRunReconciler: measures an AnalysisRun's metrics and decides the run.
//
// Desired state is the run's spec (metrics with args, dryRun, terminate); actual state is its
// status: per metric the recent measurements (newest last, at most max_measurements kept) and
// counters that survive trimming. Everything the next pass needs is in status, so a restarted
// operator resumes exactly where the last one stopped. One pass for (namespace, name):
//   1. read the run; gone -> forget its metric series; already decided -> nothing to do;
//   2. validate the spec; invalid -> phase Error, Stalled (the spec must change);
//   3. resolve args (values, secretKeyRefs) and substitute them into each metric; an argument
//      that cannot be resolved is phase Error naming it (a transient API error retries);
//   4. per metric: a Running measurement (a Job) is resumed once its resumeAt passed; else,
//      when a measurement is due (startedAt + initialDelay for the first, finishedAt +
//      interval after, 10s after an Error when that is sooner), the provider takes one;
//   5. assess each metric as Argo Rollouts does: failed > failureLimit -> Failed, inconclusive
//      > inconclusiveLimit -> Inconclusive, consecutiveError > consecutiveErrorLimit -> Error,
//      count measurements taken (errors do not count; without interval or count: one) ->
//      Successful, else Running. Dry-run metrics are assessed but never decide the run;
//   6. the run is terminating when spec.terminate is set or a metric (not dry-run) ended
//      Failed, Error or Inconclusive: Running measurements are terminated (Jobs deleted),
//      unfinished metrics count as Successful, and the run takes the worst metric phase
//      (Failed > Error > Inconclusive > Successful);
//   7. write status (phase, message, startedAt, metricResults, conditions Ready/Reconciling,
//      observedGeneration) if it changed, emit Events on run and metric transitions, update
//      gantry_analysis_run_metric_phase, and requeue at the earliest time something is due.
//
// Thread-safe as long as two passes never run for the same run at once (the work queue
// guarantees that); providers may be called from several workers at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "operator/analysis/providers/metric_provider.h"
#include "operator/api/analysis.h"
#include "operator/common/clock.h"
#include "operator/controller/manager.h"
#include "operator/controller/reconciler.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/informer.h"
#include "operator/kube/kube_client.h"
#include "operator/rollout/reader.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace gantry::reconcilers {

// How long after an Error measurement the metric is measured again, unless its interval is
// shorter (Argo's DefaultErrorRetryInterval).
inline constexpr std::chrono::seconds kAnalysisErrorRetryInterval{10};
// Measurements kept per metric in status (Argo's default measurementRetention).
inline constexpr size_t kDefaultMaxMeasurements = 10;

// gantry_analysis_run_metric_phase{namespace,name,metric,phase}: 1 for each metric's current
// phase, 0 for the others; gantry_analysis_run_measurements_total{provider,phase}. Thread-safe.
class AnalysisRunMetrics {
 public:
  virtual ~AnalysisRunMetrics() = default;
  virtual void RecordMetricPhase(const std::string& ns, const std::string& run,
                                 const std::string& metric, api::AnalysisPhase phase) = 0;
  virtual void CountMeasurement(std::string_view provider, api::AnalysisPhase phase) = 0;
  // Drops every series of the run (it was deleted).
  virtual void ForgetRun(const std::string& ns, const std::string& run) = 0;
};

// Metrics registered in `registry`, which must outlive the returned object.
std::unique_ptr<AnalysisRunMetrics> NewPrometheusAnalysisRunMetrics(prometheus::Registry& registry);

struct AnalysisRunReconcilerDeps {
  kube::KubeClient& client;
  analysis::MetricProviderFactory& providers;
  Clock& clock;
  kube::EventRecorder* events = nullptr;  // may be null: transitions are only logged
  AnalysisRunMetrics* metrics = nullptr;  // may be null
  size_t max_measurements = kDefaultMaxMeasurements;
  std::string field_manager = "gantry";
  // Where the run is read from (the operator: the AnalysisRun informer's cache, so a pass
  // costs one request, its status write, or none); null reads it from the API server.
  rollout::ObjectReader* reader = nullptr;
};

class AnalysisRunReconciler final : public controller::Reconciler {
 public:
  explicit AnalysisRunReconciler(AnalysisRunReconcilerDeps deps) : deps_(std::move(deps)) {}
  AnalysisRunReconciler(const AnalysisRunReconciler&) = delete;
  AnalysisRunReconciler& operator=(const AnalysisRunReconciler&) = delete;

  // One pass for the AnalysisRun `key`; see the header comment. Done once the run is decided,
  // Waiting until the next measurement is due while it runs, Stalled for an invalid spec,
  // Error when the API failed (status could not be read or written).
  controller::ReconcileResult Reconcile(const kube::ObjectKey& key) override;

 private:
  AnalysisRunReconcilerDeps deps_;
};

// A metric's limits, with args substituted and parsed.
struct MetricLimits {
  std::optional<int64_t> count;  // unset: no limit (an interval without count runs until
                                 // terminated); see EffectiveCount
  int64_t failure_limit = 0;     // < 0: unlimited
  int64_t inconclusive_limit = 0;
  int64_t consecutive_error_limit = api::Metric::kDefaultConsecutiveErrorLimit;
  std::optional<std::chrono::milliseconds> interval;
  std::chrono::milliseconds initial_delay{0};
};

// Parses the limits of a metric whose args are substituted. InvalidArgument naming the metric
// and field, e.g. `metric "rate": count: ...`.
Result<MetricLimits> ParseMetricLimits(const api::Metric& metric);

// The phase of a metric from its result so far (Argo's assessMetricStatus), step 5 above.
// `terminating`: the run is stopping, so an unfinished metric is Successful.
api::AnalysisPhase AssessMetric(const MetricLimits& limits, const api::MetricResult& result,
                                bool terminating);

// When the next measurement of a metric is due (step 4), given the run's startedAt.
Clock::TimePoint NextMeasurementDue(const MetricLimits& limits, const api::MetricResult& result,
                                    Clock::TimePoint run_started);

// Keeps the AnalysisRun controller's parts alive; destroy after Manager::Run returned.
class AnalysisRunController {
 public:
  virtual ~AnalysisRunController() = default;
};

// Registers the AnalysisRun controller with `manager`: its queue ("analysisrun"), fed by the
// AnalysisRun informer (new runs, spec changes such as terminate, deletions); the providers
// (HTTP client, Job provider on the manager's client); gantry_analysis_run_* metrics on the
// manager's registry. Running Job measurements are polled every kJobPollInterval rather than
// watched, so that the operator needs no cluster-wide watch on Jobs. Call once, before
// Manager::Run, from the thread that sets up the manager.
Result<std::unique_ptr<AnalysisRunController>> SetUpAnalysisRunController(
    controller::Manager& manager);

}  // namespace gantry::reconcilers
