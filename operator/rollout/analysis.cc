#include "operator/rollout/analysis.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

kube::GroupVersionKind Gvk(std::string_view kind) {
  return {std::string(api::kGroup), std::string(api::kVersion), std::string(kind)};
}

Result<FetchedTemplate> FetchTemplate(RolloutContext& ctx, const api::AnalysisTemplateRef& ref) {
  const std::string kind(ref.cluster_scope ? api::ClusterAnalysisTemplate::kKind
                                           : api::AnalysisTemplate::kKind);
  const std::string ns = ref.cluster_scope ? "" : ctx.rollout.metadata.namespace_;
  Result<kube::ObjectPtr> got = ctx.reader.Get({Gvk(kind), ns, ref.template_name});
  if (!got.ok()) {
    return got.status().WithContext(
        fmt::format("{} {} referenced by Rollout {}", kind, ref.template_name, ctx.Key()));
  }
  FetchedTemplate t;
  t.name = ref.template_name;
  t.cluster_scope = ref.cluster_scope;
  if (ref.cluster_scope) {
    auto parsed = api::ClusterAnalysisTemplate::FromJson(**got);
    if (!parsed.ok()) return parsed.status();
    t.spec = std::move(parsed->spec);
  } else {
    auto parsed = api::AnalysisTemplate::FromJson(**got);
    if (!parsed.ok()) return parsed.status();
    t.spec = std::move(parsed->spec);
  }
  return t;
}

bool IsControlledBy(const api::AnalysisRun& run, const std::string& uid) {
  const json& owners = run.metadata.extra.value("ownerReferences", json::array());
  for (const json& o : owners) {
    if (o.value("controller", false) && o.value("uid", "") == uid) return true;
  }
  return false;
}

api::AnalysisRun* FindRun(RolloutContext& ctx, const std::string& name) {
  for (api::AnalysisRun& run : ctx.analysis_runs) {
    if (run.metadata.name == name) return &run;
  }
  return nullptr;
}

// A run of this analysis from an earlier pass whose status write was lost: same base name,
// still going, not told to stop.
api::AnalysisRun* FindUnrecordedRun(RolloutContext& ctx, const std::string& base) {
  for (api::AnalysisRun& run : ctx.analysis_runs) {
    const std::string& n = run.metadata.name;
    const bool same = n == base || (n.size() > base.size() &&
                                    n.compare(0, base.size(), base) == 0 && n[base.size()] == '.');
    if (same && !api::IsTerminal(run.status.phase) && !run.spec.terminate) return &run;
  }
  return nullptr;
}

Result<api::AnalysisRun*> CreateRun(RolloutContext& ctx, AnalysisKind kind,
                                    const api::RolloutAnalysis& analysis,
                                    std::optional<int64_t> step_index, const std::string& base) {
  std::vector<FetchedTemplate> templates;
  for (const api::AnalysisTemplateRef& ref : analysis.templates) {
    Result<FetchedTemplate> t = FetchTemplate(ctx, ref);
    if (!t.ok()) return t.status();
    templates.push_back(std::move(t).value());
  }
  const ReplicaSetInfo* new_rs = ctx.NewRs();
  AnalysisRunParams p;
  p.ns = ctx.rollout.metadata.namespace_;
  p.owner = ctx.Owner();
  p.rollout_json = ctx.object;
  p.kind = kind;
  p.step_index = step_index;
  p.latest_hash = ctx.current_hash;
  p.stable_hash = ctx.rollout.status.stable_rs;
  p.revision = new_rs != nullptr ? new_rs->revision : 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    p.name = attempt == 0 ? base : fmt::format("{}.{}", base, attempt);
    if (FindRun(ctx, p.name) != nullptr) continue;
    Result<api::AnalysisRun> run = BuildAnalysisRun(analysis, templates, p);
    if (!run.ok()) return run.status();
    Result<kube::Object> created =
        ctx.client.Create(run->ToJson(), {false, ctx.deps.field_manager});
    if (!created.ok()) {
      if (created.status().code() == StatusCode::kAlreadyExists) continue;
      return created.status().WithContext(fmt::format("creating AnalysisRun {}", p.name));
    }
    ctx.reader.Wrote({Gvk(api::AnalysisRun::kKind), p.ns, p.name}, "");
    Result<api::AnalysisRun> stored = api::AnalysisRun::FromJson(*created);
    if (!stored.ok()) return stored.status();
    ctx.Normal("AnalysisRunCreated",
               fmt::format("Created {} AnalysisRun {}", AnalysisKindName(kind), p.name));
    ctx.analysis_runs.push_back(std::move(stored).value());
    return &ctx.analysis_runs.back();
  }
  return Internal(fmt::format("no free AnalysisRun name after 100 tries for {}", base));
}

}  // namespace

