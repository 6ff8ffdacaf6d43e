// The MetricProviderFactory the operator uses: Prometheus and web over one HttpClient, Job
// through the KubeClient. Safe from any thread.
#pragma once

#include <memory>
#include <string>

#include "operator/analysis/providers/http_client.h"
#include "operator/analysis/providers/metric_provider.h"
#include "operator/common/clock.h"
#include "operator/kube/kube_client.h"

namespace gantry::analysis {

// `http`, `client` and `clock` must outlive the factory and its providers.
std::unique_ptr<MetricProviderFactory> NewMetricProviderFactory(
    HttpClient& http, kube::KubeClient& client, Clock& clock, std::string field_manager = "gantry");

}  // namespace gantry::analysis
