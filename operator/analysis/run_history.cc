#include "operator/analysis/run_history.h"

#include <fmt/format.h>

#include <algorithm>

namespace gantry::analysis {

std::vector<std::string> AnalysisRunsToDelete(const std::vector<api::AnalysisRun>& runs,
                                              const std::set<std::string>& in_use,
                                              size_t keep_successful, size_t keep_unsuccessful) {
  std::vector<const api::AnalysisRun*> finished;
  for (const api::AnalysisRun& run : runs) {
    if (api::IsTerminal(run.status.phase) && in_use.count(run.metadata.name) == 0) {
      finished.push_back(&run);
    }
  }
  std::sort(finished.begin(), finished.end(),
            [](const api::AnalysisRun* a, const api::AnalysisRun* b) {
              const api::Time ta = a->metadata.creation_timestamp.value_or(api::Time{});
              const api::Time tb = b->metadata.creation_timestamp.value_or(api::Time{});
              if (ta != tb) return ta > tb;
              return a->metadata.name > b->metadata.name;
            });
  std::vector<std::string> out;
  size_t successful = 0;
  size_t unsuccessful = 0;
  for (const api::AnalysisRun* run : finished) {
    const bool ok = run->status.phase == api::AnalysisPhase::kSuccessful;
    size_t& seen = ok ? successful : unsuccessful;
    if (++seen > (ok ? keep_successful : keep_unsuccessful)) out.push_back(run->metadata.name);
  }
  return out;
}

Status DeleteOldAnalysisRuns(kube::KubeClient& client, const std::vector<api::AnalysisRun>& runs,
                             const std::set<std::string>& in_use, size_t keep_successful,
                             size_t keep_unsuccessful) {
  if (runs.empty()) return Status::Ok();
  const std::string& ns = runs.front().metadata.namespace_;
  Status first;
  for (const std::string& name :
       AnalysisRunsToDelete(runs, in_use, keep_successful, keep_unsuccessful)) {
    kube::DeleteOptions options;
    options.propagation_policy = kube::PropagationPolicy::kBackground;
    Status s = client.Delete({{std::string(api::kGroup), std::string(api::kVersion),
                               std::string(api::AnalysisRun::kKind)},
                              ns,
                              name},
                             options);
    if (!s.ok() && s.code() != StatusCode::kNotFound && first.ok()) {
      first = s.WithContext(fmt::format("deleting old AnalysisRun {}/{}", ns, name));
    }
  }
  return first;
}

}  // namespace gantry::analysis