Status LoadAnalysisRuns(RolloutContext& ctx) {
  Result<kube::LabelSelector> selector = kube::LabelSelector::Parse(
      fmt::format("{}={}", kRolloutNameLabel, ctx.rollout.metadata.name));
  if (!selector.ok()) return selector.status();
  Result<std::vector<kube::ObjectPtr>> list =
      ctx.reader.List(Gvk(api::AnalysisRun::kKind), ctx.rollout.metadata.namespace_, *selector);
  if (!list.ok()) {
    return list.status().WithContext(fmt::format("listing AnalysisRuns of Rollout {}", ctx.Key()));
  }
  ctx.analysis_runs.clear();
  for (const kube::ObjectPtr& item : *list) {
    Result<api::AnalysisRun> run = api::AnalysisRun::FromJson(*item);
    if (!run.ok()) {
      spdlog::warn("Rollout {}: ignoring unreadable AnalysisRun: {}", ctx.Key(),
                   run.status().ToString());
      continue;
    }
    if (IsControlledBy(*run, ctx.rollout.metadata.uid))
      ctx.analysis_runs.push_back(std::move(*run));
  }
  return Status::Ok();
}

Result<AnalysisVerdict> ReconcileAnalysis(RolloutContext& ctx, AnalysisKind kind,
                                          const api::RolloutAnalysis& analysis,
                                          std::optional<int64_t> step_index,
                                          std::optional<api::RolloutAnalysisRunStatus>& tracked) {
  const ReplicaSetInfo* new_rs = ctx.NewRs();
  const std::string base =
      AnalysisRunName(ctx.rollout.metadata.name, ctx.current_hash,
                      new_rs != nullptr ? new_rs->revision : 0, kind, step_index, 0);
  api::AnalysisRun* run = nullptr;
  if (tracked && !tracked->name.empty()) run = FindRun(ctx, tracked->name);
  if (run == nullptr) run = FindUnrecordedRun(ctx, base);
  if (run == nullptr) {
    Result<api::AnalysisRun*> created = CreateRun(ctx, kind, analysis, step_index, base);
    if (!created.ok()) return created.status();
    run = *created;
  }
  const bool changed =
      !tracked || tracked->name != run->metadata.name || tracked->status != run->status.phase;
  tracked = api::RolloutAnalysisRunStatus{run->metadata.name, run->status.phase,
                                          run->status.message, nlohmann::json::object()};

  switch (run->status.phase) {
    case api::AnalysisPhase::kPending:
    case api::AnalysisPhase::kRunning:
      return AnalysisVerdict::kRunning;
    case api::AnalysisPhase::kSuccessful:
      if (changed) {
        ctx.Normal(
            "AnalysisRunSuccessful",
            fmt::format("{} AnalysisRun {} succeeded", AnalysisKindName(kind), run->metadata.name));
      }
      return AnalysisVerdict::kSuccessful;
    case api::AnalysisPhase::kFailed:
    case api::AnalysisPhase::kError: {
      const std::string msg =
          fmt::format("{} AnalysisRun {} {}{}{}", AnalysisKindName(kind), run->metadata.name,
                      run->status.phase == api::AnalysisPhase::kError ? "errored" : "failed",
                      run->status.message.empty() ? "" : ": ", run->status.message);
      if (changed) ctx.Warning("AnalysisRunFailed", msg);
      ctx.pause.AddAbort(msg);
      return AnalysisVerdict::kFailed;
    }
    case api::AnalysisPhase::kInconclusive: {
      if (ctx.pause.IsPausedFor(api::PauseReason::kInconclusiveAnalysisRun)) {
        return AnalysisVerdict::kPaused;
      }
      if (ctx.old_status.controller_pause) {
        // The user promoted past the inconclusive result.
        ctx.pause.ConsumeResume();
        return AnalysisVerdict::kSuccessful;
      }
      ctx.Warning("AnalysisRunInconclusive",
                  fmt::format("{} AnalysisRun {} was inconclusive: paused until promoted or "
                              "aborted",
                              AnalysisKindName(kind), run->metadata.name));
      ctx.pause.AddPause(api::PauseReason::kInconclusiveAnalysisRun);
      return AnalysisVerdict::kPaused;
    }
  }
  return AnalysisVerdict::kRunning;
}

Status TerminateAnalysisRunsExcept(RolloutContext& ctx, const std::set<std::string>& keep) {
  for (api::AnalysisRun& run : ctx.analysis_runs) {
    if (keep.contains(run.metadata.name) || run.spec.terminate ||
        api::IsTerminal(run.status.phase)) {
      continue;
    }
    json patch = {{"spec", {{"terminate", true}}}};
    const kube::ResourceRef ref{Gvk(api::AnalysisRun::kKind), run.metadata.namespace_,
                                run.metadata.name};
    Result<kube::Object> patched =
        ctx.client.Patch(ref, kube::PatchType::kMerge, patch, {false, ctx.deps.field_manager, ""});
    if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) {
      return patched.status().WithContext(
          fmt::format("terminating AnalysisRun {}", run.metadata.name));
    }
    if (patched.ok()) ctx.reader.Wrote(ref, run.metadata.resource_version);
    run.spec.terminate = true;
    spdlog::info("Rollout {}: terminated AnalysisRun {}", ctx.Key(), run.metadata.name);
  }
  return Status::Ok();
}

}  // namespace gantry::rollout
