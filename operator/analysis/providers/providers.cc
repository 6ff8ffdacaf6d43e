#include "operator/analysis/providers/providers.h"

#include <utility>

#include "operator/analysis/providers/job_provider.h"
#include "operator/analysis/providers/prometheus_provider.h"
#include "operator/analysis/providers/web_provider.h"

namespace gantry::analysis {
namespace {

class DefaultMetricProviderFactory final : public MetricProviderFactory {
 public:
  DefaultMetricProviderFactory(HttpClient& http, kube::KubeClient& client, Clock& clock,
                               std::string field_manager)
      : prometheus_(NewPrometheusProvider(http, clock)),
        web_(NewWebProvider(http, clock)),
        job_(NewJobProvider(client, clock, std::move(field_manager))) {}

  MetricProvider* ProviderFor(const api::Metric& metric) override {
    if (metric.provider.prometheus.has_value()) return prometheus_.get();
    if (metric.provider.web.has_value()) return web_.get();
    if (metric.provider.job.has_value()) return job_.get();
    return nullptr;
  }

 private:
  std::unique_ptr<MetricProvider> prometheus_;
  std::unique_ptr<MetricProvider> web_;
  std::unique_ptr<MetricProvider> job_;
};

}  // namespace

std::unique_ptr<MetricProviderFactory> NewMetricProviderFactory(HttpClient& http,
                                                                kube::KubeClient& client,
                                                                Clock& clock,
                                                                std::string field_manager) {
  return std::make_unique<DefaultMetricProviderFactory>(http, client, clock,
                                                        std::move(field_manager));
}

}  // namespace gantry::analysis
