// Rollout (gantry.io/v1alpha1): a workload released step by step, with Argo Rollouts' field
// names so that an Argo manifest moves over by changing apiVersion. The Rollout reconciler reads
// spec and writes status; `gantry rollout promote|abort|retry|...` write intent into status
// (promoteFull, abort) or spec (paused, restartAt), and the next reconcile converges on it.
// See types.h for how FromJson/ToJson/Validate behave for every kind.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/analysis.h"
#include "operator/api/conditions.h"
#include "operator/api/int_or_string.h"
#include "operator/api/meta.h"
#include "operator/common/duration.h"
#include "operator/common/status.h"

namespace gantry::api {

enum class RolloutPhase { kHealthy, kProgressing, kPaused, kDegraded };

template <>
struct EnumTraits<RolloutPhase> {
  static constexpr std::array<std::pair<RolloutPhase, std::string_view>, 4> kNames{{
      {RolloutPhase::kHealthy, "Healthy"},
      {RolloutPhase::kProgressing, "Progressing"},
      {RolloutPhase::kPaused, "Paused"},
      {RolloutPhase::kDegraded, "Degraded"},
  }};
};

// Why a Rollout is paused (status.pauseConditions[].reason), as in Argo.
enum class PauseReason { kCanaryPauseStep, kBlueGreenPause, kInconclusiveAnalysisRun };

template <>
struct EnumTraits<PauseReason> {
  static constexpr std::array<std::pair<PauseReason, std::string_view>, 3> kNames{{
      {PauseReason::kCanaryPauseStep, "CanaryPauseStep"},
      {PauseReason::kBlueGreenPause, "BlueGreenPause"},
      {PauseReason::kInconclusiveAnalysisRun, "InconclusiveAnalysisRun"},
  }};
};

// --- spec ----------------------------------------------------------------------------------

struct AnalysisTemplateRef {
  std::string template_name;
  bool cluster_scope = false;  // a ClusterAnalysisTemplate rather than an AnalysisTemplate
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const AnalysisTemplateRef&) const = default;
};

struct RolloutArgumentValueFrom {
  std::string pod_template_hash_value;  // "Stable" | "Latest": that ReplicaSet's hash
  std::optional<FieldSelector> field_ref;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const RolloutArgumentValueFrom&) const = default;
};

// An argument a Rollout passes to its analysis templates.
struct RolloutAnalysisArgument {
  std::string name;
  std::string value;
  std::optional<RolloutArgumentValueFrom> value_from;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const RolloutAnalysisArgument&) const = default;
};

// An analysis to run: an inline step, background analysis (with startingStep) or a blue/green
// pre-/post-promotion analysis.
struct RolloutAnalysis {
  std::vector<AnalysisTemplateRef> templates;
  std::vector<RolloutAnalysisArgument> args;
  std::vector<DryRun> dry_run;
  std::optional<int64_t> starting_step;  // canary background analysis only
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const RolloutAnalysis&) const = default;
};

// steps[].pause. Without a duration the Rollout waits until promoted.
struct RolloutPause {
  // Seconds as an integer or a string of digits (Argo's forms), or a Go duration string.
  std::optional<IntOrString> duration;
  nlohmann::json extra = nlohmann::json::object();

  // nullopt: until promoted. InvalidArgument naming the text when it is neither form.
  Result<std::optional<Millis>> Duration() const;

  bool operator==(const RolloutPause&) const = default;
};

// steps[].setCanaryScale: scale the canary independently of its traffic weight (needs a traffic
// router). Exactly one of the three.
struct SetCanaryScale {
  std::optional<int64_t> weight;    // percent of spec.replicas
  std::optional<int64_t> replicas;  // absolute
  bool match_traffic_weight = false;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const SetCanaryScale&) const = default;
};

enum class CanaryStepAction { kSetWeight, kPause, kAnalysis, kSetCanaryScale };

// One canary step; exactly one action is set (Validate checks).
struct CanaryStep {
  std::optional<int64_t> set_weight;  // 0..100
  std::optional<RolloutPause> pause;
  std::optional<RolloutAnalysis> analysis;
  std::optional<SetCanaryScale> set_canary_scale;
  nlohmann::json extra = nlohmann::json::object();

  // The step's action, or nullopt when it sets none or several.
  std::optional<CanaryStepAction> Action() const;

  bool operator==(const CanaryStep&) const = default;
};

struct NginxTrafficRouting {
  std::string stable_ingress;     // the Ingress whose canary twin Gantry manages
  std::string annotation_prefix;  // default "nginx.ingress.kubernetes.io"
  std::map<std::string, std::string> additional_ingress_annotations;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const NginxTrafficRouting&) const = default;
};

struct GatewayApiTrafficRouting {
  std::string http_route;  // HTTPRoute whose backendRefs weights Gantry sets
  std::string namespace_;  // empty: the Rollout's
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const GatewayApiTrafficRouting&) const = default;
};

// Exactly one router (Validate checks).
struct TrafficRouting {
  std::optional<NginxTrafficRouting> nginx;
  std::optional<GatewayApiTrafficRouting> gateway_api;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const TrafficRouting&) const = default;
};

struct CanaryStrategy {
  std::string canary_service;
  std::string stable_service;
  IntOrString max_surge{"25%"};
  IntOrString max_unavailable{"25%"};
  int64_t scale_down_delay_seconds = 30;
  int64_t abort_scale_down_delay_seconds = 30;
  std::optional<RolloutAnalysis> analysis;  // background analysis
  std::optional<TrafficRouting> traffic_routing;
  std::vector<CanaryStep> steps;  // none: a plain rolling update
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const CanaryStrategy&) const = default;
};

