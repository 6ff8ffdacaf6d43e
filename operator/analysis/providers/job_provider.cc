#include "operator/analysis/providers/job_provider.h"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

namespace gantry::analysis {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kJobGvk{"batch", "v1", "Job"};

// FNV-1a, for a short stable suffix of an over-long name.
uint32_t Fnv1a(std::string_view text) {
  uint32_t h = 2166136261u;
  for (unsigned char c : text) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// The condition of `type` with status True in a Job's status, or null.
const json* TrueCondition(const json& job, std::string_view type) {
  auto status = job.find("status");
  if (status == job.end() || !status->is_object()) return nullptr;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return nullptr;
  for (const json& c : *conditions) {
    if (c.is_object() && c.value("type", "") == type && c.value("status", "") == "True") return &c;
  }
  return nullptr;
}

class JobProvider final : public MetricProvider {
 public:
  JobProvider(kube::KubeClient& client, Clock& clock, std::string field_manager)
      : client_(client), clock_(clock), field_manager_(std::move(field_manager)) {}

  std::string_view Type() const override { return "job"; }

  api::Measurement Run(const MeasurementRequest& request) override {
    api::Measurement m;
    m.started_at = clock_.Now();
    const api::AnalysisRun& run = request.run;
    const api::JobMetric& spec = *request.metric.provider.job;
    int64_t taken = 0;
    if (const api::MetricResult* r = run.status.FindMetricResult(request.metric.name)) {
      taken = r->count + r->error;
    }
    const std::string name = JobName(run.metadata.name, request.metric.name, taken + 1);
    const std::string& ns = run.metadata.namespace_;

    json metadata = spec.metadata.is_object() ? spec.metadata : json::object();
    metadata["name"] = name;
    metadata["namespace"] = ns;
    metadata.erase("generateName");
    if (!metadata.contains("labels") || !metadata["labels"].is_object()) {
      metadata["labels"] = json::object();
    }
    metadata["labels"][std::string(kAnalysisRunLabel)] = run.metadata.name;
    metadata["labels"][std::string(kAnalysisMetricLabel)] = request.metric.name;
    metadata["ownerReferences"] = json::array({{{"apiVersion", std::string(api::kApiVersion)},
                                                {"kind", std::string(api::AnalysisRun::kKind)},
                                                {"name", run.metadata.name},
                                                {"uid", run.metadata.uid},
                                                {"controller", true},
                                                {"blockOwnerDeletion", true}}});
    json job = {{"apiVersion", "batch/v1"},
                {"kind", "Job"},
                {"metadata", std::move(metadata)},
                {"spec", spec.spec}};
    m.metadata[std::string(kJobNameMetadataKey)] = name;

    Result<kube::Object> created = client_.Create(job, {false, field_manager_});
    if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) {
      FinishWithError(m,
                      fmt::format("creating Job {}/{}: {}", ns, name, created.status().message()),
                      clock_.Now());
      return m;
    }
    // AlreadyExists: an earlier pass created it and its status write was lost; follow it.
    m.phase = api::AnalysisPhase::kRunning;
    m.resume_at = clock_.Now() + kJobPollInterval;
    return m;
  }

  api::Measurement Resume(const MeasurementRequest& request,
                          api::Measurement measurement) override {
    auto it = measurement.metadata.find(std::string(kJobNameMetadataKey));
    if (it == measurement.metadata.end()) {
      FinishWithError(measurement, "the measurement does not name its Job", clock_.Now());
      return measurement;
    }
    const std::string& ns = request.run.metadata.namespace_;
    Result<kube::Object> job = client_.Get({kJobGvk, ns, it->second});
    if (!job.ok()) {
      if (job.status().code() == StatusCode::kNotFound) {
        FinishWithError(measurement,
                        fmt::format("Job {}/{} was deleted before it finished", ns, it->second),
                        clock_.Now());
        return measurement;
      }
      // Transient: look again later, keeping the reason.
      measurement.message = PrintableText(job.status().message(), kMaxMeasurementMessageLength);
      measurement.resume_at = clock_.Now() + kJobPollInterval;
      return measurement;
    }
    if (const json* failed = TrueCondition(*job, "Failed")) {
      measurement.phase = api::AnalysisPhase::kFailed;
      measurement.message = PrintableText(
          fmt::format("Job {}/{} failed: {}", ns, it->second, failed->value("message", "")),
          kMaxMeasurementMessageLength);
    } else if (TrueCondition(*job, "Complete") != nullptr) {
      measurement.phase = api::AnalysisPhase::kSuccessful;
      measurement.message.clear();
    } else {
      measurement.phase = api::AnalysisPhase::kRunning;
      measurement.resume_at = clock_.Now() + kJobPollInterval;
      return measurement;
    }
    measurement.finished_at = clock_.Now();
    measurement.resume_at.reset();
    return measurement;
  }

  api::Measurement Terminate(const MeasurementRequest& request,
                             api::Measurement measurement) override {
    auto it = measurement.metadata.find(std::string(kJobNameMetadataKey));
    if (it != measurement.metadata.end()) {
      kube::DeleteOptions options;
      options.propagation_policy = kube::PropagationPolicy::kBackground;
      Status deleted =
          client_.Delete({kJobGvk, request.run.metadata.namespace_, it->second}, options);
      if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
        // Keep it Running: the next pass tries again.
        measurement.message =
            PrintableText(fmt::format("deleting Job {}: {}", it->second, deleted.message()),
                          kMaxMeasurementMessageLength);
        measurement.resume_at = clock_.Now() + kJobPollInterval;
        return measurement;
      }
    }
    measurement.phase = api::AnalysisPhase::kSuccessful;
    measurement.message = "Metric Terminated";
    measurement.finished_at = clock_.Now();
    measurement.resume_at.reset();
    return measurement;
  }

 private:
  kube::KubeClient& client_;
  Clock& clock_;
  const std::string field_manager_;
};

}  // namespace

std::string JobName(std::string_view run, std::string_view metric, int64_t n) {
  std::string name = fmt::format("{}-{}-{}", run, metric, n);
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '-';
  }
  constexpr size_t kMax = 63;
  if (name.size() <= kMax) return name;
  std::string suffix = fmt::format("-{:08x}", Fnv1a(name));
  std::string head = name.substr(0, kMax - suffix.size());
  while (!head.empty() && (head.back() == '-' || head.back() == '.')) head.pop_back();
  return head + suffix;
}

std::unique_ptr<MetricProvider> NewJobProvider(kube::KubeClient& client, Clock& clock,
                                               std::string field_manager) {
  return std::make_unique<JobProvider>(client, clock, std::move(field_manager));
}

}  // namespace gantry::analysis
