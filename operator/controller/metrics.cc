#include "operator/controller/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "operator/common/version.h"

namespace gantry::controller {

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& reconcile_total =
      prometheus::BuildCounter()
          .Name("gantry_reconcile_total")
          .Help("Reconciles by controller and result (done, waiting, stalled, error).")
          .Register(*registry);
  prometheus::Family<prometheus::Histogram>& reconcile_duration =
      prometheus::BuildHistogram()
          .Name("gantry_reconcile_duration_seconds")
          .Help("Time spent in one reconcile, by controller.")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& kube_requests_total =
      prometheus::BuildCounter()
          .Name("gantry_kube_requests_total")
          .Help(
              "Requests of this process to the Kubernetes API server, by verb (get, list, "
              "watch, create, update, patch, apply, delete; writes under dryRun=All end in "
              "_dry_run) and HTTP status code (0: no answer).")
          .Register(*registry);
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {
  // Always present, so a scrape shows which build answers even before any reconcile.
  prometheus::BuildGauge()
      .Name("gantry_build_info")
      .Help("Build of the running operator; the value is always 1.")
      .Register(*impl_->registry)
      .Add({{"version", std::string(Version())}, {"commit", std::string(GitCommit())}})
      .Set(1);
}
Metrics::~Metrics() = default;

prometheus::Registry& Metrics::registry() { return *impl_->registry; }

void Metrics::ObserveReconcile(std::string_view controller, std::string_view result,
                               double seconds) {
  // Family::Add returns the existing child for known labels; it is thread-safe.
  impl_->reconcile_total
      .Add({{"controller", std::string(controller)}, {"result", std::string(result)}})
      .Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  impl_->reconcile_duration.Add({{"controller", std::string(controller)}}, kBuckets)
      .Observe(seconds);
}

void Metrics::CountKubeRequest(std::string_view verb, int code) {
  impl_->kube_requests_total.Add({{"verb", std::string(verb)}, {"code", std::to_string(code)}})
      .Increment();
}

std::string Metrics::Serialize() const {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(impl_->registry->Collect());
}

}  // namespace gantry::controller
