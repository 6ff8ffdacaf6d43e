#include "operator/reconcilers/application_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <utility>

namespace gantry::reconcilers {
namespace {

class PrometheusSyncMetrics final : public SyncMetrics {
 public:
  explicit PrometheusSyncMetrics(prometheus::Registry& registry)
      : fetch_(prometheus::BuildHistogram()
                   .Name("gantry_git_fetch_duration_seconds")
                   .Help("Time taken by one Git fetch of a GitRepository, ref listing included")
                   .Register(registry)
                   .Add({}, prometheus::Histogram::BucketBoundaries{0.01, 0.05, 0.1, 0.25, 0.5, 1,
                                                                    2.5, 5, 10, 30, 60})),
        webhooks_(prometheus::BuildCounter()
                      .Name("gantry_webhook_requests_total")
                      .Help("Webhook requests received, by provider and result")
                      .Register(registry)),
        applies_(prometheus::BuildCounter()
                     .Name("gantry_apply_objects_total")
                     .Help("Objects handled by Application syncs, by action")
                     .Register(registry)),
        info_(prometheus::BuildGauge()
                  .Name("gantry_application_info")
                  .Help("One series per Application with its sync status and health")
                  .Register(registry)) {}

  void ObserveGitFetch(double seconds) override { fetch_.Observe(seconds); }

  void CountWebhook(std::string_view provider, std::string_view result) override {
    webhooks_.Add({{"provider", std::string(provider)}, {"result", std::string(result)}})
        .Increment();
  }

  void CountApply(std::string_view action, int n) override {
    applies_.Add({{"action", std::string(action)}}).Increment(n);
  }

  void RecordApplication(const std::string& ns, const std::string& name,
                         std::string_view sync_status, std::string_view health) override {
    std::lock_guard lock(mu_);
    auto key = std::make_pair(ns, name);
    if (auto it = series_.find(key); it != series_.end()) info_.Remove(it->second);
    series_[key] = &info_.Add({{"namespace", ns},
                               {"name", name},
                               {"sync_status", std::string(sync_status)},
                               {"health", std::string(health)}});
    series_[key]->Set(1);
  }

  void ForgetApplication(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = series_.find(std::make_pair(ns, name));
    if (it == series_.end()) return;
    info_.Remove(it->second);
    series_.erase(it);
  }

 private:
  prometheus::Histogram& fetch_;
  prometheus::Family<prometheus::Counter>& webhooks_;
  prometheus::Family<prometheus::Counter>& applies_;
  prometheus::Family<prometheus::Gauge>& info_;
  std::mutex mu_;  // guards series_
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> series_;
};

class NullSyncMetrics final : public SyncMetrics {
 public:
  void ObserveGitFetch(double) override {}
  void CountWebhook(std::string_view, std::string_view) override {}
  void CountApply(std::string_view, int) override {}
  void RecordApplication(const std::string&, const std::string&, std::string_view,
                         std::string_view) override {}
  void ForgetApplication(const std::string&, const std::string&) override {}
};

}  // namespace

std::unique_ptr<SyncMetrics> NewPrometheusSyncMetrics(prometheus::Registry& registry) {
  return std::make_unique<PrometheusSyncMetrics>(registry);
}

std::unique_ptr<SyncMetrics> NewNullSyncMetrics() { return std::make_unique<NullSyncMetrics>(); }

}  // namespace gantry::reconcilers
