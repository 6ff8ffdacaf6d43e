// RolloutContext: what one reconcile pass of one Rollout knows and decides.
//
// A pass starts from the Rollout as read (spec plus the status it had), the ReplicaSets and
// AnalysisRuns it owns, and `now` from the injected Clock, fixed for the whole pass. Sub-steps
// (sync.h, service.h, analysis.h, traffic_router.h, canary.h, blue_green.h, status.h) read the
// context, write to the cluster through `client`, and record their decisions in
// `rollout.status` (the new status under construction; `old_status` keeps what was read) and
// in `pause` (pause/abort intents applied once, at the end). Nothing is written to the Rollout
// itself until the pass ends, in one status write, so a pass that fails half-way leaves the
// recorded progress as it was and the next pass redoes the same decisions from the same state.
//
// One context per pass, used by one thread; it borrows the collaborators, which must outlive it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/analysis.h"
#include "operator/api/rollout.h"
#include "operator/common/clock.h"
#include "operator/kube/kube_client.h"
#include "operator/rollout/pause.h"
#include "operator/rollout/reader.h"
#include "operator/rollout/replicaset.h"

namespace gantry::rollout {

// A Kubernetes Event about the Rollout.
struct RolloutEvent {
  bool warning = false;
  std::string reason;  // CamelCase: RolloutUpdated, ScalingReplicaSet, RolloutAborted, ...
  std::string message;
};

// Receives the events of a pass; `rollout` is the Rollout object as read. Called on the pass's
// thread.
using EventSink = std::function<void(const kube::Object& rollout, const RolloutEvent& event)>;

// The collaborators of every pass. All references must outlive the passes that use them.
struct Collaborators {
  kube::KubeClient& client;
  Clock& clock;
  EventSink events;  // may be empty: events are then only logged
  // The field manager named on every write, so `kubectl get --show-managed-fields` tells
  // Gantry's changes apart.
  std::string field_manager = "gantry";
  // Where the Rollout, its ReplicaSets, AnalysisRuns and Services are read from: the
  // operator's informer caches. Null: every read is a request to the API server, through
  // `client`.
  ObjectReader* reader = nullptr;
};

class TrafficRouter;

struct RolloutContext {
  RolloutContext(const Collaborators& deps, ObjectReader& reader, api::Rollout read,
                 kube::Object object);
  ~RolloutContext();
  RolloutContext(const RolloutContext&) = delete;
  RolloutContext& operator=(const RolloutContext&) = delete;

  const Collaborators& deps;
  kube::KubeClient& client;  // every write goes here
  ObjectReader& reader;      // and reads here; tell it of each write (ObjectReader::Wrote)
  const Clock::TimePoint now;

  // The Rollout as read, with `rollout.status` becoming the new status during the pass.
  api::Rollout rollout;
  const api::RolloutStatus old_status;
  const kube::Object object;  // the Rollout as read, for events and owner references
  PauseState pause;

  // Filled by LoadReplicaSets / EnsureNewReplicaSet (sync.h).
  std::vector<ReplicaSetInfo> replica_sets;  // owned and not being deleted
  std::string current_hash;                  // hash of spec.template (with collisionCount)

  // Filled by LoadAnalysisRuns (analysis.h).
  std::vector<api::AnalysisRun> analysis_runs;

  // The traffic router of a canary with trafficRouting, or null.
  std::unique_ptr<TrafficRouter> router;
  // What the router was told this pass (and whether it reads back the same), for steps that
  // wait for the weight.
  std::optional<int32_t> weight_set;
  bool weight_verified = false;

  // True once any ReplicaSet was scaled this pass: the step in progress waits for the next
  // pass to see the result.
  bool scaled = false;

  // The ReplicaSet of the current template, of status.stableRS, or nullptr. Pointers into
  // replica_sets, valid until it changes.
  ReplicaSetInfo* NewRs();
  ReplicaSetInfo* StableRs();
  ReplicaSetInfo* FindRs(std::string_view hash);
  // Every owned ReplicaSet that is neither the new nor the stable one.
  std::vector<ReplicaSetInfo*> OlderRs();

  // "shop/web".
  std::string Key() const;
  OwnerInfo Owner() const;
  int32_t Replicas() const;

  // Asks for another pass after `d` (the shortest request of a pass wins).
  void RequeueAfter(Clock::Duration d);
  const std::optional<Clock::Duration>& requeue_after() const { return requeue_after_; }

  void Normal(std::string reason, std::string message);
  void Warning(std::string reason, std::string message);

 private:
  std::optional<Clock::Duration> requeue_after_;
};

}  // namespace gantry::rollout
