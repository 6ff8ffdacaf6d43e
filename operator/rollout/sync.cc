#include "operator/rollout/sync.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>
#include <vector>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kReplicaSet{"apps", "v1", "ReplicaSet"};

kube::ResourceRef RefOf(const RolloutContext& ctx, const std::string& name) {
  return kube::ResourceRef{kReplicaSet, ctx.rollout.metadata.namespace_, name};
}

// Adds the Rollout as controller of an orphan ReplicaSet, keeping its other owners.
Result<kube::Object> Adopt(RolloutContext& ctx, const kube::Object& rs) {
  json owners = json::array();
  if (rs["metadata"].contains("ownerReferences") && rs["metadata"]["ownerReferences"].is_array()) {
    owners = rs["metadata"]["ownerReferences"];
  }
  owners.push_back(ControllerReference(ctx.Owner()));
  // The resourceVersion makes the adoption fail if someone else adopted it meanwhile.
  json patch = {{"metadata",
                 {{"ownerReferences", owners},
                  {"resourceVersion", rs["metadata"].value("resourceVersion", "")}}}};
  const kube::ResourceRef ref = RefOf(ctx, rs["metadata"].value("name", ""));
  Result<kube::Object> adopted =
      ctx.client.Patch(ref, kube::PatchType::kMerge, patch, {false, ctx.deps.field_manager, ""});
  if (adopted.ok()) ctx.reader.Wrote(ref, kube::ResourceVersionOf(rs));
  return adopted;
}

// Tells the pass's reader that `rs` (as it was before) was just written.
void NoteWrite(RolloutContext& ctx, const ReplicaSetInfo& rs) {
  ctx.reader.Wrote(RefOf(ctx, rs.name), kube::ResourceVersionOf(rs.object));
}

}  // namespace

Status LoadReplicaSets(RolloutContext& ctx) {
  const api::Rollout& r = ctx.rollout;
  ctx.current_hash = ComputePodTemplateHash(r.spec.pod_template, r.status.collision_count);
  Result<kube::LabelSelector> selector = kube::LabelSelector::Parse(r.spec.selector.ToString());
  if (!selector.ok()) {
    return selector.status().WithContext(fmt::format("spec.selector of Rollout {}", ctx.Key()));
  }
  Result<std::vector<kube::ObjectPtr>> list =
      ctx.reader.List(kReplicaSet, r.metadata.namespace_, *selector);
  if (!list.ok()) {
    return list.status().WithContext(fmt::format("listing ReplicaSets of Rollout {}", ctx.Key()));
  }
  ctx.replica_sets.clear();
  for (const kube::ObjectPtr& item : *list) {
    ReplicaSetInfo rs = ReadReplicaSet(*item);
    if (rs.being_deleted) continue;
    if (rs.controller_uid == r.metadata.uid) {
      ctx.replica_sets.push_back(std::move(rs));
      continue;
    }
    if (!rs.controller_uid.empty() || rs.hash.empty()) continue;
    Result<kube::Object> adopted = Adopt(ctx, rs.object);
    if (!adopted.ok()) {
      return adopted.status().WithContext(fmt::format("adopting ReplicaSet {}", rs.name));
    }
    ctx.Normal("ReplicaSetAdopted", fmt::format("Adopted orphan ReplicaSet {}", rs.name));
    ctx.replica_sets.push_back(ReadReplicaSet(std::move(adopted).value()));
  }
  if (ctx.NewRs() == nullptr) {
    // A template copied back from one of our ReplicaSets (undo) hashes differently from the
    // one that ReplicaSet was made for, because the API server filled in defaults; it is still
    // that ReplicaSet's template, so use it rather than start a twin.
    for (const ReplicaSetInfo& rs : ctx.replica_sets) {
      if (!rs.hash.empty() && SameTemplate(r.spec.pod_template, rs.object["spec"]["template"])) {
        ctx.current_hash = rs.hash;
        break;
      }
    }
  }
  return Status::Ok();
}

