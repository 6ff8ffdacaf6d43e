#include "operator/manifest/health.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace gantry::manifest {
namespace {

using nlohmann::json;

// Field access that tolerates any JSON: a missing field or one of the wrong type is the
// default. Live objects are written by other controllers; health must not crash on them.
const json* Find(const json& j, std::initializer_list<std::string_view> path) {
  const json* at = &j;
  for (std::string_view key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

int64_t Int(const json& j, std::initializer_list<std::string_view> path, int64_t fallback = 0) {
  const json* v = Find(j, path);
  if (v == nullptr || !v->is_number_integer()) return fallback;
  return v->get<int64_t>();
}

bool Has(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = Find(j, path);
  return v != nullptr && !v->is_null();
}

std::string Str(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = Find(j, path);
  if (v == nullptr || !v->is_string()) return "";
  return v->get<std::string>();
}

bool Bool(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = Find(j, path);
  return v != nullptr && v->is_boolean() && v->get<bool>();
}

const json& Array(const json& j, std::initializer_list<std::string_view> path) {
  static const json kEmpty = json::array();
  const json* v = Find(j, path);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

struct Condition {
  bool present = false;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;

  bool is_true() const { return status == "True"; }
  bool is_false() const { return status == "False"; }
  // "reason: message", or whichever of the two is there.
  std::string Text() const {
    if (reason.empty()) return message;
    if (message.empty()) return reason;
    return fmt::format("{}: {}", reason, message);
  }
};

Condition FindCondition(const json& conditions, std::string_view type) {
  if (!conditions.is_array()) return {};
  for (const json& c : conditions) {
    if (Str(c, {"type"}) != type) continue;
    return Condition{true, Str(c, {"status"}), Str(c, {"reason"}), Str(c, {"message"})};
  }
  return {};
}

Condition StatusCondition(const json& live, std::string_view type) {
  return FindCondition(Array(live, {"status", "conditions"}), type);
}

HealthStatus Healthy(std::string message = "") { return {Health::kHealthy, std::move(message)}; }
HealthStatus Progressing(std::string message) { return {Health::kProgressing, std::move(message)}; }
HealthStatus Degraded(std::string message) { return {Health::kDegraded, std::move(message)}; }
HealthStatus Suspended(std::string message) { return {Health::kSuspended, std::move(message)}; }

bool GenerationObserved(const json& live) {
  return Int(live, {"metadata", "generation"}) <= Int(live, {"status", "observedGeneration"});
}

HealthStatus DeploymentHealth(const json& live) {
  if (Bool(live, {"spec", "paused"})) return Suspended("Deployment is paused");
  if (!GenerationObserved(live)) {
    return Progressing(
        "Waiting for rollout to finish: the controller has not yet observed the latest spec");
  }
  Condition progressing = StatusCondition(live, "Progressing");
  if (progressing.reason == "ProgressDeadlineExceeded") {
    return Degraded(fmt::format("Deployment exceeded its progress deadline{}",
                                progressing.message.empty() ? "" : ": " + progressing.message));
  }
  int64_t replicas = Int(live, {"spec", "replicas"}, 1);
  int64_t updated = Int(live, {"status", "updatedReplicas"});
  int64_t current = Int(live, {"status", "replicas"});
  int64_t available = Int(live, {"status", "availableReplicas"});
  if (updated < replicas) {
    return Progressing(
        fmt::format("Waiting for rollout to finish: {} out of {} new replicas have been updated",
                    updated, replicas));
  }
  if (current > updated) {
    return Progressing(
        fmt::format("Waiting for rollout to finish: {} old replicas are pending termination",
                    current - updated));
  }
  if (available < updated) {
    return Progressing(
        fmt::format("Waiting for rollout to finish: {} of {} updated replicas are available",
                    available, updated));
  }
  return Healthy();
}

HealthStatus StatefulSetHealth(const json& live) {
  int64_t observed = Int(live, {"status", "observedGeneration"});
  if (observed == 0 || !GenerationObserved(live)) {
    return Progressing("Waiting for the statefulset spec update to be observed");
  }
  int64_t replicas = Int(live, {"spec", "replicas"}, 1);
  int64_t ready = Int(live, {"status", "readyReplicas"});
  if (ready < replicas) {
    return Progressing(fmt::format("Waiting for {} pods to be ready ({} of {} are)",
                                   replicas - ready, ready, replicas));
  }
  std::string strategy = Str(live, {"spec", "updateStrategy", "type"});
  if (strategy == "OnDelete") {
    // Pods change only when someone deletes them: nothing to wait for.
    return Healthy(fmt::format("statefulset has {} ready pods (update strategy OnDelete)", ready));
  }
  int64_t partition = Int(live, {"spec", "updateStrategy", "rollingUpdate", "partition"});
  int64_t updated = Int(live, {"status", "updatedReplicas"});
  if (partition > 0) {
    int64_t expected = replicas - partition;
    if (expected < 0) expected = 0;
    if (updated < expected) {
      return Progressing(fmt::format(
          "Waiting for partitioned roll out to finish: {} out of {} new pods have been updated",
          updated, expected));
    }
    return Healthy(
        fmt::format("partitioned roll out complete: {} new pods have been updated", updated));
  }
  std::string update_revision = Str(live, {"status", "updateRevision"});
  std::string current_revision = Str(live, {"status", "currentRevision"});
  if (!update_revision.empty() && update_revision != current_revision) {
    return Progressing(
        fmt::format("Waiting for statefulset rolling update to complete: {} pods at revision {}",
                    updated, update_revision));
  }
  return Healthy(fmt::format("statefulset rolling update complete: {} pods at revision {}",
                             Int(live, {"status", "currentReplicas"}, ready), current_revision));
}

HealthStatus DaemonSetHealth(const json& live) {
  int64_t observed = Int(live, {"status", "observedGeneration"});
  if (observed == 0 || !GenerationObserved(live)) {
    return Progressing("Waiting for the daemon set spec update to be observed");
  }
  int64_t desired = Int(live, {"status", "desiredNumberScheduled"});
  int64_t updated = Int(live, {"status", "updatedNumberScheduled"});
  int64_t available = Int(live, {"status", "numberAvailable"});
  if (Str(live, {"spec", "updateStrategy", "type"}) == "OnDelete") {
    return Healthy(
        fmt::format("daemon set {} out of {} new pods have been updated (update "
                    "strategy OnDelete)",
                    updated, desired));
  }
  if (updated < desired) {
    return Progressing(fmt::format(
        "Waiting for daemon set rollout to finish: {} out of {} new pods have been updated",
        updated, desired));
  }
  if (available < desired) {
    return Progressing(
        fmt::format("Waiting for daemon set rollout to finish: {} of {} updated pods are available",
                    available, desired));
  }
  return Healthy();
}

HealthStatus ReplicaSetHealth(const json& live) {
  if (!GenerationObserved(live)) {
    return Progressing(
        "Waiting for rollout to finish: the controller has not yet observed the latest spec");
  }
  Condition failure = StatusCondition(live, "ReplicaFailure");
  if (failure.is_true()) return Degraded(failure.Text());
  int64_t replicas = Int(live, {"spec", "replicas"}, 1);
  int64_t available = Int(live, {"status", "availableReplicas"});
  if (available < replicas) {
    return Progressing(
        fmt::format("Waiting for rollout to finish: {} out of {} new replicas are available",
                    available, replicas));
  }
  return Healthy();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Why a terminated container failed, or "" when it did not.
std::string TerminationFailure(const json& container_status) {
  const json* terminated = Find(container_status, {"state", "terminated"});
  if (terminated == nullptr || !terminated->is_object()) return "";
  std::string name = Str(container_status, {"name"});
  std::string message = Str(*terminated, {"message"});
  if (!message.empty()) return fmt::format("container \"{}\": {}", name, message);
  std::string reason = Str(*terminated, {"reason"});
  if (reason == "OOMKilled") return fmt::format("container \"{}\" was OOMKilled", name);
  int64_t exit_code = Int(*terminated, {"exitCode"});
  if (exit_code != 0) {
    return fmt::format("container \"{}\" failed with exit code {}", name, exit_code);
  }
  return "";
}

HealthStatus PodHealth(const json& live) {
  std::string restart_policy = Str(live, {"spec", "restartPolicy"});
  if (restart_policy.empty()) restart_policy = "Always";
  std::vector<const json*> statuses;
  for (const json& s : Array(live, {"status", "initContainerStatuses"})) statuses.push_back(&s);
  for (const json& s : Array(live, {"status", "containerStatuses"})) statuses.push_back(&s);
  std::string pod_message = Str(live, {"status", "message"});

  // Only a pod that restarts forever is stuck in a back-off; a finite pod (a Job's) reports
  // its failure through its phase instead.
  if (restart_policy == "Always") {
    std::string messages;
    for (const json* s : statuses) {
      std::string reason = Str(*s, {"state", "waiting", "reason"});
      if (reason.rfind("Err", 0) == 0 || EndsWith(reason, "Error") || EndsWith(reason, "BackOff")) {
        std::string message = Str(*s, {"state", "waiting", "message"});
        if (!messages.empty()) messages += "; ";
        messages += fmt::format("container \"{}\": {}{}", Str(*s, {"name"}), reason,
                                message.empty() ? "" : ": " + message);
      }
    }
    if (!messages.empty()) return Degraded(messages);
  }

  std::string phase = Str(live, {"status", "phase"});
  if (phase == "Pending" || phase.empty()) {
    return Progressing(pod_message.empty() ? "Pod is pending" : pod_message);
  }
  if (phase == "Succeeded") return Healthy(pod_message.empty() ? "Pod completed" : pod_message);
  if (phase == "Failed") {
    if (!pod_message.empty()) return Degraded(pod_message);
    for (const json* s : statuses) {
      std::string failure = TerminationFailure(*s);
      if (!failure.empty()) return Degraded(failure);
    }
    return Degraded("Pod failed");
  }
  if (phase == "Running") {
    if (restart_policy != "Always") {
      // A finite pod is not done until it has succeeded.
      return Progressing(pod_message.empty() ? "Pod is running" : pod_message);
    }
    if (StatusCondition(live, "Ready").is_true()) return Healthy(pod_message);
    for (const json* s : statuses) {
      if (Has(*s, {"lastState", "terminated"})) {
        return Degraded(
            fmt::format("container \"{}\" is not ready and has restarted (last exit code {})",
                        Str(*s, {"name"}), Int(*s, {"lastState", "terminated", "exitCode"})));
      }
    }
    return Progressing(pod_message.empty() ? "Waiting for containers to become ready"
                                           : pod_message);
  }
  return {Health::kUnknown,
          pod_message.empty() ? fmt::format("Pod phase is {}", phase) : pod_message};
}

HealthStatus JobHealth(const json& live) {
  Condition failed = StatusCondition(live, "Failed");
  if (failed.is_true()) return Degraded(failed.Text().empty() ? "Job failed" : failed.Text());
  Condition complete = StatusCondition(live, "Complete");
  if (complete.is_true()) return Healthy(complete.message);
  Condition suspended = StatusCondition(live, "Suspended");
  if (suspended.is_true() || Bool(live, {"spec", "suspend"})) {
    return Suspended(suspended.message.empty() ? "Job is suspended" : suspended.message);
  }
  return Progressing(
      fmt::format("Job is running: {} active pods", Int(live, {"status", "active"})));
}

HealthStatus CronJobHealth(const json& live) {
  if (Bool(live, {"spec", "suspend"})) return Suspended("CronJob is suspended");
  return Healthy();
}

bool HasLoadBalancerAddress(const json& live) {
  return !Array(live, {"status", "loadBalancer", "ingress"}).empty();
}

HealthStatus ServiceHealth(const json& live) {
  if (Str(live, {"spec", "type"}) != "LoadBalancer") return Healthy();
  if (HasLoadBalancerAddress(live)) return Healthy();
  return Progressing("Waiting for the load balancer to get an address");
}

HealthStatus IngressHealth(const json& live) {
  if (HasLoadBalancerAddress(live)) return Healthy();
  return Healthy("no load-balancer address published yet");
}

HealthStatus PersistentVolumeClaimHealth(const json& live) {
  std::string phase = Str(live, {"status", "phase"});
  if (phase == "Bound") return Healthy();
  if (phase == "Lost") return Degraded("the claim lost its volume");
  if (phase == "Pending" || phase.empty()) {
    return Progressing(
        "Waiting for the claim to be bound (a storage class with "
        "WaitForFirstConsumer binds only once a pod uses it)");
  }
  return {Health::kUnknown, fmt::format("PersistentVolumeClaim phase is {}", phase)};
}

HealthStatus HorizontalPodAutoscalerHealth(const json& live) {
  json conditions = Array(live, {"status", "conditions"});
  if (conditions.empty()) {
    // autoscaling/v1 keeps the v2 conditions in an annotation, as JSON text.
    std::string annotation =
        Str(live, {"metadata", "annotations", "autoscaling.alpha.kubernetes.io/conditions"});
    if (!annotation.empty()) {
      json parsed = json::parse(annotation, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_array()) conditions = std::move(parsed);
    }
  }
  for (std::string_view type : {"AbleToScale", "ScalingActive"}) {
    Condition c = FindCondition(conditions, type);
    if (!c.is_false()) continue;
    if (c.reason == "ScalingDisabled") {
      return Suspended(c.message.empty() ? "scaling is disabled" : c.message);
    }
    return Degraded(c.Text());
  }
  Condition able = FindCondition(conditions, "AbleToScale");
  if (able.is_true())
    return Healthy(FindCondition(conditions, "ScalingLimited").is_true()
                       ? FindCondition(conditions, "ScalingLimited").message
                       : able.message);
  return Progressing("Waiting for the autoscaler to report its conditions");
}

// Argo Rollouts wrote observedGeneration as a string in older versions (sometimes a hash); a
// value that is not a number cannot be compared and is ignored.
bool RolloutGenerationObserved(const json& live) {
  const json* observed = Find(live, {"status", "observedGeneration"});
  if (observed == nullptr) return true;
  int64_t value = 0;
  if (observed->is_number_integer()) {
    value = observed->get<int64_t>();
  } else if (observed->is_string()) {
    const std::string& s = observed->get_ref<const std::string&>();
    auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (error != std::errc() || end != s.data() + s.size()) return true;
  } else {
    return true;
  }
  return Int(live, {"metadata", "generation"}) <= value;
}

HealthStatus RolloutHealth(const json& live) {
  if (!RolloutGenerationObserved(live)) {
    return Progressing("Waiting for the rollout spec update to be observed");
  }
  std::string phase = Str(live, {"status", "phase"});
  std::string message = Str(live, {"status", "message"});
  if (phase == "Healthy") return Healthy(message);
  if (phase == "Progressing") return Progressing(message);
  if (phase == "Paused") return Suspended(message.empty() ? "Rollout is paused" : message);
  if (phase == "Degraded") return Degraded(message);
  if (phase.empty()) return Progressing("Waiting for the rollout controller to report status");
  return {Health::kUnknown, fmt::format("Rollout phase is {}", phase)};
}

HealthStatus ApplicationHealth(const json& live) {
  if (Bool(live, {"spec", "suspend"})) return Suspended("Application is suspended");
  if (Has(live, {"status", "observedGeneration"}) && !GenerationObserved(live)) {
    return Progressing("Waiting for the application controller to observe the latest spec");
  }
  std::string status = Str(live, {"status", "health", "status"});
  std::string message = Str(live, {"status", "health", "message"});
  if (status.empty()) return Progressing("Waiting for the application to report its health");
  std::optional<Health> health = ParseHealth(status);
  if (!health) return {Health::kUnknown, fmt::format("unknown health \"{}\"", status)};
  return {*health, message};
}

HealthStatus AnalysisRunHealth(const json& live) {
  std::string phase = Str(live, {"status", "phase"});
  std::string message = Str(live, {"status", "message"});
  if (phase.empty() || phase == "Pending" || phase == "Running") {
    return Progressing(message.empty() ? "Analysis is running" : message);
  }
  if (phase == "Successful") return Healthy(message);
  if (phase == "Failed" || phase == "Error") {
    return Degraded(message.empty()
                        ? fmt::format("Analysis {}", phase == "Error" ? "errored" : "failed")
                        : message);
  }
  if (phase == "Inconclusive") {
    return Suspended(message.empty() ? "Analysis is inconclusive: a person has to decide"
                                     : message);
  }
  return {Health::kUnknown, fmt::format("AnalysisRun phase is {}", phase)};
}

HealthStatus CustomResourceDefinitionHealth(const json& live) {
  Condition names = StatusCondition(live, "NamesAccepted");
  if (names.is_false()) return Degraded(names.Text());
  Condition established = StatusCondition(live, "Established");
  if (established.is_true()) return Healthy();
  return Progressing("Waiting for the CustomResourceDefinition to be established");
}

HealthStatus ApiServiceHealth(const json& live) {
  Condition available = StatusCondition(live, "Available");
  if (available.is_true()) return Healthy();
  return Progressing(available.Text().empty() ? "Waiting for the APIService to be available"
                                              : available.Text());
}

// kstatus: what any well-behaved controller reports through standard conditions.
HealthStatus ConditionsHealth(const json& live) {
  if (Has(live, {"status", "observedGeneration"}) && !GenerationObserved(live)) {
    return Progressing(fmt::format(
        "Waiting for the controller to observe generation {} (it has seen {})",
        Int(live, {"metadata", "generation"}), Int(live, {"status", "observedGeneration"})));
  }
  Condition stalled = StatusCondition(live, "Stalled");
  if (stalled.is_true()) return Degraded(stalled.Text());
  Condition reconciling = StatusCondition(live, "Reconciling");
  if (reconciling.is_true()) return Progressing(reconciling.Text());
  Condition ready = StatusCondition(live, "Ready");
  if (ready.present) {
    if (ready.is_true()) return Healthy(ready.message);
    if (ready.is_false()) return Degraded(ready.Text());
    return Progressing(ready.Text().empty() ? "Ready is Unknown" : ready.Text());
  }
  return Healthy();
}

HealthStatus HealthByKind(const json& live) {
  std::string api_version = Str(live, {"apiVersion"});
  std::string kind = Str(live, {"kind"});
  size_t slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);

  if (group == "apps" || group == "extensions") {
    if (kind == "Deployment") return DeploymentHealth(live);
    if (kind == "StatefulSet") return StatefulSetHealth(live);
    if (kind == "DaemonSet") return DaemonSetHealth(live);
    if (kind == "ReplicaSet") return ReplicaSetHealth(live);
  }
  if (group.empty()) {
    if (kind == "Pod") return PodHealth(live);
    if (kind == "Service") return ServiceHealth(live);
    if (kind == "PersistentVolumeClaim") return PersistentVolumeClaimHealth(live);
  }
  if (group == "batch") {
    if (kind == "Job") return JobHealth(live);
    if (kind == "CronJob") return CronJobHealth(live);
  }
  if ((group == "networking.k8s.io" || group == "extensions") && kind == "Ingress") {
    return IngressHealth(live);
  }
  if (group == "autoscaling" && kind == "HorizontalPodAutoscaler") {
    return HorizontalPodAutoscalerHealth(live);
  }
  if (group == "gantry.io" || group == "argoproj.io") {
    if (kind == "Rollout") return RolloutHealth(live);
    if (kind == "Application") return ApplicationHealth(live);
    if (kind == "AnalysisRun") return AnalysisRunHealth(live);
  }
  if (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition") {
    return CustomResourceDefinitionHealth(live);
  }
  if (group == "apiregistration.k8s.io" && kind == "APIService") return ApiServiceHealth(live);
  return ConditionsHealth(live);
}

}  // namespace

std::string_view HealthName(Health health) {
  switch (health) {
    case Health::kHealthy:
      return "Healthy";
    case Health::kProgressing:
      return "Progressing";
    case Health::kDegraded:
      return "Degraded";
    case Health::kSuspended:
      return "Suspended";
    case Health::kMissing:
      return "Missing";
    case Health::kUnknown:
      return "Unknown";
  }
  return "Unknown";
}

std::optional<Health> ParseHealth(std::string_view name) {
  for (Health h : {Health::kHealthy, Health::kProgressing, Health::kDegraded, Health::kSuspended,
                   Health::kMissing, Health::kUnknown}) {
    if (HealthName(h) == name) return h;
  }
  return std::nullopt;
}

bool IsWorse(Health a, Health b) {
  auto rank = [](Health h) {
    switch (h) {
      case Health::kHealthy:
        return 0;
      case Health::kSuspended:
        return 1;
      case Health::kProgressing:
        return 2;
      case Health::kMissing:
        return 3;
      case Health::kDegraded:
        return 4;
      case Health::kUnknown:
        return 5;
    }
    return 5;
  };
  return rank(a) > rank(b);
}

HealthStatus ComputeHealth(const json& live) {
  if (live.is_null()) return {Health::kMissing, "the object does not exist"};
  if (!live.is_object()) return {Health::kUnknown, "not a Kubernetes object"};
  if (Has(live, {"metadata", "deletionTimestamp"})) return Progressing("Pending deletion");
  try {
    return HealthByKind(live);
  } catch (const std::exception& e) {
    // The accessors above do not throw; this is a last guard for a bug, not a code path.
    return {Health::kUnknown, fmt::format("cannot compute health: {}", e.what())};
  }
}

}  // namespace gantry::manifest
