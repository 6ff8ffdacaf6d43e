#include "operator/rollout/restart.h"

#include <fmt/format.h>

#include <algorithm>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const kube::GroupVersionKind kPod{"", "v1", "Pod"};

}  // namespace

Status ReconcileRestart(RolloutContext& ctx) {
  api::RolloutStatus& st = ctx.rollout.status;
  const auto& restart_at = ctx.rollout.spec.restart_at;
  if (!restart_at) return Status::Ok();
  if (st.restarted_at && *st.restarted_at >= *restart_at) return Status::Ok();
  if (*restart_at > ctx.now) {
    ctx.RequeueAfter(*restart_at - ctx.now);
    return Status::Ok();
  }
  if (ctx.scaled || ctx.pause.IsAborted()) return Status::Ok();

  int32_t desired = 0, available = 0;
  std::set<std::string> hashes;
  for (const ReplicaSetInfo& rs : ctx.replica_sets) {
    desired += rs.desired;
    available += rs.available;
    if (rs.desired > 0) hashes.insert(rs.hash);
  }
  kube::ListOptions options;
  options.label_selector = ctx.rollout.spec.selector.ToString();
  Result<kube::ObjectList> pods =
      ctx.client.ListAll(kPod, ctx.rollout.metadata.namespace_, options);
  if (!pods.ok())
    return pods.status().WithContext(fmt::format("listing pods of Rollout {}", ctx.Key()));

  const json* oldest = nullptr;
  Clock::TimePoint oldest_time;
  for (const json& pod : pods->items) {
    const json& meta = pod["metadata"];
    if (meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null()) continue;
    const std::string hash =
        meta.value("labels", json::object()).value(std::string(kPodTemplateHashLabel), "");
    if (!hashes.contains(hash)) continue;
    auto created = ParseRfc3339(meta.value("creationTimestamp", ""));
    if (!created || *created >= *restart_at) continue;
    if (oldest == nullptr || *created < oldest_time) {
      oldest = &pod;
      oldest_time = *created;
    }
  }
  if (oldest == nullptr) {
    st.restarted_at = *restart_at;
    ctx.Normal("RolloutRestarted", fmt::format("Every pod created before {} has been replaced",
                                               FormatRfc3339(*restart_at)));
    return Status::Ok();
  }
  if (available < desired) {
    // One pod at a time: wait until the last replacement is available.
    ctx.RequeueAfter(seconds(2));
    return Status::Ok();
  }
  const std::string name = (*oldest)["metadata"].value("name", "");
  json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", name}, {"namespace", ctx.rollout.metadata.namespace_}}}};
  Result<kube::Object> evicted =
      ctx.client.CreateSubresource({kPod, ctx.rollout.metadata.namespace_, name}, "eviction",
                                   eviction, {false, ctx.deps.field_manager});
  if (!evicted.ok()) {
    if (evicted.status().code() == StatusCode::kTooManyRequests) {
      // A PodDisruptionBudget says not now.
      ctx.RequeueAfter(seconds(5));
      return Status::Ok();
    }
    if (evicted.status().code() != StatusCode::kNotFound) {
      return evicted.status().WithContext(fmt::format("evicting pod {}", name));
    }
    // NotFound: the pod is gone already, or the server does not serve evictions; a delete
    // settles both.
    kube::DeleteOptions precondition;
    precondition.precondition_uid = kube::UidOf(*oldest);
    Status deleted = ctx.client.Delete({kPod, ctx.rollout.metadata.namespace_, name}, precondition);
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) {
      return deleted.WithContext(fmt::format("deleting pod {}", name));
    }
  }
  ctx.Normal("RestartingPod", fmt::format("Evicted pod {} for the restart requested at {}", name,
                                          FormatRfc3339(*restart_at)));
  ctx.RequeueAfter(seconds(2));
  return Status::Ok();
}

}  // namespace gantry::rollout
