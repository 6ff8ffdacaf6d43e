// RolloutWorld: a FakeKubeClient and a FakeClock with just enough of the rest of Kubernetes
// around them to drive Rollout passes in unit tests: it plays the ReplicaSet controller (pods
// become ready when the test says so), the user (kubectl and the CLI's status writes) and the
// AnalysisRun reconciler (phases set by hand).
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "operator/common/clock.h"
#include "operator/kube/fake_kube_client.h"
#include "operator/rollout/rollout_sync.h"

namespace gantry::rollout::testing {

using nlohmann::json;

inline const kube::GroupVersionKind kRolloutKind{"gantry.io", "v1alpha1", "Rollout"};
inline const kube::GroupVersionKind kRsKind{"apps", "v1", "ReplicaSet"};
inline const kube::GroupVersionKind kServiceKind{"", "v1", "Service"};
inline const kube::GroupVersionKind kIngressKind{"networking.k8s.io", "v1", "Ingress"};
inline const kube::GroupVersionKind kRouteKind{"gateway.networking.k8s.io", "v1", "HTTPRoute"};
inline const kube::GroupVersionKind kRunKind{"gantry.io", "v1alpha1", "AnalysisRun"};
inline const kube::GroupVersionKind kTemplateKind{"gantry.io", "v1alpha1", "AnalysisTemplate"};
inline const kube::GroupVersionKind kPodKind{"", "v1", "Pod"};

class RolloutWorld {
 public:
  RolloutWorld();

  FakeClock clock;
  kube::FakeKubeClient client{clock};
  std::vector<RolloutEvent> events;
  Collaborators deps;
  const std::string ns = "shop";

  // A Rollout "web" with `replicas`, image `image` and the given strategy (JSON).
  static json RolloutJson(int replicas, const std::string& image, json strategy);
  void Create(const json& object);
  void CreateService(const std::string& name);

  // One pass; the test fails on an error.
  SyncOutcome Pass();
  Result<SyncOutcome> TryPass();

  // Plays the ReplicaSet controller: each ReplicaSet gets status.replicas = spec.replicas and
  // `ready` of them ready and available (all of them when `ready` is -1, or per hash in
  // ready_limit when set there).
  void Settle();
  std::map<std::string, int> ready_limit;  // hash -> max ready pods

  // Pass + Settle until the status stops changing (at most `max_passes`).
  void Converge(int max_passes = 30);

  json Rollout();
  api::Rollout Typed();
  json Status() { return Rollout()["status"]; }
  std::string Phase() { return Status().value("phase", ""); }
  std::string CurrentHash() { return Status().value("currentPodHash", ""); }
  std::string StableHash() { return Status().value("stableRS", ""); }
  int64_t StepIndex() { return Status().value("currentStepIndex", int64_t{-1}); }

  // spec.replicas per pod-template hash.
  std::map<std::string, int> Replicas();
  int ReplicasOf(const std::string& hash);
  json ReplicaSetOf(const std::string& hash);
  std::string ServiceSelector(const std::string& service);

  // What users do.
  void SetImage(const std::string& image);
  void PatchSpec(const json& spec_patch);
  void PatchStatus(const json& status_patch);
  void Promote();  // removes pause conditions (gantry rollout promote on a pause)

  // What the AnalysisRun reconciler does.
  std::vector<json> AnalysisRuns();
  void SetRunPhase(const std::string& name, const std::string& phase);

  bool HasEvent(const std::string& reason) const;
};

}  // namespace gantry::rollout::testing
