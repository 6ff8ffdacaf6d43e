// The health of a live Kubernetes object, as Application status.health and `wait` report it.
//
// One rule per kind, in the spirit of Argo CD's built-in checks (which users already know how
// to read) and kstatus (which Flux uses):
//   Deployment, StatefulSet, DaemonSet, ReplicaSet  rollout progress vs. the spec, observed
//                    generation; a Deployment past its progress deadline is Degraded, a paused
//                    one Suspended
//   Pod              phase; containers waiting in CrashLoopBackOff, ImagePullBackOff, Err*,
//                    *Error are Degraded (only with restartPolicy Always: other pods are
//                    finite and their failures show in the phase)
//   Job, CronJob     Complete / Failed conditions, spec.suspend
//   Service          a LoadBalancer needs an address (Progressing until it has one)
//   Ingress          Healthy; see below
//   PersistentVolumeClaim  Bound / Pending / Lost
//   HorizontalPodAutoscaler  its AbleToScale / ScalingActive conditions (v2 status or the v1
//                    annotation)
//   Rollout (gantry.io, argoproj.io)  status.phase, Paused -> Suspended, observedGeneration
//   Application (gantry.io, argoproj.io)  its own status.health
//   AnalysisRun      status.phase; Inconclusive -> Suspended (a person has to decide)
//   CustomResourceDefinition  Established / NamesAccepted; APIService  Available
//   anything else with kstatus conditions  Stalled -> Degraded, Reconciling -> Progressing,
//                    Ready True/False/Unknown -> Healthy/Degraded/Progressing, and
//                    observedGeneration behind generation -> Progressing
//   anything else    Healthy once it exists (ConfigMaps, Secrets, RBAC, ...)
// An object being deleted is Progressing; no object (JSON null) is Missing.
//
// Ingress: Argo CD calls an Ingress without a load-balancer address Progressing. Many
// controllers never publish one (and clusters without an ingress controller never will), which
// would hold an Application with `wait` forever. Gantry follows kstatus: Healthy once it
// exists, with a message saying no address is published yet.
//
// Pure functions that never throw, whatever the JSON holds; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::manifest {

enum class Health { kHealthy, kProgressing, kDegraded, kSuspended, kMissing, kUnknown };

// "Healthy", "Progressing", ... as in status.health.status.
std::string_view HealthName(Health health);
// The inverse of HealthName; nullopt for anything else.
std::optional<Health> ParseHealth(std::string_view name);

// True when `a` is worse than `b` for an aggregate (an Application's health is its worst
// resource's): Healthy < Suspended < Progressing < Missing < Degraded < Unknown, Argo CD's
// order.
bool IsWorse(Health a, Health b);

struct HealthStatus {
  Health status = Health::kUnknown;
  std::string message;  // why, for people; may be empty when Healthy

  bool operator==(const HealthStatus&) const = default;
};

// The health of `live` (the object as the API server returns it; null when it does not exist).
HealthStatus ComputeHealth(const nlohmann::json& live);

}  // namespace gantry::manifest
