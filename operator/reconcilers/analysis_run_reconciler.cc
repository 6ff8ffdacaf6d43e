#include "operator/reconcilers/analysis_run_reconciler.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "operator/analysis/args.h"
#include "operator/analysis/providers/providers.h"
#include "operator/api/conditions.h"
#include "operator/common/duration.h"

namespace gantry::reconcilers {
namespace {

using api::AnalysisPhase;

const kube::GroupVersionKind kRunGvk{std::string(api::kGroup), std::string(api::kVersion),
                                     std::string(api::AnalysisRun::kKind)};

// How bad a finished phase is, for choosing the run's phase among its metrics'.
int Severity(AnalysisPhase phase) {
  switch (phase) {
    case AnalysisPhase::kFailed:
      return 3;
    case AnalysisPhase::kError:
      return 2;
    case AnalysisPhase::kInconclusive:
      return 1;
    default:
      return 0;
  }
}

bool IsBad(AnalysisPhase phase) { return Severity(phase) > 0; }

bool IsDryRun(const api::AnalysisRunSpec& spec, const std::string& metric) {
  for (const api::DryRun& d : spec.dry_run) {
    if (d.metric_name == "*" || d.metric_name == metric) return true;
  }
  return false;
}

void Count(api::MetricResult& r, const api::Measurement& m) {
  switch (m.phase) {
    case AnalysisPhase::kSuccessful:
      ++r.successful;
      ++r.count;
      r.consecutive_error = 0;
      break;
    case AnalysisPhase::kFailed:
      ++r.failed;
      ++r.count;
      r.consecutive_error = 0;
      break;
    case AnalysisPhase::kInconclusive:
      ++r.inconclusive;
      ++r.count;
      r.consecutive_error = 0;
      break;
    case AnalysisPhase::kError:
      ++r.error;
      ++r.consecutive_error;
      break;
    default:
      break;
  }
}

// Why a finished metric has its phase, for the metric's and the run's message.
std::string MetricMessage(const MetricLimits& limits, const api::MetricResult& r) {
  switch (r.phase) {
    case AnalysisPhase::kFailed:
      return fmt::format("failed ({}) > failureLimit ({})", r.failed, limits.failure_limit);
    case AnalysisPhase::kInconclusive:
      return fmt::format("inconclusive ({}) > inconclusiveLimit ({})", r.inconclusive,
                         limits.inconclusive_limit);
    case AnalysisPhase::kError: {
      std::string last;
      for (auto it = r.measurements.rbegin(); it != r.measurements.rend(); ++it) {
        if (it->phase == AnalysisPhase::kError) {
          last = it->message;
          break;
        }
      }
      return fmt::format("consecutiveError ({}) > consecutiveErrorLimit ({}): {}",
                         r.consecutive_error, limits.consecutive_error_limit, last);
    }
    default:
      return "";
  }
}

api::MetricResult& ResultFor(api::AnalysisRunStatus& status, const std::string& name) {
  for (api::MetricResult& r : status.metric_results) {
    if (r.name == name) return r;
  }
  api::MetricResult r;
  r.name = name;
  r.phase = AnalysisPhase::kPending;
  status.metric_results.push_back(std::move(r));
  return status.metric_results.back();
}

void Trim(api::MetricResult& r, size_t max) {
  if (max > 0 && r.measurements.size() > max) {
    r.measurements.erase(r.measurements.begin(),
                         r.measurements.end() - static_cast<std::ptrdiff_t>(max));
  }
}

class PrometheusAnalysisRunMetrics final : public AnalysisRunMetrics {
 public:
  explicit PrometheusAnalysisRunMetrics(prometheus::Registry& registry)
      : phase_(prometheus::BuildGauge()
                   .Name("gantry_analysis_run_metric_phase")
                   .Help("1 for the current phase of each AnalysisRun metric, 0 for the others")
                   .Register(registry)),
        measurements_(prometheus::BuildCounter()
                          .Name("gantry_analysis_run_measurements_total")
                          .Help("Measurements taken by AnalysisRuns, by provider and phase")
                          .Register(registry)) {}

