#include "operator/rollout/metrics.h"

#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <mutex>
#include <utility>

namespace gantry::rollout {
namespace {

class PrometheusRolloutMetrics final : public RolloutMetrics {
 public:
  explicit PrometheusRolloutMetrics(prometheus::Registry& registry)
      : info_(prometheus::BuildGauge()
                  .Name("gantry_rollout_info")
                  .Help("One series per Rollout with its strategy and phase; value always 1")
                  .Register(registry)),
        weight_(prometheus::BuildGauge()
                    .Name("gantry_rollout_canary_weight")
                    .Help("Percentage of traffic the canary of a Rollout receives")
                    .Register(registry)) {}

  void Record(const api::Rollout& rollout, int32_t weight) override {
    const std::string ns = rollout.metadata.namespace_;
    const std::string name = rollout.metadata.name;
    const std::string strategy = rollout.spec.strategy.blue_green ? "blueGreen" : "canary";
    const std::string phase =
        rollout.status.phase ? std::string(api::ToString(*rollout.status.phase)) : "Progressing";
    std::lock_guard lock(mu_);
    Series& s = series_[{ns, name}];
    const std::map<std::string, std::string> labels = {
        {"namespace", ns}, {"name", name}, {"strategy", strategy}, {"phase", phase}};
    if (s.info != nullptr && s.info_labels != labels) {
      info_.Remove(s.info);
      s.info = nullptr;
    }
    if (s.info == nullptr) {
      s.info = &info_.Add(labels);
      s.info_labels = labels;
    }
    s.info->Set(1);
    if (s.weight == nullptr) s.weight = &weight_.Add({{"namespace", ns}, {"name", name}});
    s.weight->Set(weight);
  }

  void Forget(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mu_);
    auto it = series_.find({ns, name});
    if (it == series_.end()) return;
    if (it->second.info != nullptr) info_.Remove(it->second.info);
    if (it->second.weight != nullptr) weight_.Remove(it->second.weight);
    series_.erase(it);
  }

 private:
  struct Series {
    prometheus::Gauge* info = nullptr;
    std::map<std::string, std::string> info_labels;
    prometheus::Gauge* weight = nullptr;
  };

  prometheus::Family<prometheus::Gauge>& info_;
  prometheus::Family<prometheus::Gauge>& weight_;
  std::mutex mu_;  // guards series_
  std::map<std::pair<std::string, std::string>, Series> series_;
};

}  // namespace

std::unique_ptr<RolloutMetrics> NewPrometheusRolloutMetrics(prometheus::Registry& registry) {
  return std::make_unique<PrometheusRolloutMetrics>(registry);
}

}  // namespace gantry::rollout
