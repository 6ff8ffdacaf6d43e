// The Rollout metrics of DESIGN.md §3:
//   gantry_rollout_info{namespace,name,strategy,phase} 1   one series per Rollout
//   gantry_rollout_canary_weight{namespace,name}           the canary's traffic share, 0..100
// Recorded after every pass; forgotten when the Rollout is deleted. Safe from any thread (one
// mutex, named in the implementation, guards the series map).
#pragma once

#include <memory>
#include <string>

#include "operator/api/rollout.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace gantry::rollout {

class RolloutMetrics {
 public:
  virtual ~RolloutMetrics() = default;
  // `weight` is the canary's share of traffic now (0 when fully promoted).
  virtual void Record(const api::Rollout& rollout, int32_t weight) = 0;
  virtual void Forget(const std::string& ns, const std::string& name) = 0;
};

// Metrics registered in `registry`, which must outlive the returned object.
std::unique_ptr<RolloutMetrics> NewPrometheusRolloutMetrics(prometheus::Registry& registry);

}  // namespace gantry::rollout