  void RecordMetricPhase(const std::string& ns, const std::string& run, const std::string& metric,
                         AnalysisPhase phase) override {
    std::lock_guard lock(mu_);
    std::vector<prometheus::Gauge*>& gauges = series_[{ns, run, metric}];
    if (gauges.empty()) {
      for (const auto& [p, name] : api::EnumTraits<AnalysisPhase>::kNames) {
        gauges.push_back(&phase_.Add(
            {{"namespace", ns}, {"name", run}, {"metric", metric}, {"phase", std::string(name)}}));
      }
    }
    size_t i = 0;
    for (const auto& [p, name] : api::EnumTraits<AnalysisPhase>::kNames) {
      gauges[i++]->Set(p == phase ? 1 : 0);
    }
  }

  void CountMeasurement(std::string_view provider, AnalysisPhase phase) override {
    measurements_
        .Add({{"provider", std::string(provider)}, {"phase", std::string(api::ToString(phase))}})
        .Increment();
  }

  void ForgetRun(const std::string& ns, const std::string& run) override {
    std::lock_guard lock(mu_);
    for (auto it = series_.begin(); it != series_.end();) {
      if (std::get<0>(it->first) == ns && std::get<1>(it->first) == run) {
        for (prometheus::Gauge* g : it->second) phase_.Remove(g);
        it = series_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  prometheus::Family<prometheus::Gauge>& phase_;
  prometheus::Family<prometheus::Counter>& measurements_;
  std::mutex mu_;  // guards series_
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<prometheus::Gauge*>>
      series_;
};

}  // namespace

std::unique_ptr<AnalysisRunMetrics> NewPrometheusAnalysisRunMetrics(
    prometheus::Registry& registry) {
  return std::make_unique<PrometheusAnalysisRunMetrics>(registry);
}

Result<MetricLimits> ParseMetricLimits(const api::Metric& metric) {
  MetricLimits limits;
  auto as_int = [&](const api::IntOrString& v, std::string_view field) -> Result<int64_t> {
    Result<int64_t> n = v.AsInt();
    if (!n.ok()) {
      return InvalidArgument(
          fmt::format("metric \"{}\": {}: {}", metric.name, field, n.status().message()));
    }
    return n;
  };
  if (metric.count.has_value()) {
    Result<int64_t> n = as_int(*metric.count, "count");
    if (!n.ok()) return n.status();
    limits.count = *n;
  }
  Result<int64_t> failure = as_int(metric.failure_limit, "failureLimit");
  if (!failure.ok()) return failure.status();
  limits.failure_limit = *failure;
  Result<int64_t> inconclusive = as_int(metric.inconclusive_limit, "inconclusiveLimit");
  if (!inconclusive.ok()) return inconclusive.status();
  limits.inconclusive_limit = *inconclusive;
  Result<int64_t> errors = as_int(metric.consecutive_error_limit, "consecutiveErrorLimit");
  if (!errors.ok()) return errors.status();
  limits.consecutive_error_limit = *errors;
  if (!metric.interval.empty()) {
    Result<Millis> d = ParseDuration(metric.interval);
    if (!d.ok()) {
      return InvalidArgument(
          fmt::format("metric \"{}\": interval: {}", metric.name, d.status().message()));
    }
    limits.interval = *d;
  }
  if (!metric.initial_delay.empty()) {
    Result<Millis> d = ParseDuration(metric.initial_delay);
    if (!d.ok()) {
      return InvalidArgument(
          fmt::format("metric \"{}\": initialDelay: {}", metric.name, d.status().message()));
    }
    limits.initial_delay = *d;
  }
  return limits;
}

AnalysisPhase AssessMetric(const MetricLimits& limits, const api::MetricResult& r,
                           bool terminating) {
  if (r.measurements.empty()) {
    return terminating ? AnalysisPhase::kSuccessful : AnalysisPhase::kPending;
  }
  if (r.measurements.back().phase == AnalysisPhase::kRunning) {
    return terminating ? AnalysisPhase::kSuccessful : AnalysisPhase::kRunning;
  }
  if (limits.failure_limit >= 0 && r.failed > limits.failure_limit) return AnalysisPhase::kFailed;
  if (limits.inconclusive_limit >= 0 && r.inconclusive > limits.inconclusive_limit) {
    return AnalysisPhase::kInconclusive;
  }
  if (r.consecutive_error > limits.consecutive_error_limit) return AnalysisPhase::kError;
  // Without an interval a metric is measured once unless count says otherwise (Argo's
  // EffectiveCount); with an interval and no count it runs until the run is terminated.
  std::optional<int64_t> count = limits.count;
  if (!count.has_value() && !limits.interval.has_value()) count = 1;
  if (count.has_value() && r.count >= *count) return AnalysisPhase::kSuccessful;
  if (terminating) return AnalysisPhase::kSuccessful;
  return AnalysisPhase::kRunning;
}

Clock::TimePoint NextMeasurementDue(const MetricLimits& limits, const api::MetricResult& r,
                                    Clock::TimePoint run_started) {
  if (r.measurements.empty()) return run_started + limits.initial_delay;
  const api::Measurement& last = r.measurements.back();
  Clock::TimePoint base = last.finished_at.value_or(last.started_at.value_or(run_started));
  Clock::Duration wait = limits.interval.value_or(std::chrono::milliseconds(0));
  if (last.phase == AnalysisPhase::kError) {
    wait = std::min<Clock::Duration>(limits.interval.value_or(kAnalysisErrorRetryInterval),
                                     kAnalysisErrorRetryInterval);
  }
  return base + wait;
}

controller::ReconcileResult AnalysisRunReconciler::Reconcile(const kube::ObjectKey& key) {
  using controller::ReconcileResult;
  const kube::ResourceRef ref{kRunGvk, key.ns, key.name};
  std::unique_ptr<rollout::ObjectReader> api_reader;
  if (deps_.reader == nullptr) api_reader = rollout::NewApiObjectReader(deps_.client);
  rollout::ObjectReader& reader = deps_.reader != nullptr ? *deps_.reader : *api_reader;
  Result<kube::ObjectPtr> live = reader.Get(ref);
  if (!live.ok()) {
    if (live.status().code() == StatusCode::kNotFound) {
      if (deps_.metrics != nullptr) deps_.metrics->ForgetRun(key.ns, key.name);
      return ReconcileResult::Done();
    }
    return ReconcileResult::Error(live.status());
  }
  const kube::Object& object = **live;
  auto emit = [&](bool warning, std::string_view reason, const std::string& message) {
    if (warning) {
      spdlog::warn("AnalysisRun {}: {}: {}", key.ToString(), reason, message);
    } else {
      spdlog::info("AnalysisRun {}: {}: {}", key.ToString(), reason, message);
    }
    if (deps_.events != nullptr) {
      deps_.events->Event(object, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                          reason, message);
    }
  };

  Result<api::AnalysisRun> decoded = api::AnalysisRun::FromJson(object);
  if (!decoded.ok()) {
    emit(true, "InvalidSpec", decoded.status().message());
    return ReconcileResult::Stalled(decoded.status().message());
  }
  api::AnalysisRun run = std::move(decoded).value();
  const api::AnalysisRunStatus before = run.status;
  const int64_t generation = run.metadata.generation;
  const Clock::TimePoint now = deps_.clock.Now();

  auto record_metrics = [&]() {
    if (deps_.metrics == nullptr) return;
    for (const api::MetricResult& r : run.status.metric_results) {
      deps_.metrics->RecordMetricPhase(key.ns, key.name, r.name, r.phase);
    }
  };
  if (api::IsTerminal(run.status.phase) || run.metadata.deletion_timestamp.has_value()) {
    record_metrics();
    return ReconcileResult::Done();
  }

  // Writes status if it changed, then reports the transitions it made.
  auto finish = [&](std::optional<Clock::Duration> requeue, bool stalled) -> ReconcileResult {
    run.status.observed_generation = generation;
    const AnalysisPhase phase = run.status.phase;
    if (phase == AnalysisPhase::kRunning || phase == AnalysisPhase::kPending) {
      api::MarkReconciling(run.status.conditions, generation, "Measuring", "Taking measurements",
                           now);
    } else if (phase == AnalysisPhase::kSuccessful) {
      api::MarkReady(run.status.conditions, generation, "Successful",
                     run.status.message.empty() ? "Analysis succeeded" : run.status.message, now);
    } else if (stalled) {
      api::MarkStalled(run.status.conditions, generation, "InvalidSpec", run.status.message, now);
    } else {
      api::Condition ready;
      ready.type = std::string(api::kConditionReady);
      ready.status = "False";
      ready.observed_generation = generation;
      ready.reason = std::string(api::ToString(phase));
      ready.message = run.status.message;
      api::SetCondition(run.status.conditions, ready, now);
      api::RemoveCondition(run.status.conditions, api::kConditionReconciling);
    }
    if (!(run.status == before)) {
      Result<kube::Object> written = deps_.client.UpdateStatus(run.ToJson());
      if (!written.ok()) {
        return ReconcileResult::Error(written.status().WithContext(
            fmt::format("writing status of AnalysisRun {}", key.ToString())));
      }
      reader.Wrote(ref, kube::ResourceVersionOf(object));
    }
    for (const api::MetricResult& r : run.status.metric_results) {
      const api::MetricResult* old = before.FindMetricResult(r.name);
      if (api::IsTerminal(r.phase) && (old == nullptr || old->phase != r.phase)) {
        emit(IsBad(r.phase) && !r.dry_run, fmt::format("Metric{}", api::ToString(r.phase)),
             fmt::format("Metric \"{}\" assessed {}{}{}", r.name, api::ToString(r.phase),
                         r.message.empty() ? "" : ": ", r.message));
      }
    }
    if (phase != before.phase) {
      emit(IsBad(phase), fmt::format("AnalysisRun{}", api::ToString(phase)),
           run.status.message.empty()
               ? fmt::format("AnalysisRun is {}", api::ToString(phase))
               : fmt::format("AnalysisRun is {}: {}", api::ToString(phase), run.status.message));
    }
    record_metrics();
    if (stalled) return ReconcileResult::Stalled(run.status.message);
    if (api::IsTerminal(phase)) return ReconcileResult::Done();
    return ReconcileResult::Waiting(requeue.value_or(kAnalysisErrorRetryInterval),
                                    "next measurement");
  };
  // The run cannot go on: phase Error with `message`.
  auto fail_run = [&](const std::string& message, bool stalled) {
    if (!run.status.started_at) run.status.started_at = now;
    run.status.phase = AnalysisPhase::kError;
    run.status.message = message;
    return finish(std::nullopt, stalled);
  };

  if (Status valid = run.Validate(); !valid.ok()) return fail_run(valid.message(), true);
  if (!run.status.started_at) run.status.started_at = now;
  run.status.phase = AnalysisPhase::kRunning;

  Result<analysis::ArgValues> args = analysis::ResolveArgs(run.spec.args, key.ns, deps_.client);
  if (!args.ok()) {
    if (args.status().IsTransient()) {
      return ReconcileResult::Error(args.status().WithContext(
          fmt::format("resolving args of AnalysisRun {}", key.ToString())));
    }
    return fail_run(args.status().message(), false);
  }

  // Everything a metric needs this pass, resolved once.
  struct Prepared {
    api::Metric metric;
    MetricLimits limits;
    analysis::MetricConditions conditions;
    Status conditions_error;
    analysis::MetricProvider* provider = nullptr;
  };
  std::vector<Prepared> prepared;
  prepared.reserve(run.spec.metrics.size());
  for (const api::Metric& spec_metric : run.spec.metrics) {
    Prepared p;
    Result<api::Metric> metric = analysis::SubstituteMetricArgs(spec_metric, *args);
    if (!metric.ok()) return fail_run(metric.status().message(), false);
    p.metric = std::move(metric).value();
    Result<MetricLimits> limits = ParseMetricLimits(p.metric);
    if (!limits.ok()) return fail_run(limits.status().message(), false);
    p.limits = *limits;
    p.provider = deps_.providers.ProviderFor(p.metric);
    if (p.provider == nullptr) {
      return fail_run(fmt::format("metric \"{}\": no supported provider", p.metric.name), false);
    }
    Result<analysis::MetricConditions> conditions =
        analysis::ParseMetricConditions(p.metric.success_condition, p.metric.failure_condition);
    if (conditions.ok()) {
      p.conditions = std::move(conditions).value();
    } else {
      p.conditions_error = conditions.status();
    }
    prepared.push_back(std::move(p));
  }

  // Measure what is due.
  const bool terminate_requested = run.spec.terminate;
  for (Prepared& p : prepared) {
    api::MetricResult& r = ResultFor(run.status, p.metric.name);
    r.dry_run = IsDryRun(run.spec, p.metric.name);
    if (api::IsTerminal(r.phase)) continue;
    const analysis::MeasurementRequest request{run, p.metric, p.conditions};
    auto finished = [&](const api::Measurement& m) {
      if (m.phase == AnalysisPhase::kRunning) return;
      Count(r, m);
      if (deps_.metrics != nullptr) deps_.metrics->CountMeasurement(p.provider->Type(), m.phase);
    };
    if (!r.measurements.empty() && r.measurements.back().phase == AnalysisPhase::kRunning) {
      api::Measurement& last = r.measurements.back();
      if (terminate_requested) {
        last = p.provider->Terminate(request, last);
        finished(last);
      } else if (!last.resume_at.has_value() || now >= *last.resume_at) {
        last = p.provider->Resume(request, last);
        finished(last);
      }
    } else if (!terminate_requested &&
               AssessMetric(p.limits, r, false) != AnalysisPhase::kSuccessful &&
               now >= NextMeasurementDue(p.limits, r, *run.status.started_at)) {
      api::Measurement m;
      if (!p.conditions_error.ok()) {
        m.started_at = now;
        analysis::FinishWithError(m, p.conditions_error.message(), now);
      } else {
        m = p.provider->Run(request);
      }
      r.measurements.push_back(std::move(m));
      finished(r.measurements.back());
      Trim(r, deps_.max_measurements);
    }
    r.phase = AssessMetric(p.limits, r, false);
    r.message = MetricMessage(p.limits, r);
  }

  // A metric that ended badly stops the rest, as a user's terminate does.
  bool terminating = terminate_requested;
  for (const api::MetricResult& r : run.status.metric_results) {
    if (!r.dry_run && IsBad(r.phase)) terminating = true;
  }
  if (terminating) {
    for (Prepared& p : prepared) {
      api::MetricResult& r = ResultFor(run.status, p.metric.name);
      if (api::IsTerminal(r.phase)) continue;
      if (!r.measurements.empty() && r.measurements.back().phase == AnalysisPhase::kRunning) {
        const analysis::MeasurementRequest request{run, p.metric, p.conditions};
        api::Measurement& last = r.measurements.back();
        last = p.provider->Terminate(request, last);
        if (last.phase == AnalysisPhase::kRunning) continue;  // could not stop it yet: retry
        Count(r, last);
      }
      r.phase = AssessMetric(p.limits, r, true);
      r.message = MetricMessage(p.limits, r);
    }
  }

  // The run's phase: the worst finished metric that is not a dry run, once all are finished.
  bool all_finished = true;
  const api::MetricResult* worst = nullptr;
  std::vector<std::string> dry_run_failures;
  for (const Prepared& p : prepared) {
    const api::MetricResult& r = ResultFor(run.status, p.metric.name);
    if (!api::IsTerminal(r.phase)) {
      all_finished = false;
      continue;
    }
    if (r.dry_run) {
      if (IsBad(r.phase)) {
        dry_run_failures.push_back(fmt::format("{} ({})", r.name, api::ToString(r.phase)));
      }
      continue;
    }
    if (worst == nullptr || Severity(r.phase) > Severity(worst->phase)) worst = &r;
  }
  std::string dry_note;
  if (!dry_run_failures.empty()) {
    dry_note = "dry-run metrics did not pass: ";
    for (size_t i = 0; i < dry_run_failures.size(); ++i) {
      dry_note += (i > 0 ? ", " : "") + dry_run_failures[i];
    }
  }
  if (all_finished) {
    if (worst != nullptr && IsBad(worst->phase)) {
      run.status.phase = worst->phase;
      run.status.message = fmt::format("metric \"{}\": {}", worst->name, worst->message);
    } else {
      run.status.phase = AnalysisPhase::kSuccessful;
      run.status.message = terminate_requested ? "Run Terminated" : "";
    }
    if (!dry_note.empty()) {
      run.status.message += (run.status.message.empty() ? "" : "; ") + dry_note;
    }
    return finish(std::nullopt, false);
  }
  run.status.message = dry_note;

  // Look again when the earliest measurement is due or a Running one should be resumed.
  std::optional<Clock::TimePoint> next;
  for (const Prepared& p : prepared) {
    const api::MetricResult& r = ResultFor(run.status, p.metric.name);
    if (api::IsTerminal(r.phase)) continue;
    Clock::TimePoint due;
    if (!r.measurements.empty() && r.measurements.back().phase == AnalysisPhase::kRunning) {
      due = r.measurements.back().resume_at.value_or(now + kAnalysisErrorRetryInterval);
    } else {
      due = NextMeasurementDue(p.limits, r, *run.status.started_at);
    }
    if (!next || due < *next) next = due;
  }
  Clock::Duration wait = next ? std::max(*next - now, Clock::Duration::zero())
                              : Clock::Duration(kAnalysisErrorRetryInterval);
  return finish(wait, false);
}

namespace {

class AnalysisRunControllerImpl final : public AnalysisRunController {
 public:
  AnalysisRunControllerImpl(controller::Manager& manager, const kube::SharedInformer& runs)
      : http_(analysis::NewBeastHttpClient()),
        providers_(analysis::NewMetricProviderFactory(*http_, manager.client(), manager.clock())),
        metrics_(NewPrometheusAnalysisRunMetrics(manager.metrics().registry())),
        reader_(rollout::NewInformerObjectReader(manager.client(), manager.clock(), {&runs},
                                                 manager.options().ns)),
        reconciler_(AnalysisRunReconcilerDeps{manager.client(), *providers_, manager.clock(),
                                              &manager.events(), metrics_.get(),
                                              kDefaultMaxMeasurements, "gantry", reader_.get()}) {}

  AnalysisRunReconciler& reconciler() { return reconciler_; }

 private:
  std::unique_ptr<analysis::HttpClient> http_;
  std::unique_ptr<analysis::MetricProviderFactory> providers_;
  std::unique_ptr<AnalysisRunMetrics> metrics_;
  std::unique_ptr<rollout::ObjectReader> reader_;
  AnalysisRunReconciler reconciler_;
};

}  // namespace

Result<std::unique_ptr<AnalysisRunController>> SetUpAnalysisRunController(
    controller::Manager& manager) {
  kube::SharedInformer& runs = manager.Informer(kRunGvk);
  auto c = std::make_unique<AnalysisRunControllerImpl>(manager, runs);
  controller::WorkQueue& queue = manager.AddController("analysisrun", c->reconciler());
  runs.AddEventHandler(kube::EventHandler{
      [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); },
      [&queue](const kube::ObjectPtr& old_object, const kube::ObjectPtr& new_object) {
        // Status is this controller's own output and its schedule is kept by requeues; a new
        // generation (terminate, an edited metric) or a deletion starting is news.
        if (kube::GenerationOf(*old_object) != kube::GenerationOf(*new_object) ||
            new_object->value("metadata", kube::Object::object()).contains("deletionTimestamp")) {
          queue.Add(kube::KeyOf(*new_object));
        }
      },
      [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); }});
  spdlog::info("analysisrun controller registered");
  return std::unique_ptr<AnalysisRunController>(std::move(c));
}

}  // namespace gantry::reconcilers
