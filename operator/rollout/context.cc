#include "operator/rollout/context.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "operator/rollout/traffic_router.h"

namespace gantry::rollout {

RolloutContext::RolloutContext(const Collaborators& d, ObjectReader& r, api::Rollout read,
                               kube::Object obj)
    : deps(d),
      client(d.client),
      reader(r),
      now(d.clock.Now()),
      rollout(std::move(read)),
      old_status(rollout.status),
      object(std::move(obj)),
      pause(old_status) {}

RolloutContext::~RolloutContext() = default;

ReplicaSetInfo* RolloutContext::FindRs(std::string_view hash) {
  if (hash.empty()) return nullptr;
  for (ReplicaSetInfo& rs : replica_sets) {
    if (rs.hash == hash) return &rs;
  }
  return nullptr;
}

ReplicaSetInfo* RolloutContext::NewRs() { return FindRs(current_hash); }

ReplicaSetInfo* RolloutContext::StableRs() { return FindRs(rollout.status.stable_rs); }

std::vector<ReplicaSetInfo*> RolloutContext::OlderRs() {
  std::vector<ReplicaSetInfo*> out;
  for (ReplicaSetInfo& rs : replica_sets) {
    if (rs.hash != current_hash && rs.hash != rollout.status.stable_rs) out.push_back(&rs);
  }
  return out;
}

std::string RolloutContext::Key() const { return rollout.metadata.Key(); }

OwnerInfo RolloutContext::Owner() const {
  return OwnerInfo{std::string(api::kApiVersion), std::string(api::Rollout::kKind),
                   rollout.metadata.name, rollout.metadata.uid};
}

int32_t RolloutContext::Replicas() const {
  return static_cast<int32_t>(std::clamp<int64_t>(rollout.spec.replicas, 0, INT32_MAX));
}

void RolloutContext::RequeueAfter(Clock::Duration d) {
  if (d < Clock::Duration::zero()) d = Clock::Duration::zero();
  if (!requeue_after_ || d < *requeue_after_) requeue_after_ = d;
}

void RolloutContext::Normal(std::string reason, std::string message) {
  spdlog::info("Rollout {}: {}: {}", Key(), reason, message);
  if (deps.events) deps.events(object, RolloutEvent{false, std::move(reason), std::move(message)});
}

void RolloutContext::Warning(std::string reason, std::string message) {
  spdlog::warn("Rollout {}: {}: {}", Key(), reason, message);
  if (deps.events) deps.events(object, RolloutEvent{true, std::move(reason), std::move(message)});
}

}  // namespace gantry::rollout
