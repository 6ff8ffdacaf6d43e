#include "operator/rollout/analysis_run_builder.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

// Splits "metadata.labels['app.kubernetes.io/name']" into {"metadata", "labels",
// "app.kubernetes.io/name"}; nullopt on unbalanced brackets.
std::optional<std::vector<std::string>> SplitFieldPath(std::string_view path) {
  std::vector<std::string> parts;
  std::string current;
  size_t i = 0;
  while (i < path.size()) {
    const char c = path[i];
    if (c == '.') {
      if (!current.empty()) parts.push_back(std::move(current));
      current.clear();
      ++i;
    } else if (c == '[') {
      if (!current.empty()) parts.push_back(std::move(current));
      current.clear();
      if (i + 1 >= path.size()) return std::nullopt;
      const char quote = path[i + 1];
      if (quote == '\'' || quote == '"') {
        const size_t end = path.find(quote, i + 2);
        if (end == std::string_view::npos || end + 1 >= path.size() || path[end + 1] != ']') {
          return std::nullopt;
        }
        parts.emplace_back(path.substr(i + 2, end - i - 2));
        i = end + 2;
      } else {
        const size_t end = path.find(']', i + 1);
        if (end == std::string_view::npos) return std::nullopt;
        parts.emplace_back(path.substr(i + 1, end - i - 1));
        i = end + 1;
      }
    } else {
      current.push_back(c);
      ++i;
    }
  }
  if (!current.empty()) parts.push_back(std::move(current));
  return parts;
}

}  // namespace

std::string_view AnalysisKindName(AnalysisKind kind) {
  switch (kind) {
    case AnalysisKind::kStep:
      return "Step";
    case AnalysisKind::kBackground:
      return "Background";
    case AnalysisKind::kPrePromotion:
      return "PrePromotion";
    case AnalysisKind::kPostPromotion:
      return "PostPromotion";
  }
  return "Step";
}

std::string AnalysisRunName(std::string_view rollout, std::string_view hash, int64_t revision,
                            AnalysisKind kind, std::optional<int64_t> step_index, int attempt) {
  std::string suffix;
  switch (kind) {
    case AnalysisKind::kStep:
      suffix = fmt::format("step-{}", step_index.value_or(0));
      break;
    case AnalysisKind::kBackground:
      suffix = "background";
      break;
    case AnalysisKind::kPrePromotion:
      suffix = "pre";
      break;
    case AnalysisKind::kPostPromotion:
      suffix = "post";
      break;
  }
  std::string name = fmt::format("{}-{}-{}-{}", rollout, hash, revision, suffix);
  if (attempt > 0) name += fmt::format(".{}", attempt);
  if (name.size() > 253) name = name.substr(name.size() - 253);
  return name;
}

std::optional<std::string> ResolveFieldPath(const json& object, std::string_view path) {
  auto parts = SplitFieldPath(path);
  if (!parts || parts->empty()) return std::nullopt;
  const json* at = &object;
  for (const std::string& part : *parts) {
    if (!at->is_object()) return std::nullopt;
    auto it = at->find(part);
    if (it == at->end()) return std::nullopt;
    at = &*it;
  }
  if (at->is_string()) return at->get<std::string>();
  if (at->is_null()) return std::nullopt;
  return at->dump();
}

Result<api::AnalysisRun> BuildAnalysisRun(const api::RolloutAnalysis& analysis,
                                          const std::vector<FetchedTemplate>& templates,
                                          const AnalysisRunParams& p) {
  const std::string who = fmt::format("Rollout {}/{}", p.ns, p.owner.name);

  // The Rollout's own argument values, resolved now.
  std::map<std::string, api::Argument> rollout_args;
  for (const api::RolloutAnalysisArgument& a : analysis.args) {
    api::Argument arg;
    arg.name = a.name;
    if (a.value_from) {
      const std::string& which = a.value_from->pod_template_hash_value;
      if (which == "Stable") {
        arg.value = p.stable_hash;
      } else if (which == "Latest") {
        arg.value = p.latest_hash;
      } else if (a.value_from->field_ref) {
        auto v = ResolveFieldPath(p.rollout_json, a.value_from->field_ref->field_path);
        if (!v) {
          return InvalidArgument(
              fmt::format("{}: analysis argument {}: fieldRef {} names no field of the Rollout",
                          who, a.name, a.value_from->field_ref->field_path));
        }
        arg.value = *v;
      } else {
        return InvalidArgument(fmt::format(
            "{}: analysis argument {}: valueFrom needs podTemplateHashValue (Stable or Latest) "
            "or fieldRef, got {}",
            who, a.name, which.empty() ? "neither" : "podTemplateHashValue " + which));
      }
    } else {
      arg.value = a.value;
    }
    rollout_args[a.name] = std::move(arg);
  }

  api::AnalysisRun run;
  run.metadata.name = p.name;
  run.metadata.namespace_ = p.ns;
  run.metadata.labels[std::string(kRolloutNameLabel)] = p.owner.name;
  run.metadata.labels[std::string(kPodTemplateHashLabel)] = p.latest_hash;
  run.metadata.labels[std::string(kRolloutTypeLabel)] = std::string(AnalysisKindName(p.kind));
  if (p.step_index)
    run.metadata.labels[std::string(kStepIndexLabel)] = std::to_string(*p.step_index);
  run.metadata.annotations[std::string(kRevisionAnnotation)] = std::to_string(p.revision);
  run.metadata.extra["ownerReferences"] = json::array({ControllerReference(p.owner)});

  std::set<std::string> metric_names;
  std::set<std::string> arg_names;
  std::set<std::string> dry_run_names;
  for (const FetchedTemplate& t : templates) {
    const std::string tname = fmt::format(
        "{} {}", t.cluster_scope ? "ClusterAnalysisTemplate" : "AnalysisTemplate", t.name);
    for (const api::Metric& m : t.spec.metrics) {
      if (!metric_names.insert(m.name).second) {
        return InvalidArgument(fmt::format(
            "{}: metric {} of {} is also defined by another template of the same analysis; "
            "metric names must be unique across templates",
            who, m.name, tname));
      }
      run.spec.metrics.push_back(m);
    }
    for (const api::Argument& ta : t.spec.args) {
      if (!arg_names.insert(ta.name).second) continue;  // first template's default wins
      auto given = rollout_args.find(ta.name);
      if (given != rollout_args.end()) {
        run.spec.args.push_back(given->second);
      } else if (ta.value || ta.value_from) {
        run.spec.args.push_back(ta);
      } else {
        return InvalidArgument(fmt::format(
            "{}: argument {} of {} has no value; give it one in the Rollout's analysis args", who,
            ta.name, tname));
      }
    }
    for (const api::DryRun& d : t.spec.dry_run) {
      if (dry_run_names.insert(d.metric_name).second) run.spec.dry_run.push_back(d);
    }
  }
  for (const api::DryRun& d : analysis.dry_run) {
    if (dry_run_names.insert(d.metric_name).second) run.spec.dry_run.push_back(d);
  }
  if (run.spec.metrics.empty()) {
    return InvalidArgument(fmt::format("{}: the analysis templates define no metrics", who));
  }
  return run;
}

}  // namespace gantry::rollout
