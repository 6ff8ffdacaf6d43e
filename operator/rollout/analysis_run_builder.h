// How a Rollout turns AnalysisTemplates into an AnalysisRun: the pure half of analysis.h.
//
// The run gets every metric of every referenced template, their dryRun entries and the
// Rollout's, and one value for every argument: the Rollout's own (value, valueFrom
// podTemplateHashValue Stable|Latest, valueFrom fieldRef into the Rollout) wins over the
// template's default; a template's secretKeyRef is passed on for the AnalysisRun reconciler to
// read. `{{args.NAME}}` in the metrics stays as written: the AnalysisRun reconciler substitutes
// it when it measures, so secrets never land in a spec. Pure; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/analysis.h"
#include "operator/api/rollout.h"
#include "operator/common/status.h"
#include "operator/rollout/replicaset.h"

namespace gantry::rollout {

// Which analysis of a Rollout a run belongs to; its label `rollout-type` (Argo's name).
enum class AnalysisKind { kStep, kBackground, kPrePromotion, kPostPromotion };
std::string_view AnalysisKindName(AnalysisKind kind);  // "Step", "Background", ...

inline constexpr std::string_view kRolloutNameLabel = "gantry.io/rollout";
inline constexpr std::string_view kRolloutTypeLabel = "rollout-type";
inline constexpr std::string_view kStepIndexLabel = "step-index";

// A template as fetched: an AnalysisTemplate in the Rollout's namespace or a
// ClusterAnalysisTemplate.
struct FetchedTemplate {
  std::string name;
  bool cluster_scope = false;
  api::AnalysisTemplateSpec spec;
};

struct AnalysisRunParams {
  std::string name;  // see AnalysisRunName
  std::string ns;
  OwnerInfo owner;              // the Rollout
  nlohmann::json rollout_json;  // for valueFrom.fieldRef
  AnalysisKind kind = AnalysisKind::kStep;
  std::optional<int64_t> step_index;
  std::string latest_hash;  // the new ReplicaSet's pod-template hash
  std::string stable_hash;
  int64_t revision = 0;
};

// "<rollout>-<hash>-<revision>-<kind>[-<step>]", lowercase: "web-5f7c9-3-step-2",
// "web-5f7c9-3-background", "web-5f7c9-3-pre". `attempt` > 0 appends ".<attempt>" for a rerun
// after a retry, since the first run of that name still exists.
std::string AnalysisRunName(std::string_view rollout, std::string_view hash, int64_t revision,
                            AnalysisKind kind, std::optional<int64_t> step_index, int attempt);

// The run for `analysis` over `templates` (in the order of analysis.templates). Errors are
// InvalidArgument naming the Rollout, the template and the argument or metric: an argument
// without any value, a fieldRef that names nothing, two templates with the same metric name.
Result<api::AnalysisRun> BuildAnalysisRun(const api::RolloutAnalysis& analysis,
                                          const std::vector<FetchedTemplate>& templates,
                                          const AnalysisRunParams& params);

// The value at a Kubernetes fieldPath ("metadata.name", "metadata.labels['app']",
// "spec.replicas") of `object`, as text; nullopt when absent.
std::optional<std::string> ResolveFieldPath(const nlohmann::json& object, std::string_view path);

}  // namespace gantry::rollout
