// The ReplicaSets a Rollout owns: how they are named, labelled, read and retired.
//
// A Rollout keeps one ReplicaSet per pod template it has run, named `<rollout>-<hash>` (see
// pod_template_hash.h) and owned through a controller reference. The ReplicaSet and its pods
// carry `rollouts-pod-template-hash: <hash>`, which is what the stable/canary/active/preview
// Services select on. Revisions are counted in the annotation `gantry.io/revision` on each
// ReplicaSet (Gantry's own prefix, as every Gantry annotation; Deployments use
// `deployment.kubernetes.io/revision` the same way): a new template gets max+1, and going back
// to an earlier template reuses its ReplicaSet and moves it to max+1, so `gantry rollout undo`
// and `--to-revision` have the history Deployments users know.
//
// Everything here reads or builds JSON objects; no I/O. Safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/clock.h"

namespace gantry::rollout {

inline constexpr std::string_view kRevisionAnnotation = "gantry.io/revision";
// When an old ReplicaSet that still serves traffic (blue/green's previous active side, a
// traffic-routed canary's previous stable, an aborted canary) may be scaled to zero. RFC 3339.
inline constexpr std::string_view kScaleDownDeadlineAnnotation = "gantry.io/scale-down-deadline";

// What the strategies need to know of one ReplicaSet, read from the object.
struct ReplicaSetInfo {
  nlohmann::json object;  // as read from the API
  std::string name;
  std::string hash;       // label rollouts-pod-template-hash; "" when missing
  int64_t revision = 0;   // annotation gantry.io/revision; 0 when missing or not a number
  int32_t desired = 0;    // spec.replicas (Kubernetes defaults a missing value to 1)
  int32_t replicas = 0;   // status.replicas: pods that exist
  int32_t ready = 0;      // status.readyReplicas
  int32_t available = 0;  // status.availableReplicas (ready for minReadySeconds)
  int64_t observed_generation = 0;
  int64_t generation = 0;
  std::optional<Clock::TimePoint> scale_down_deadline;
  std::string controller_uid;  // uid of the ownerReference with controller: true; "" if none
  bool being_deleted = false;  // metadata.deletionTimestamp is set

  // The ReplicaSet controller has seen the latest spec, so the status counts are current.
  bool StatusCurrent() const { return observed_generation >= generation; }
};

// Reads `object` (an apps/v1 ReplicaSet) leniently: missing fields read as zero or empty.
ReplicaSetInfo ReadReplicaSet(nlohmann::json object);

// The owner a Rollout puts on what it creates.
struct OwnerInfo {
  std::string api_version;  // "gantry.io/v1alpha1"
  std::string kind;         // "Rollout"
  std::string name;
  std::string uid;
};

// An ownerReference with controller and blockOwnerDeletion set, so that garbage collection
// deletes the object with its owner and no other controller adopts it.
nlohmann::json ControllerReference(const OwnerInfo& owner);

// The ReplicaSet name for a Rollout and hash; long Rollout names are cut so that the name
// stays a valid DNS label part (at most 253 characters, no trailing '-' or '.').
std::string ReplicaSetName(std::string_view rollout, std::string_view hash);

struct NewReplicaSetParams {
  std::string ns;
  OwnerInfo owner;
  nlohmann::json pod_template;  // spec.template of the Rollout
  nlohmann::json selector;      // spec.selector of the Rollout (metav1.LabelSelector)
  std::string hash;
  int64_t revision = 1;
  int32_t replicas = 0;
  int64_t min_ready_seconds = 0;
};

// A new ReplicaSet for the template: labels, selector and pod labels gain the hash label, the
// revision annotation is set, and the Rollout is its controller.
nlohmann::json NewReplicaSet(const NewReplicaSetParams& params);

// True when the ReplicaSet's template is the Rollout's template: every field the Rollout sets
// has the same value in the ReplicaSet, which may hold more (the API server fills defaults
// such as imagePullPolicy into a ReplicaSet's template, but not into a Rollout's). The hash
// label is ignored. Used to tell a reusable ReplicaSet from a hash collision.
bool TemplateMatches(const nlohmann::json& rollout_template, const nlohmann::json& rs_template);

// True when both templates say the same thing (each matches the other), the hash label aside:
// a Rollout template copied back from a ReplicaSet (`gantry rollout undo`, or `kubectl edit`
// with the server's defaults in it) is recognised as that ReplicaSet's template even though it
// hashes differently.
bool SameTemplate(const nlohmann::json& a, const nlohmann::json& b);

// The highest revision among `sets`, 0 when empty.
int64_t MaxRevision(const std::vector<ReplicaSetInfo>& sets);

// Names of the ReplicaSets to delete so that at most `history_limit` old ones remain. Only
// ReplicaSets with no replicas (spec and status) are candidates, never those in `keep` (the
// current, stable and active ones), oldest revision first.
std::vector<std::string> ReplicaSetsToPrune(const std::vector<ReplicaSetInfo>& sets,
                                            const std::set<std::string>& keep,
                                            int32_t history_limit);

// A merge patch that sets spec.replicas and the scale-down deadline annotation (or removes it
// when `deadline` is empty).
nlohmann::json ScalePatch(int32_t replicas, std::optional<Clock::TimePoint> deadline);

}  // namespace gantry::rollout
