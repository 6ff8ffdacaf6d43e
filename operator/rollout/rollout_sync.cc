#include "operator/rollout/rollout_sync.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "operator/analysis/run_history.h"
#include "operator/api/conditions.h"
#include "operator/rollout/analysis.h"
#include "operator/rollout/blue_green.h"
#include "operator/rollout/canary.h"
#include "operator/rollout/replica_math.h"
#include "operator/rollout/restart.h"
#include "operator/rollout/service.h"
#include "operator/rollout/status.h"
#include "operator/rollout/sync.h"
#include "operator/rollout/traffic_router.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kRolloutGvk{std::string(api::kGroup), std::string(api::kVersion),
                                         std::string(api::Rollout::kKind)};

// Writes ctx.rollout.status if it differs from what was read. Conflict when the Rollout
// changed meanwhile (a user's abort, a new template): the next pass sees both.
Status WriteStatus(RolloutContext& ctx) {
  if (ctx.rollout.status == ctx.old_status) return Status::Ok();
  json object = ctx.object;
  object["status"] = ctx.rollout.ToJson()["status"];
  Result<kube::Object> written = ctx.client.UpdateStatus(object, {false, ctx.deps.field_manager});
  if (!written.ok()) {
    return written.status().WithContext(fmt::format("writing status of Rollout {}", ctx.Key()));
  }
  ctx.reader.Wrote({kRolloutGvk, ctx.rollout.metadata.namespace_, ctx.rollout.metadata.name},
                   kube::ResourceVersionOf(ctx.object));
  return Status::Ok();
}

// An invalid spec: Degraded with the reason in status, condition and event; nothing else is
// touched. Returns the Rollout with the status written.
Result<api::Rollout> RecordInvalidSpec(const Collaborators& deps, ObjectReader& reader,
                                       const kube::Object& object, api::Rollout rollout,
                                       const Status& why) {
  const api::RolloutStatus old = rollout.status;
  api::RolloutStatus& st = rollout.status;
  const api::Time now = deps.clock.Now();
  const std::string message = "InvalidSpec: " + why.message();
  st.phase = api::RolloutPhase::kDegraded;
  st.message = message;
  st.observed_generation = rollout.metadata.generation;
  api::MarkStalled(st.conditions, rollout.metadata.generation, "InvalidSpec", why.message(), now);
  api::SetCondition(st.conditions,
                    {"InvalidSpec", std::string(api::kConditionTrue), rollout.metadata.generation,
                     std::nullopt, "InvalidSpec", why.message(), json::object()},
                    now);
  api::SetCondition(st.conditions,
                    {"Progressing", std::string(api::kConditionFalse), rollout.metadata.generation,
                     std::nullopt, "InvalidSpec", why.message(), json::object()},
                    now);
  if (old.message != message && deps.events) {
    deps.events(object, RolloutEvent{true, "InvalidSpec", why.message()});
  }
  if (!(st == old)) {
    json updated = object;
    updated["status"] = rollout.ToJson()["status"];
    Result<kube::Object> written = deps.client.UpdateStatus(updated, {false, deps.field_manager});
    if (!written.ok()) return written.status();
    reader.Wrote({kRolloutGvk, rollout.metadata.namespace_, rollout.metadata.name},
                 kube::ResourceVersionOf(object));
  }
  return rollout;
}

// Invalid on its own: no retry until the spec changes.
Result<SyncOutcome> Stall(const Collaborators& deps, ObjectReader& reader,
                          const kube::Object& object, api::Rollout rollout, const Status& why) {
  Result<api::Rollout> recorded = RecordInvalidSpec(deps, reader, object, std::move(rollout), why);
  if (!recorded.ok()) return recorded.status();
  SyncOutcome out;
  out.kind = SyncOutcome::Kind::kStalled;
  out.message = "InvalidSpec: " + why.message();
  out.rollout = std::move(recorded).value();
  return out;
}

// Invalid because a Service it names is missing: the same InvalidSpec, but Services are not
// watched, so look again after a while to notice the Service once it is created.
constexpr std::chrono::seconds kMissingServiceRecheck{10};