Result<bool> EnsureNewReplicaSet(RolloutContext& ctx) {
  const api::Rollout& r = ctx.rollout;
  const int64_t max_revision = MaxRevision(ctx.replica_sets);
  if (ReplicaSetInfo* rs = ctx.NewRs()) {
    const json& live_template = rs->object["spec"]["template"];
    if (!TemplateMatches(r.spec.pod_template, live_template)) {
      // Someone edited our ReplicaSet's template, or two templates share a hash: either way
      // this name cannot serve the current template.
      ctx.rollout.status.collision_count = r.status.collision_count.value_or(0) + 1;
      ctx.Warning("HashCollision",
                  fmt::format("ReplicaSet {} does not hold the current pod template; using "
                              "collisionCount {} for a new name",
                              rs->name, *ctx.rollout.status.collision_count));
      ctx.RequeueAfter(Clock::Duration::zero());
      return false;
    }
    bool others_newer = false;
    for (const ReplicaSetInfo& other : ctx.replica_sets) {
      if (&other != rs && other.revision >= rs->revision) others_newer = true;
    }
    if (others_newer) {
      const int64_t revision = max_revision + 1;
      json patch = {
          {"metadata",
           {{"annotations", {{std::string(kRevisionAnnotation), std::to_string(revision)}}}}}};
      Result<kube::Object> patched = ctx.client.Patch(RefOf(ctx, rs->name), kube::PatchType::kMerge,
                                                      patch, {false, ctx.deps.field_manager, ""});
      if (!patched.ok()) {
        return patched.status().WithContext(
            fmt::format("setting revision of ReplicaSet {}", rs->name));
      }
      NoteWrite(ctx, *rs);
      ctx.Normal("RolloutUpdated",
                 fmt::format("Reusing ReplicaSet {} as revision {}", rs->name, revision));
      *rs = ReadReplicaSet(std::move(patched).value());
    }
    return true;
  }

  NewReplicaSetParams p;
  p.ns = r.metadata.namespace_;
  p.owner = ctx.Owner();
  p.pod_template = r.spec.pod_template;
  p.selector = nlohmann::json::object();
  if (!r.spec.selector.match_labels.empty()) {
    p.selector["matchLabels"] = r.spec.selector.match_labels;
  }
  if (!r.spec.selector.match_expressions.empty()) {
    json exprs = json::array();
    for (const auto& e : r.spec.selector.match_expressions) {
      json item = {{"key", e.key}, {"operator", e.operator_}};
      if (!e.values.empty()) item["values"] = e.values;
      exprs.push_back(std::move(item));
    }
    p.selector["matchExpressions"] = std::move(exprs);
  }
  p.hash = ctx.current_hash;
  p.revision = max_revision + 1;
  p.replicas = 0;
  p.min_ready_seconds = r.spec.min_ready_seconds;
  const json desired = NewReplicaSet(p);
  const std::string name = desired["metadata"]["name"];
  Result<kube::Object> created = ctx.client.Create(desired, {false, ctx.deps.field_manager});
  if (created.ok()) {
    ctx.reader.Wrote(RefOf(ctx, name), "");
    ctx.Normal("NewReplicaSetCreated",
               fmt::format("Created ReplicaSet {} (revision {})", name, p.revision));
    ctx.replica_sets.push_back(ReadReplicaSet(std::move(created).value()));
    return true;
  }
  if (created.status().code() != StatusCode::kAlreadyExists) {
    return created.status().WithContext(fmt::format("creating ReplicaSet {}", name));
  }
  // The name is taken. Ours but not yet in the list we read (a stale read)? Then use it. Read
  // from the server: the cache may be what is stale.
  Result<kube::Object> existing = ctx.client.Get(RefOf(ctx, name));
  if (!existing.ok())
    return existing.status().WithContext(fmt::format("reading ReplicaSet {}", name));
  ReplicaSetInfo rs = ReadReplicaSet(std::move(existing).value());
  const bool ours = rs.controller_uid == r.metadata.uid;
  if (ours && rs.hash == ctx.current_hash &&
      TemplateMatches(r.spec.pod_template, rs.object["spec"]["template"])) {
    ctx.replica_sets.push_back(std::move(rs));
    return true;
  }
  ctx.rollout.status.collision_count = r.status.collision_count.value_or(0) + 1;
  ctx.Warning("HashCollision",
              fmt::format("ReplicaSet {} already exists with another template or owner; using "
                          "collisionCount {} for a new name",
                          name, *ctx.rollout.status.collision_count));
  ctx.RequeueAfter(Clock::Duration::zero());
  return false;
}

