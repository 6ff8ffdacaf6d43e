#include "operator/api/rollout.h"

#include <fmt/format.h>

#include <set>

#include "operator/api/analysis_codec.h"
#include "operator/api/codec.h"
#include "operator/api/validation.h"

namespace gantry::api {
namespace internal {

template <typename C, Is<AnalysisTemplateRef> V>
void Fields(C& c, V& v) {
  c.Field("templateName", v.template_name);
  c.Field("clusterScope", v.cluster_scope);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutArgumentValueFrom> V>
void Fields(C& c, V& v) {
  c.Field("podTemplateHashValue", v.pod_template_hash_value);
  c.Field("fieldRef", v.field_ref);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutAnalysisArgument> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("value", v.value);
  c.Field("valueFrom", v.value_from);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutAnalysis> V>
void Fields(C& c, V& v) {
  c.Field("templates", v.templates);
  c.Field("args", v.args);
  c.Field("dryRun", v.dry_run);
  c.Field("startingStep", v.starting_step);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutPause> V>
void Fields(C& c, V& v) {
  c.Field("duration", v.duration);
  c.Extra(v.extra);
}

template <typename C, Is<SetCanaryScale> V>
void Fields(C& c, V& v) {
  c.Field("weight", v.weight);
  c.Field("replicas", v.replicas);
  c.Field("matchTrafficWeight", v.match_traffic_weight);
  c.Extra(v.extra);
}

template <typename C, Is<CanaryStep> V>
void Fields(C& c, V& v) {
  c.Field("setWeight", v.set_weight);
  c.Field("pause", v.pause);
  c.Field("analysis", v.analysis);
  c.Field("setCanaryScale", v.set_canary_scale);
  c.Extra(v.extra);
}

template <typename C, Is<NginxTrafficRouting> V>
void Fields(C& c, V& v) {
  c.Field("stableIngress", v.stable_ingress);
  c.Field("annotationPrefix", v.annotation_prefix);
  c.Field("additionalIngressAnnotations", v.additional_ingress_annotations);
  c.Extra(v.extra);
}

template <typename C, Is<GatewayApiTrafficRouting> V>
void Fields(C& c, V& v) {
  c.Field("httpRoute", v.http_route);
  c.Field("namespace", v.namespace_);
  c.Extra(v.extra);
}

template <typename C, Is<TrafficRouting> V>
void Fields(C& c, V& v) {
  c.Field("nginx", v.nginx);
  c.Field("gatewayAPI", v.gateway_api);
  c.Extra(v.extra);
}

template <typename C, Is<CanaryStrategy> V>
void Fields(C& c, V& v) {
  c.Field("canaryService", v.canary_service);
  c.Field("stableService", v.stable_service);
  c.Field("maxSurge", v.max_surge);
  c.Field("maxUnavailable", v.max_unavailable);
  c.Field("scaleDownDelaySeconds", v.scale_down_delay_seconds);
  c.Field("abortScaleDownDelaySeconds", v.abort_scale_down_delay_seconds);
  c.Field("analysis", v.analysis);
  c.Field("trafficRouting", v.traffic_routing);
  c.Field("steps", v.steps);
  c.Extra(v.extra);
}

template <typename C, Is<BlueGreenStrategy> V>
void Fields(C& c, V& v) {
  c.Field("activeService", v.active_service);
  c.Field("previewService", v.preview_service);
  c.Field("previewReplicaCount", v.preview_replica_count);
  c.Field("autoPromotionEnabled", v.auto_promotion_enabled);
  c.Field("autoPromotionSeconds", v.auto_promotion_seconds);
  c.Field("scaleDownDelaySeconds", v.scale_down_delay_seconds);
  c.Field("abortScaleDownDelaySeconds", v.abort_scale_down_delay_seconds);
  c.Field("prePromotionAnalysis", v.pre_promotion_analysis);
  c.Field("postPromotionAnalysis", v.post_promotion_analysis);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutStrategy> V>
void Fields(C& c, V& v) {
  c.Field("canary", v.canary);
  c.Field("blueGreen", v.blue_green);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutSpec> V>
void Fields(C& c, V& v) {
  c.Field("replicas", v.replicas);
  c.Field("selector", v.selector);
  c.Field("template", v.pod_template);
  c.Field("minReadySeconds", v.min_ready_seconds);
  c.Field("revisionHistoryLimit", v.revision_history_limit);
  c.Field("paused", v.paused);
  c.Field("progressDeadlineSeconds", v.progress_deadline_seconds);
  c.Field("progressDeadlineAbort", v.progress_deadline_abort);
  c.Field("restartAt", v.restart_at);
  c.Field("strategy", v.strategy);
  c.Extra(v.extra);
}

template <typename C, Is<PauseCondition> V>
void Fields(C& c, V& v) {
  c.Field("reason", v.reason);
  c.Field("startTime", v.start_time);
  c.Extra(v.extra);
}

template <typename C, Is<WeightDestination> V>
void Fields(C& c, V& v) {
  c.Field("weight", v.weight);
  c.Field("podTemplateHash", v.pod_template_hash);
  c.Field("serviceName", v.service_name);
  c.Extra(v.extra);
}

template <typename C, Is<TrafficWeights> V>
void Fields(C& c, V& v) {
  c.Field("canary", v.canary);
  c.Field("stable", v.stable);
  c.Field("verified", v.verified);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutAnalysisRunStatus> V>
void Fields(C& c, V& v) {
  c.Field("name", v.name);
  c.Field("status", v.status);
  c.Field("message", v.message);
  c.Extra(v.extra);
}

template <typename C, Is<CanaryStatus> V>
void Fields(C& c, V& v) {
  c.Field("weights", v.weights);
  c.Field("currentStepAnalysisRunStatus", v.current_step_analysis_run_status);
  c.Field("currentBackgroundAnalysisRunStatus", v.current_background_analysis_run_status);
  c.Extra(v.extra);
}

template <typename C, Is<BlueGreenStatus> V>
void Fields(C& c, V& v) {
  c.Field("activeSelector", v.active_selector);
  c.Field("previewSelector", v.preview_selector);
  c.Field("scaleDownDelayStartTime", v.scale_down_delay_start_time);
  c.Field("scaleUpPreviewCheckPoint", v.scale_up_preview_check_point);
  c.Field("prePromotionAnalysisRunStatus", v.pre_promotion_analysis_run_status);
  c.Field("postPromotionAnalysisRunStatus", v.post_promotion_analysis_run_status);
  c.Extra(v.extra);
}

template <typename C, Is<RolloutStatus> V>
void Fields(C& c, V& v) {
  c.Field("phase", v.phase);
  c.Field("message", v.message);
  c.Field("currentPodHash", v.current_pod_hash);
  c.Field("currentStepHash", v.current_step_hash);
  c.Field("stableRS", v.stable_rs);
  c.Field("currentStepIndex", v.current_step_index);
  c.Field("pauseConditions", v.pause_conditions);
  c.Field("controllerPause", v.controller_pause);
  c.Field("abort", v.abort);
  c.Field("abortedAt", v.aborted_at);
  c.Field("promoteFull", v.promote_full);
  c.Field("replicas", v.replicas);
  c.Field("updatedReplicas", v.updated_replicas);
  c.Field("readyReplicas", v.ready_replicas);
  c.Field("availableReplicas", v.available_replicas);
  c.Field("selector", v.selector);
  c.Field("canary", v.canary);
  c.Field("blueGreen", v.blue_green);
  c.Field("restartedAt", v.restarted_at);
  c.Field("collisionCount", v.collision_count);
  c.Field("conditions", v.conditions);
  c.Field("observedGeneration", v.observed_generation);
  c.Extra(v.extra);
}

template <typename C, Is<Rollout> V>
void Fields(C& c, V& v) {
  c.Skip("apiVersion");
  c.Skip("kind");
  c.Field("metadata", v.metadata);
  c.Field("spec", v.spec);
  c.Field("status", v.status);
  c.Extra(v.extra);
}

}  // namespace internal

namespace {

using internal::ChildPath;
using internal::FieldErrors;
using internal::IndexPath;

// A string of decimal digits: Argo reads such a pause duration as seconds.
bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// maxSurge / maxUnavailable: a non-negative int or "N%" with N >= 0.
void CheckSurgeValue(FieldErrors& errors, const std::string& path, const IntOrString& v) {
  if (v.is_int()) {
    internal::CheckMin(errors, path, v.int_value(), 0);
    return;
  }
  std::string_view text = v.string_value();
  bool ok = v.IsPercent() && AllDigits(text.substr(0, text.size() - 1));
  if (!ok) {
    errors.Add(path, fmt::format("must be a non-negative integer or a percentage like \"25%\", "
                                 "got \"{}\"",
                                 text));
  }
}

bool IsZero(const IntOrString& v) {
  Result<int64_t> n = v.Resolve(100, false);
  return n.ok() && *n == 0;
}

void ValidateAnalysis(FieldErrors& errors, const std::string& path, const RolloutAnalysis& a,
                      bool background) {
  using namespace internal;  // NOLINT: the check helpers
  if (a.templates.empty()) {
    errors.Add(ChildPath(path, "templates"), "must list at least one template");
  }
  for (size_t i = 0; i < a.templates.size(); ++i) {
    std::string tpath = ChildPath(IndexPath(ChildPath(path, "templates"), i), "templateName");
    CheckRequired(errors, tpath, a.templates[i].template_name);
    CheckDnsSubdomain(errors, tpath, a.templates[i].template_name);
  }
  std::set<std::string> names;
  for (size_t i = 0; i < a.args.size(); ++i) {
    const RolloutAnalysisArgument& arg = a.args[i];
    std::string apath = IndexPath(ChildPath(path, "args"), i);
    CheckRequired(errors, ChildPath(apath, "name"), arg.name);
    if (!arg.name.empty() && !names.insert(arg.name).second) {
      errors.Add(ChildPath(apath, "name"), fmt::format("duplicate argument \"{}\"", arg.name));
    }
    if (!arg.value.empty() && arg.value_from.has_value()) {
      errors.Add(apath, "must set at most one of value, valueFrom");
    }
    if (arg.value_from.has_value()) {
      const RolloutArgumentValueFrom& from = *arg.value_from;
      std::string vpath = ChildPath(apath, "valueFrom");
      if (from.pod_template_hash_value.empty() == !from.field_ref.has_value()) {
        errors.Add(vpath, "must set exactly one of podTemplateHashValue, fieldRef");
      }
      if (!from.pod_template_hash_value.empty() && from.pod_template_hash_value != "Stable" &&
          from.pod_template_hash_value != "Latest") {
        errors.Add(
            ChildPath(vpath, "podTemplateHashValue"),
            fmt::format("must be Stable or Latest, got \"{}\"", from.pod_template_hash_value));
      }
      if (from.field_ref.has_value()) {
        CheckRequired(errors, ChildPath(vpath, "fieldRef.fieldPath"), from.field_ref->field_path);
      }
    }
  }
  for (size_t i = 0; i < a.dry_run.size(); ++i) {
    CheckRequired(errors, ChildPath(IndexPath(ChildPath(path, "dryRun"), i), "metricName"),
                  a.dry_run[i].metric_name);
  }
  if (!background && a.starting_step.has_value()) {
    errors.Add(ChildPath(path, "startingStep"), "is only allowed for background analysis");
  }
}

void ValidateCanary(FieldErrors& errors, const CanaryStrategy& c) {
  using namespace internal;  // NOLINT: the check helpers
  const std::string path = "spec.strategy.canary";
  CheckDnsLabel(errors, ChildPath(path, "canaryService"), c.canary_service);
  CheckDnsLabel(errors, ChildPath(path, "stableService"), c.stable_service);
  if (!c.canary_service.empty() && c.canary_service == c.stable_service) {
    errors.Add(ChildPath(path, "stableService"),
               fmt::format("must differ from canaryService, both are \"{}\"", c.canary_service));
  }
  CheckSurgeValue(errors, ChildPath(path, "maxSurge"), c.max_surge);
  CheckSurgeValue(errors, ChildPath(path, "maxUnavailable"), c.max_unavailable);
  if (IsZero(c.max_surge) && IsZero(c.max_unavailable)) {
    errors.Add(ChildPath(path, "maxUnavailable"), "must not be 0 when maxSurge is 0");
  }
  CheckMin(errors, ChildPath(path, "scaleDownDelaySeconds"), c.scale_down_delay_seconds, 0);
  CheckMin(errors, ChildPath(path, "abortScaleDownDelaySeconds"), c.abort_scale_down_delay_seconds,
           0);

  if (c.traffic_routing.has_value()) {
    const TrafficRouting& tr = *c.traffic_routing;
    std::string tpath = ChildPath(path, "trafficRouting");
    if (tr.nginx.has_value() == tr.gateway_api.has_value()) {
      errors.Add(tpath, "must set exactly one of nginx, gatewayAPI");
    }
    if (tr.nginx.has_value()) {
      std::string npath = ChildPath(ChildPath(tpath, "nginx"), "stableIngress");
      CheckRequired(errors, npath, tr.nginx->stable_ingress);
      CheckDnsSubdomain(errors, npath, tr.nginx->stable_ingress);
    }
    if (tr.gateway_api.has_value()) {
      std::string gpath = ChildPath(tpath, "gatewayAPI");
      CheckRequired(errors, ChildPath(gpath, "httpRoute"), tr.gateway_api->http_route);
      CheckDnsSubdomain(errors, ChildPath(gpath, "httpRoute"), tr.gateway_api->http_route);
      CheckDnsLabel(errors, ChildPath(gpath, "namespace"), tr.gateway_api->namespace_);
    }
    // A router splits traffic between two Services; without them there is nothing to weigh.
    if (c.canary_service.empty()) {
      errors.Add(ChildPath(path, "canaryService"), "is required with trafficRouting");
    }
    if (c.stable_service.empty()) {
      errors.Add(ChildPath(path, "stableService"), "is required with trafficRouting");
    }
  }

  for (size_t i = 0; i < c.steps.size(); ++i) {
    const CanaryStep& step = c.steps[i];
    std::string spath = IndexPath(ChildPath(path, "steps"), i);
    if (!step.Action().has_value()) {
      int set = step.set_weight.has_value() + step.pause.has_value() + step.analysis.has_value() +
                step.set_canary_scale.has_value();
      errors.Add(spath, fmt::format("must set exactly one of setWeight, pause, analysis, "
                                    "setCanaryScale; {} set",
                                    set));
    }
    if (step.set_weight.has_value()) {
      CheckRange(errors, ChildPath(spath, "setWeight"), *step.set_weight, 0, 100);
    }
    if (step.pause.has_value() && step.pause->duration.has_value()) {
      Result<std::optional<Millis>> d = step.pause->Duration();
      if (!d.ok()) errors.Add(ChildPath(spath, "pause.duration"), d.status().message());
    }
    if (step.analysis.has_value()) {
      ValidateAnalysis(errors, ChildPath(spath, "analysis"), *step.analysis, false);
    }
    if (step.set_canary_scale.has_value()) {
      const SetCanaryScale& scale = *step.set_canary_scale;
      std::string cpath = ChildPath(spath, "setCanaryScale");
      int set = scale.weight.has_value() + scale.replicas.has_value() + scale.match_traffic_weight;
      if (set != 1) {
        errors.Add(cpath, "must set exactly one of weight, replicas, matchTrafficWeight: true");
      }
      if (scale.weight.has_value()) {
        CheckRange(errors, ChildPath(cpath, "weight"), *scale.weight, 0, 100);
      }
      if (scale.replicas.has_value()) {
        CheckMin(errors, ChildPath(cpath, "replicas"), *scale.replicas, 0);
      }
      if (!c.traffic_routing.has_value()) {
        // Without a router the weight is the replica ratio, so scale and weight cannot differ.
        errors.Add(cpath, "requires trafficRouting");
      }
    }
  }

  if (c.analysis.has_value()) {
    std::string apath = ChildPath(path, "analysis");
    ValidateAnalysis(errors, apath, *c.analysis, true);
    if (c.analysis->starting_step.has_value()) {
      int64_t step = *c.analysis->starting_step;
      if (c.steps.empty()) {
        errors.Add(ChildPath(apath, "startingStep"), "requires steps");
      } else {
        CheckRange(errors, ChildPath(apath, "startingStep"), step, 0,
                   static_cast<int64_t>(c.steps.size()) - 1);
      }
    }
  }
}

void ValidateBlueGreen(FieldErrors& errors, const BlueGreenStrategy& b) {
  using namespace internal;  // NOLINT: the check helpers
  const std::string path = "spec.strategy.blueGreen";
  CheckRequired(errors, ChildPath(path, "activeService"), b.active_service);
  CheckDnsLabel(errors, ChildPath(path, "activeService"), b.active_service);
  CheckDnsLabel(errors, ChildPath(path, "previewService"), b.preview_service);
  if (!b.active_service.empty() && b.active_service == b.preview_service) {
    errors.Add(ChildPath(path, "previewService"),
               fmt::format("must differ from activeService, both are \"{}\"", b.active_service));
  }
  if (b.preview_replica_count.has_value()) {
    CheckMin(errors, ChildPath(path, "previewReplicaCount"), *b.preview_replica_count, 0);
  }
  if (b.auto_promotion_seconds.has_value()) {
    CheckMin(errors, ChildPath(path, "autoPromotionSeconds"), *b.auto_promotion_seconds, 0);
    if (!b.auto_promotion_enabled) {
      errors.Add(ChildPath(path, "autoPromotionSeconds"),
                 "cannot be set when autoPromotionEnabled is false");
    }
  }
  CheckMin(errors, ChildPath(path, "scaleDownDelaySeconds"), b.scale_down_delay_seconds, 0);
  CheckMin(errors, ChildPath(path, "abortScaleDownDelaySeconds"), b.abort_scale_down_delay_seconds,
           0);
  if (b.pre_promotion_analysis.has_value()) {
    ValidateAnalysis(errors, ChildPath(path, "prePromotionAnalysis"), *b.pre_promotion_analysis,
                     false);
  }
  if (b.post_promotion_analysis.has_value()) {
    ValidateAnalysis(errors, ChildPath(path, "postPromotionAnalysis"), *b.post_promotion_analysis,
                     false);
  }
}

void ValidateSelector(FieldErrors& errors, const LabelSelector& selector) {
  if (selector.Empty()) {
    errors.Add("spec.selector", "must not be empty: it selects the Rollout's pods");
    return;
  }
  for (size_t i = 0; i < selector.match_expressions.size(); ++i) {
    const LabelSelectorRequirement& req = selector.match_expressions[i];
    std::string path = IndexPath("spec.selector.matchExpressions", i);
    internal::CheckRequired(errors, ChildPath(path, "key"), req.key);
    if (req.operator_ == "In" || req.operator_ == "NotIn") {
      if (req.values.empty()) {
        errors.Add(ChildPath(path, "values"),
                   fmt::format("must not be empty with operator {}", req.operator_));
      }
    } else if (req.operator_ == "Exists" || req.operator_ == "DoesNotExist") {
      if (!req.values.empty()) {
        errors.Add(ChildPath(path, "values"),
                   fmt::format("must be empty with operator {}", req.operator_));
      }
    } else {
      errors.Add(
          ChildPath(path, "operator"),
          fmt::format("must be one of In, NotIn, Exists, DoesNotExist, got \"{}\"", req.operator_));
    }
  }
}

void ValidateTemplate(FieldErrors& errors, const RolloutSpec& spec) {
  const nlohmann::json& tmpl = spec.pod_template;
  if (!tmpl.is_object()) {
    errors.Add("spec.template", "is required: a pod template");
    return;
  }
  std::map<std::string, std::string> labels;
  auto meta = tmpl.find("metadata");
  if (meta != tmpl.end() && meta->is_object()) {
    auto l = meta->find("labels");
    if (l != meta->end() && l->is_object()) {
      for (const auto& [k, v] : l->items()) {
        if (v.is_string()) labels.emplace(k, v.get<std::string>());
      }
    }
  }
  if (!spec.selector.Empty() && !spec.selector.Matches(labels)) {
    errors.Add("spec.template.metadata.labels",
               fmt::format("do not match spec.selector \"{}\"", spec.selector.ToString()));
  }
  auto pod = tmpl.find("spec");
  bool has_containers = pod != tmpl.end() && pod->is_object() && pod->contains("containers") &&
                        (*pod)["containers"].is_array() && !(*pod)["containers"].empty();
  if (!has_containers) {
    errors.Add("spec.template.spec.containers", "must list at least one container");
  }
}

}  // namespace

Result<std::optional<Millis>> RolloutPause::Duration() const {
  if (!duration.has_value()) return std::optional<Millis>();
  if (duration->is_int()) {
    if (duration->int_value() < 0) {
      return InvalidArgument(fmt::format("must not be negative, got {}", duration->int_value()));
    }
    return std::optional<Millis>(std::chrono::seconds(duration->int_value()));
  }
  const std::string& text = duration->string_value();
  if (AllDigits(text)) {
    Result<int64_t> seconds = duration->AsInt();
    if (!seconds.ok()) return seconds.status();
    return std::optional<Millis>(std::chrono::seconds(*seconds));
  }
  Result<Millis> d = ParseDuration(text);
  if (!d.ok()) return d.status();
  if (d->count() < 0) {
    return InvalidArgument(fmt::format("must not be negative, got \"{}\"", text));
  }
  return std::optional<Millis>(*d);
}

std::optional<CanaryStepAction> CanaryStep::Action() const {
  int set = set_weight.has_value() + pause.has_value() + analysis.has_value() +
            set_canary_scale.has_value();
  if (set != 1) return std::nullopt;
  if (set_weight.has_value()) return CanaryStepAction::kSetWeight;
  if (pause.has_value()) return CanaryStepAction::kPause;
  if (analysis.has_value()) return CanaryStepAction::kAnalysis;
  return CanaryStepAction::kSetCanaryScale;
}

Result<Fenceposts> ResolveFenceposts(const IntOrString& max_surge,
                                     const IntOrString& max_unavailable, int64_t replicas) {
  Result<int64_t> surge = max_surge.Resolve(replicas, /*round_up=*/true);
  if (!surge.ok()) return surge.status().WithContext("maxSurge");
  Result<int64_t> unavailable = max_unavailable.Resolve(replicas, /*round_up=*/false);
  if (!unavailable.ok()) return unavailable.status().WithContext("maxUnavailable");
  Fenceposts f{*surge, *unavailable};
  if (f.max_surge == 0 && f.max_unavailable == 0) f.max_unavailable = 1;
  return f;
}

Result<Rollout> Rollout::FromJson(const nlohmann::json& json) {
  return internal::DecodeObject<Rollout>(json, kKind);
}

nlohmann::json Rollout::ToJson() const { return internal::EncodeObject(*this, kKind); }

Status Rollout::Validate() const {
  using namespace internal;  // NOLINT: the check helpers
  FieldErrors errors;
  CheckMin(errors, "spec.replicas", spec.replicas, 0);
  CheckMin(errors, "spec.minReadySeconds", spec.min_ready_seconds, 0);
  CheckMin(errors, "spec.revisionHistoryLimit", spec.revision_history_limit, 0);
  if (spec.progress_deadline_seconds <= spec.min_ready_seconds) {
    errors.Add("spec.progressDeadlineSeconds",
               fmt::format("must be greater than minReadySeconds ({}), got {}",
                           spec.min_ready_seconds, spec.progress_deadline_seconds));
  }
  ValidateSelector(errors, spec.selector);
  ValidateTemplate(errors, spec);
  const RolloutStrategy& strategy = spec.strategy;
  if (strategy.canary.has_value() == strategy.blue_green.has_value()) {
    errors.Add("spec.strategy", "must set exactly one of canary, blueGreen");
  }
  if (strategy.canary.has_value()) ValidateCanary(errors, *strategy.canary);
  if (strategy.blue_green.has_value()) ValidateBlueGreen(errors, *strategy.blue_green);
  return errors.ToStatus(ObjectName(kKind, metadata));
}

}  // namespace gantry::api