Result<SyncOutcome> WaitForServices(const Collaborators& deps, ObjectReader& reader,
                                    const kube::Object& object, api::Rollout rollout,
                                    const Status& why) {
  Result<api::Rollout> recorded = RecordInvalidSpec(deps, reader, object, std::move(rollout), why);
  if (!recorded.ok()) return recorded.status();
  SyncOutcome out;
  out.kind = SyncOutcome::Kind::kDone;
  out.message = "InvalidSpec: " + why.message();
  out.requeue_after = kMissingServiceRecheck;
  out.rollout = std::move(recorded).value();
  return out;
}

// The runs the Rollout's status still points at: never garbage, whatever their phase.
std::set<std::string> TrackedAnalysisRuns(const api::RolloutStatus& st) {
  std::set<std::string> names;
  for (const auto* tracked : {&st.canary.current_step_analysis_run_status,
                              &st.canary.current_background_analysis_run_status,
                              &st.blue_green.pre_promotion_analysis_run_status,
                              &st.blue_green.post_promotion_analysis_run_status}) {
    if (*tracked && !(*tracked)->name.empty()) names.insert((*tracked)->name);
  }
  return names;
}

// Keeps the newest 5 successful and 5 unsuccessful finished runs of this Rollout (Argo
// Rollouts' analysisRunHistoryLimit defaults); older ones would pile up with every retry and
// every revision. Best effort: a failed delete is logged and tried again on the next pass.
void DeleteOldRuns(RolloutContext& ctx) {
  Status s = analysis::DeleteOldAnalysisRuns(ctx.client, ctx.analysis_runs,
                                             TrackedAnalysisRuns(ctx.rollout.status));
  if (!s.ok()) spdlog::warn("Rollout {}: {}", ctx.Key(), s.ToString());
}

int32_t CanaryWeightAfter(RolloutContext& ctx) {
  const api::RolloutStatus& st = ctx.rollout.status;
  if (st.canary.weights) return static_cast<int32_t>(st.canary.weights->canary.weight);
  return 0;
}

// Without a router the canary's share is its share of available pods; recorded in
// status.canary.weights so that `kubectl get` and the CLI show it the same way.
void RecordReplicaRatio(RolloutContext& ctx) {
  if (!ctx.rollout.spec.strategy.canary || ctx.router != nullptr) return;
  api::RolloutStatus& st = ctx.rollout.status;
  const ReplicaSetInfo* n = ctx.NewRs();
  int32_t total = 0;
  for (const ReplicaSetInfo& rs : ctx.replica_sets) total += rs.available;
  const int32_t weight = st.stable_rs == ctx.current_hash || n == nullptr
                             ? 0
                             : ReplicaRatioWeight(n->available, total);
  const auto& c = *ctx.rollout.spec.strategy.canary;
  api::TrafficWeights w;
  w.canary = {weight, ctx.current_hash, c.canary_service, json::object()};
  w.stable = {100 - weight, st.stable_rs, c.stable_service, json::object()};
  st.canary.weights = std::move(w);
}

}  // namespace

