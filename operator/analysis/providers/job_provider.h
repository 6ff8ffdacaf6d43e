// The Job metric provider: a batch/v1 Job per measurement; the Job's outcome is the phase.
//
// Run creates Job `<run>-<metric>-<n>` (n = 1 + the measurements taken so far; shortened with a
// hash when longer than 63 characters) in the run's namespace from provider.job.spec and
// .metadata, owned by the AnalysisRun (controller reference, so deleting the run deletes its
// Jobs) and labelled with the run and metric. The measurement is Running, with the Job's name
// in measurement.metadata["job-name"] and resumeAt a poll interval later. Resume reads the Job:
// condition Complete=True is Successful, Failed=True is Failed (with the condition's message),
// anything else still Running; a Job that vanished is an Error. Terminate deletes the Job with
// background propagation (its pods follow). Idempotent: a Job that already exists under the
// name (a status write lost after Create) is adopted, a Job already deleted is fine.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "operator/analysis/providers/metric_provider.h"
#include "operator/common/clock.h"
#include "operator/kube/kube_client.h"

namespace gantry::analysis {

inline constexpr std::chrono::seconds kJobPollInterval{5};
inline constexpr std::string_view kJobNameMetadataKey = "job-name";
inline constexpr std::string_view kAnalysisRunLabel = "gantry.io/analysis-run";
inline constexpr std::string_view kAnalysisMetricLabel = "gantry.io/analysis-metric";

// "<run>-<metric>-<n>", lowercased, at most 63 characters (a longer name keeps its start and
// ends in a hash of the whole).
std::string JobName(std::string_view run, std::string_view metric, int64_t n);

// `client` and `clock` must outlive the provider. `field_manager` names Gantry's writes.
std::unique_ptr<MetricProvider> NewJobProvider(kube::KubeClient& client, Clock& clock,
                                               std::string field_manager = "gantry");

}  // namespace gantry::analysis
