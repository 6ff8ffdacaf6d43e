// The GitOps sync metrics of DESIGN.md §3:
//   gantry_git_fetch_duration_seconds                         histogram, one sample per fetch
//   gantry_webhook_requests_total{provider,result}            counter per webhook request
//   gantry_apply_objects_total{action}                        created|configured|unchanged|pruned
//   gantry_application_info{namespace,name,sync_status,health} 1, one series per Application
// Safe from any thread (the implementation's one mutex guards the application series map).
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace gantry::reconcilers {

class SyncMetrics {
 public:
  virtual ~SyncMetrics() = default;
  virtual void ObserveGitFetch(double seconds) = 0;
  // provider: github|gitlab|generic|none; result: accepted|unauthorized|not_found|too_large|...
  virtual void CountWebhook(std::string_view provider, std::string_view result) = 0;
  virtual void CountApply(std::string_view action, int n = 1) = 0;
  // Replaces the Application's series (the old sync/health labels are dropped).
  virtual void RecordApplication(const std::string& ns, const std::string& name,
                                 std::string_view sync_status, std::string_view health) = 0;
  virtual void ForgetApplication(const std::string& ns, const std::string& name) = 0;
};

// Metrics registered in `registry`, which must outlive the returned object.
std::unique_ptr<SyncMetrics> NewPrometheusSyncMetrics(prometheus::Registry& registry);

// Metrics that go nowhere, for tests that do not look at them.
std::unique_ptr<SyncMetrics> NewNullSyncMetrics();

}  // namespace gantry::reconcilers