Status ScaleReplicaSet(RolloutContext& ctx, ReplicaSetInfo& rs, int32_t replicas) {
  if (rs.desired == replicas) {
    if (rs.scale_down_deadline && replicas == 0) return ClearScaleDownDeadline(ctx, rs);
    return Status::Ok();
  }
  Result<kube::Object> patched =
      ctx.client.Patch(RefOf(ctx, rs.name), kube::PatchType::kMerge,
                       ScalePatch(replicas, std::nullopt), {false, ctx.deps.field_manager, ""});
  if (!patched.ok()) {
    return patched.status().WithContext(
        fmt::format("scaling ReplicaSet {} to {}", rs.name, replicas));
  }
  NoteWrite(ctx, rs);
  ctx.Normal("ScalingReplicaSet", fmt::format("Scaled {} ReplicaSet {} (revision {}) from {} to {}",
                                              replicas > rs.desired ? "up" : "down", rs.name,
                                              rs.revision, rs.desired, replicas));
  rs = ReadReplicaSet(std::move(patched).value());
  ctx.scaled = true;
  return Status::Ok();
}

Status SetScaleDownDeadline(RolloutContext& ctx, ReplicaSetInfo& rs, Clock::TimePoint deadline) {
  if (rs.scale_down_deadline) return Status::Ok();
  json patch = {
      {"metadata",
       {{"annotations", {{std::string(kScaleDownDeadlineAnnotation), FormatRfc3339(deadline)}}}}}};
  Result<kube::Object> patched = ctx.client.Patch(RefOf(ctx, rs.name), kube::PatchType::kMerge,
                                                  patch, {false, ctx.deps.field_manager, ""});
  if (!patched.ok()) {
    return patched.status().WithContext(fmt::format("annotating ReplicaSet {}", rs.name));
  }
  NoteWrite(ctx, rs);
  spdlog::info("Rollout {}: ReplicaSet {} will scale down at {}", ctx.Key(), rs.name,
               FormatRfc3339(deadline));
  rs = ReadReplicaSet(std::move(patched).value());
  return Status::Ok();
}

Status ClearScaleDownDeadline(RolloutContext& ctx, ReplicaSetInfo& rs) {
  if (!rs.scale_down_deadline) return Status::Ok();
  json patch = {
      {"metadata", {{"annotations", {{std::string(kScaleDownDeadlineAnnotation), nullptr}}}}}};
  Result<kube::Object> patched = ctx.client.Patch(RefOf(ctx, rs.name), kube::PatchType::kMerge,
                                                  patch, {false, ctx.deps.field_manager, ""});
  if (!patched.ok()) {
    return patched.status().WithContext(fmt::format("annotating ReplicaSet {}", rs.name));
  }
  NoteWrite(ctx, rs);
  rs = ReadReplicaSet(std::move(patched).value());
  return Status::Ok();
}

Status PruneHistory(RolloutContext& ctx) {
  const api::RolloutStatus& st = ctx.rollout.status;
  std::set<std::string> keep;
  for (const std::string& hash : {ctx.current_hash, st.stable_rs, st.blue_green.active_selector,
                                  st.blue_green.preview_selector}) {
    if (const ReplicaSetInfo* rs = ctx.FindRs(hash)) keep.insert(rs->name);
  }
  const auto limit = static_cast<int32_t>(
      std::clamp<int64_t>(ctx.rollout.spec.revision_history_limit, 0, INT32_MAX));
  for (const std::string& name : ReplicaSetsToPrune(ctx.replica_sets, keep, limit)) {
    kube::DeleteOptions options;
    for (const ReplicaSetInfo& rs : ctx.replica_sets) {
      if (rs.name == name) options.precondition_uid = kube::UidOf(rs.object);
    }
    Status s = ctx.client.Delete(RefOf(ctx, name), options);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      return s.WithContext(fmt::format("deleting old ReplicaSet {}", name));
    }
    spdlog::info("Rollout {}: deleted ReplicaSet {} (beyond revisionHistoryLimit {})", ctx.Key(),
                 name, limit);
  }
  return Status::Ok();
}

}  // namespace gantry::rollout