struct BlueGreenStrategy {
  std::string active_service;
  std::string preview_service;
  std::optional<int64_t> preview_replica_count;  // unset: spec.replicas
  bool auto_promotion_enabled = true;
  std::optional<int64_t> auto_promotion_seconds;
  int64_t scale_down_delay_seconds = 30;
  int64_t abort_scale_down_delay_seconds = 30;
  std::optional<RolloutAnalysis> pre_promotion_analysis;
  std::optional<RolloutAnalysis> post_promotion_analysis;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const BlueGreenStrategy&) const = default;
};

// Exactly one of canary, blueGreen (Validate and the CRD schema check).
struct RolloutStrategy {
  std::optional<CanaryStrategy> canary;
  std::optional<BlueGreenStrategy> blue_green;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const RolloutStrategy&) const = default;
};

struct RolloutSpec {
  int64_t replicas = 1;
  LabelSelector selector;
  // A core/v1 PodTemplateSpec, kept as JSON: Gantry copies it into ReplicaSets and hashes it,
  // but never interprets most of it. Key "template" in YAML.
  nlohmann::json pod_template;
  int64_t min_ready_seconds = 0;
  int64_t revision_history_limit = 10;
  bool paused = false;
  int64_t progress_deadline_seconds = 600;
  bool progress_deadline_abort = false;
  std::optional<Time> restart_at;  // pods older than this are replaced
  RolloutStrategy strategy;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const RolloutSpec&) const = default;
};

// --- status --------------------------------------------------------------------------------

struct PauseCondition {
  PauseReason reason = PauseReason::kCanaryPauseStep;
  std::optional<Time> start_time;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const PauseCondition&) const = default;
};

struct WeightDestination {
  int64_t weight = 0;
  std::string pod_template_hash;
  std::string service_name;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const WeightDestination&) const = default;
};

// status.canary.weights: what the traffic router was last told.
struct TrafficWeights {
  WeightDestination canary;
  WeightDestination stable;
  std::optional<bool> verified;  // the router confirmed the weights took effect
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const TrafficWeights&) const = default;
};

// A Rollout's view of one of its AnalysisRuns.
struct RolloutAnalysisRunStatus {
  std::string name;
  AnalysisPhase status = AnalysisPhase::kPending;
  std::string message;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const RolloutAnalysisRunStatus&) const = default;
};

struct CanaryStatus {
  std::optional<TrafficWeights> weights;
  std::optional<RolloutAnalysisRunStatus> current_step_analysis_run_status;
  std::optional<RolloutAnalysisRunStatus> current_background_analysis_run_status;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const CanaryStatus&) const = default;
};

struct BlueGreenStatus {
  std::string active_selector;   // pod-template-hash the active Service selects
  std::string preview_selector;  // pod-template-hash the preview Service selects
  std::optional<Time> scale_down_delay_start_time;
  bool scale_up_preview_check_point = false;  // preview is scaled up and waiting to promote
  std::optional<RolloutAnalysisRunStatus> pre_promotion_analysis_run_status;
  std::optional<RolloutAnalysisRunStatus> post_promotion_analysis_run_status;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const BlueGreenStatus&) const = default;
};

struct RolloutStatus {
  std::optional<RolloutPhase> phase;  // unset until the first reconcile
  std::string message;
  std::string current_pod_hash;   // hash of spec.template: the "new" ReplicaSet
  std::string current_step_hash;  // hash of the steps: a change restarts the steps
  std::string stable_rs;          // hash of the stable ReplicaSet
  std::optional<int64_t> current_step_index;
  std::vector<PauseCondition> pause_conditions;
  bool controller_pause = false;
  bool abort = false;
  std::optional<Time> aborted_at;
  bool promote_full = false;
  int64_t replicas = 0;
  int64_t updated_replicas = 0;
  int64_t ready_replicas = 0;
  int64_t available_replicas = 0;
  std::string selector;  // label selector string for the scale subresource (HPA)
  CanaryStatus canary;
  BlueGreenStatus blue_green;
  std::optional<Time> restarted_at;
  std::optional<int64_t> collision_count;
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const RolloutStatus&) const = default;
};

struct Rollout {
  static constexpr std::string_view kKind = "Rollout";
  static constexpr std::string_view kPlural = "rollouts";
  static constexpr bool kNamespaced = true;

  ObjectMeta metadata;
  RolloutSpec spec;
  RolloutStatus status;
  nlohmann::json extra = nlohmann::json::object();

  static Result<Rollout> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
  // Schema-level checks again (for objects that did not come through the API server) plus what
  // a schema cannot say: selector matches template labels, steps well-formed, durations parse,
  // surge/unavailable not both zero, analysis references complete, services distinct.
  Status Validate() const;

  bool operator==(const Rollout&) const = default;
};

// maxSurge and maxUnavailable resolved against `replicas` as Kubernetes' Deployment does: surge
// rounds up, unavailable rounds down, and when both come out 0 unavailable becomes 1 so that the
// rollout can make progress.
struct Fenceposts {
  int64_t max_surge = 0;
  int64_t max_unavailable = 0;
};
Result<Fenceposts> ResolveFenceposts(const IntOrString& max_surge,
                                     const IntOrString& max_unavailable, int64_t replicas);

}  // namespace gantry::api
