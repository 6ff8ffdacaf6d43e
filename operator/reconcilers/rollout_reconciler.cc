#include "operator/reconcilers/rollout_reconciler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <string>

#include "operator/api/rollout.h"
#include "operator/controller/metrics.h"
#include "operator/rollout/analysis_run_builder.h"
#include "operator/rollout/rollout_sync.h"

namespace gantry::reconcilers {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const kube::GroupVersionKind kRolloutGvk{std::string(api::kGroup), std::string(api::kVersion),
                                         "Rollout"};
const kube::GroupVersionKind kReplicaSetGvk{"apps", "v1", "ReplicaSet"};
const kube::GroupVersionKind kAnalysisRunGvk{std::string(api::kGroup), std::string(api::kVersion),
                                             "AnalysisRun"};

// A settled Rollout is looked at again this often, to put back hand edits of what it manages.
constexpr minutes kResync(5);

// The Rollout that controls `object`, from its ownerReferences.
std::optional<kube::ObjectKey> ControllingRollout(const kube::Object& object) {
  const auto& meta = object["metadata"];
  if (!meta.contains("ownerReferences") || !meta["ownerReferences"].is_array()) return std::nullopt;
  for (const auto& ref : meta["ownerReferences"]) {
    if (ref.value("controller", false) && ref.value("kind", "") == "Rollout" &&
        ref.value("apiVersion", "") == api::kApiVersion) {
      return kube::ObjectKey{kube::NamespaceOf(object), ref.value("name", "")};
    }
  }
  return std::nullopt;
}

class RolloutControllerImpl final : public RolloutController {
 public:
  RolloutControllerImpl(controller::Manager& manager)
      : metrics(rollout::NewPrometheusRolloutMetrics(manager.metrics().registry())),
        reconciler(manager.client(), manager.events(), manager.clock(), *metrics) {}

  std::unique_ptr<rollout::RolloutMetrics> metrics;
  RolloutReconciler reconciler;
};

}  // namespace

RolloutReconciler::RolloutReconciler(kube::KubeClient& client, kube::EventRecorder& events,
                                     Clock& clock, rollout::RolloutMetrics& metrics)
    : client_(client), events_(events), clock_(clock), metrics_(metrics) {}

controller::ReconcileResult RolloutReconciler::Reconcile(const kube::ObjectKey& key) {
  rollout::Collaborators deps{
      client_, clock_, [this](const kube::Object& object, const rollout::RolloutEvent& e) {
        events_.Event(object, e.warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                      e.reason, e.message);
      }};
  Result<rollout::SyncOutcome> out = rollout::SyncRollout(deps, key);
  if (!out.ok()) return controller::ReconcileResult::Error(out.status());
  switch (out->kind) {
    case rollout::SyncOutcome::Kind::kGone:
      metrics_.Forget(key.ns, key.name);
      return controller::ReconcileResult::Done();
    case rollout::SyncOutcome::Kind::kStalled:
      if (out->rollout) metrics_.Record(*out->rollout, out->canary_weight);
      return controller::ReconcileResult::Stalled(out->message);
    case rollout::SyncOutcome::Kind::kDone:
      break;
  }
  metrics_.Record(*out->rollout, out->canary_weight);
  const auto phase = out->rollout->status.phase;
  if (out->requeue_after) {
    const bool moving =
        phase == api::RolloutPhase::kProgressing || phase == api::RolloutPhase::kPaused;
    if (moving || *out->requeue_after < kResync) {
      return controller::ReconcileResult::Waiting(*out->requeue_after,
                                                  out->rollout->status.message);
    }
  }
  return controller::ReconcileResult::Done(kResync);
}

Result<std::unique_ptr<RolloutController>> SetUpRolloutController(controller::Manager& manager) {
  auto c = std::make_unique<RolloutControllerImpl>(manager);
  controller::WorkQueue& queue = manager.AddController("rollout", c->reconciler);

  kube::SharedInformer& rollouts = manager.Informer(kRolloutGvk);
  rollouts.AddEventHandler(kube::EventHandler{
      [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); },
      [&queue](const kube::ObjectPtr& old_object, const kube::ObjectPtr& new_object) {
        // Our own status writes come back here too; they are cheap to look at again and
        // carry what a user wrote into status (abort, promote).
        if (kube::ResourceVersionOf(*old_object) != kube::ResourceVersionOf(*new_object)) {
          queue.Add(kube::KeyOf(*new_object));
        }
      },
      [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); }});

  const auto enqueue_owner = [&queue](const kube::ObjectPtr& o) {
    if (auto key = ControllingRollout(*o)) queue.Add(*key);
  };
  // Informers are shared by kind across controllers, so these take the defaults: a transform
  // or selector here would change what every other user of the kind sees.
  kube::SharedInformer& sets = manager.Informer(kReplicaSetGvk);
  sets.AddEventHandler(kube::EventHandler{
      enqueue_owner,
      [enqueue_owner](const kube::ObjectPtr&, const kube::ObjectPtr& n) { enqueue_owner(n); },
      enqueue_owner});

  kube::SharedInformer& runs = manager.Informer(kAnalysisRunGvk);
  const auto enqueue_labelled = [&queue](const kube::ObjectPtr& o) {
    const std::string name = kube::LabelsOf(*o).value(std::string(rollout::kRolloutNameLabel), "");
    if (!name.empty()) queue.Add({kube::NamespaceOf(*o), name});
  };
  runs.AddEventHandler(kube::EventHandler{
      enqueue_labelled,
      [enqueue_labelled](const kube::ObjectPtr&, const kube::ObjectPtr& n) { enqueue_labelled(n); },
      enqueue_labelled});
  spdlog::info("rollout controller registered");
  return std::unique_ptr<RolloutController>(std::move(c));
}

}  // namespace gantry::reconcilers
