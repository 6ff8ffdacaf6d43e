#include "operator/controller/reconcile_request.h"

#include <fmt/format.h>

#include <chrono>

namespace gantry::controller {

std::string ReconcileRequestStamp(Clock::TimePoint t) {
  std::string seconds = FormatRfc3339(t);  // "YYYY-MM-DDTHH:MM:SSZ"
  auto since_second =
      t.time_since_epoch() - std::chrono::floor<std::chrono::seconds>(t.time_since_epoch());
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_second).count();
  seconds.pop_back();  // the "Z"
  return fmt::format("{}.{:09d}Z", seconds, nanos);
}

Status AnnotateReconcileRequest(kube::KubeClient& client, Clock& clock,
                                const kube::ResourceRef& object) {
  kube::Object patch = {
      {"metadata",
       {{"annotations",
         {{std::string(kReconcileRequestedAtAnnotation), ReconcileRequestStamp(clock.Now())}}}}}};
  Result<kube::Object> patched = client.Patch(object, kube::PatchType::kMerge, patch);
  if (!patched.ok()) {
    return patched.status().WithContext("requesting a reconcile of " + object.ToString());
  }
  return Status::Ok();
}

}  // namespace gantry::controller