Result<SyncOutcome> SyncRollout(const Collaborators& deps, const kube::ObjectKey& key) {
  std::unique_ptr<ObjectReader> api_reader;
  if (deps.reader == nullptr) api_reader = NewApiObjectReader(deps.client);
  ObjectReader& reader = deps.reader != nullptr ? *deps.reader : *api_reader;
  const kube::ResourceRef ref{kRolloutGvk, key.ns, key.name};
  Result<kube::ObjectPtr> read = reader.Get(ref);
  if (!read.ok()) {
    if (read.status().code() == StatusCode::kNotFound) {
      SyncOutcome gone;
      gone.kind = SyncOutcome::Kind::kGone;
      return gone;
    }
    return read.status().WithContext(fmt::format("reading Rollout {}", key.ToString()));
  }
  // A copy: the pass builds its writes from it, and the cached object is shared and immutable.
  kube::Object object = **read;
  if (object["metadata"].contains("deletionTimestamp")) {
    SyncOutcome gone;
    gone.kind = SyncOutcome::Kind::kGone;
    return gone;
  }
  Result<api::Rollout> decoded = api::Rollout::FromJson(object);
  if (!decoded.ok()) {
    // Not even readable: record what we can through a merge patch of the status.
    const std::string message = "InvalidSpec: " + decoded.status().message();
    json patch = {{"status", {{"phase", "Degraded"}, {"message", message}}}};
    Result<kube::Object> patched = deps.client.Patch(ref, kube::PatchType::kMerge, patch,
                                                     {false, deps.field_manager, "status"});
    if (!patched.ok()) {
      spdlog::warn("Rollout {}: {}", key.ToString(), patched.status().ToString());
    } else {
      reader.Wrote(ref, kube::ResourceVersionOf(object));
    }
    SyncOutcome out;
    out.kind = SyncOutcome::Kind::kStalled;
    out.message = message;
    return out;
  }
  if (Status valid = decoded->Validate(); !valid.ok()) {
    return Stall(deps, reader, object, std::move(decoded).value(), valid);
  }
  if (Status services = CheckReferencedServices(reader, *decoded); !services.ok()) {
    if (services.code() != StatusCode::kNotFound) return services;
    return WaitForServices(deps, reader, object, std::move(decoded).value(), services);
  }

  RolloutContext ctx(deps, reader, std::move(decoded).value(), std::move(object));
  Status s = [&]() -> Status {
    GANTRY_RETURN_IF_ERROR(LoadReplicaSets(ctx));
    Result<bool> ready = EnsureNewReplicaSet(ctx);
    if (!ready.ok()) return ready.status();
    if (!*ready) return Status::Ok();  // collision: status carries the new count
    GANTRY_RETURN_IF_ERROR(LoadAnalysisRuns(ctx));
    Result<std::unique_ptr<TrafficRouter>> router =
        NewTrafficRouter(ctx.rollout, ctx.Owner(), ctx.client, deps.field_manager);
    if (!router.ok()) return router.status();
    ctx.router = std::move(router).value();
    if (ctx.rollout.spec.strategy.blue_green) {
      GANTRY_RETURN_IF_ERROR(ReconcileBlueGreen(ctx));
    } else {
      GANTRY_RETURN_IF_ERROR(ReconcileCanary(ctx));
    }
    return ReconcileRestart(ctx);
  }();

  if (!s.ok()) {
    // Say why in status (best effort: the status write may be what fails), then back off.
    // InvalidArgument here is about other objects (an Ingress without the stable backend, a
    // template argument without a value): the Rollout is Degraded until they are fixed, and
    // retries with backoff notice the fix without a change to the Rollout.
    api::RolloutStatus& st = ctx.rollout.status;
    ctx.pause.ApplyTo(st, ctx.now);
    const bool config = s.code() == StatusCode::kInvalidArgument;
    const std::string reason = config ? "InvalidConfiguration" : "ReconcileError";
    api::MarkFailed(st.conditions, ctx.rollout.metadata.generation, reason, s.message(), ctx.now);
    if (config) {
      st.phase = api::RolloutPhase::kDegraded;
      if (ctx.old_status.message != reason + ": " + s.message()) ctx.Warning(reason, s.message());
    }
    st.message = reason + ": " + s.message();
    if (Status w = WriteStatus(ctx); !w.ok()) {
      spdlog::warn("Rollout {}: {}", ctx.Key(), w.ToString());
    }
    return s;
  }

  ctx.pause.ApplyTo(ctx.rollout.status, ctx.now);
  api::RemoveCondition(ctx.rollout.status.conditions, "InvalidSpec");  // valid again
  RecordReplicaRatio(ctx);
  FinishStatus(ctx);
  GANTRY_RETURN_IF_ERROR(WriteStatus(ctx));
  DeleteOldRuns(ctx);

  SyncOutcome out;
  out.kind = SyncOutcome::Kind::kDone;
  out.requeue_after = ctx.requeue_after();
  if (!out.requeue_after && ctx.rollout.status.phase == api::RolloutPhase::kProgressing) {
    // Waiting for pods: the ReplicaSet watch brings us back, but look again anyway in case a
    // change is missed, and to notice the progress deadline.
    out.requeue_after = std::chrono::seconds(10);
  }
  out.canary_weight = CanaryWeightAfter(ctx);
  out.rollout = std::move(ctx.rollout);
  return out;
}

}  // namespace gantry::rollout
