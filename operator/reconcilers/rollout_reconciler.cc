#include "operator/reconcilers/rollout_reconciler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "operator/api/rollout.h"
#include "operator/controller/metrics.h"
#include "operator/rollout/analysis_run_builder.h"
#include "operator/rollout/pod_template_hash.h"
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
const kube::GroupVersionKind kServiceGvk{"", "v1", "Service"};

// Rollout informer index: "<namespace>/<service>" for each Service a Rollout's strategy names.
constexpr char kServicesIndex[] = "rollout-services";

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

// The Services a Rollout's strategy names, as kServicesIndex values. Read from the JSON, not
// the typed Rollout: an index function must not fail, and an invalid Rollout still names them.
std::vector<std::string> ReferencedServices(const kube::Object& rollout) {
  std::vector<std::string> out;
  const kube::Object& strategy =
      rollout.value("spec", kube::Object::object()).value("strategy", kube::Object::object());
  const std::string ns = kube::NamespaceOf(rollout);
  const auto add = [&](const char* strategy_name, std::initializer_list<const char*> fields) {
    if (!strategy.contains(strategy_name) || !strategy[strategy_name].is_object()) return;
    for (const char* field : fields) {
      const kube::Object& name = strategy[strategy_name].value(field, kube::Object());
      if (name.is_string() && !name.get<std::string>().empty()) {
        out.push_back(ns + "/" + name.get<std::string>());
      }
    }
  };
  add("canary", {"stableService", "canaryService"});
  add("blueGreen", {"activeService", "previewService"});
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Only what a pass reads of a Service (rollout/service.h): which it is and its selector. The
// operator caches every Service in its namespaces, most of them not a Rollout's.
void SlimService(kube::Object& service) {
  kube::Object slim = {{"apiVersion", service.value("apiVersion", "v1")},
                       {"kind", service.value("kind", "Service")}};
  const kube::Object& meta = service.value("metadata", kube::Object::object());
  kube::Object slim_meta = kube::Object::object();
  for (const char* key : {"name", "namespace", "uid", "resourceVersion", "generation"}) {
    if (meta.contains(key)) slim_meta[key] = meta[key];
  }
  slim["metadata"] = std::move(slim_meta);
  const kube::Object& spec = service.value("spec", kube::Object::object());
  if (spec.contains("selector")) slim["spec"] = {{"selector", spec["selector"]}};
  service = std::move(slim);
}

kube::Object SelectorOf(const kube::Object& service) {
  return service.value("spec", kube::Object::object()).value("selector", kube::Object());
}

class RolloutControllerImpl final : public RolloutController {
 public:
  RolloutControllerImpl(controller::Manager& manager,
                        std::vector<const kube::SharedInformer*> informers)
      : metrics(rollout::NewPrometheusRolloutMetrics(manager.metrics().registry())),
        reader(rollout::NewInformerObjectReader(manager.client(), manager.clock(),
                                                std::move(informers), manager.options().ns)),
        reconciler(manager.client(), manager.events(), manager.clock(), *metrics, reader.get()) {}

  std::unique_ptr<rollout::RolloutMetrics> metrics;
  std::unique_ptr<rollout::ObjectReader> reader;
  RolloutReconciler reconciler;
};

}  // namespace

RolloutReconciler::RolloutReconciler(kube::KubeClient& client, kube::EventRecorder& events,
                                     Clock& clock, rollout::RolloutMetrics& metrics,
                                     rollout::ObjectReader* reader)
    : client_(client), events_(events), clock_(clock), metrics_(metrics), reader_(reader) {}

controller::ReconcileResult RolloutReconciler::Reconcile(const kube::ObjectKey& key) {
  rollout::Collaborators deps{
      client_, clock_,
      [this](const kube::Object& object, const rollout::RolloutEvent& e) {
        events_.Event(object, e.warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                      e.reason, e.message);
      },
      "gantry", reader_};
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
  kube::SharedInformer& rollouts = manager.Informer(kRolloutGvk);
  GANTRY_RETURN_IF_ERROR(rollouts.AddIndex(kServicesIndex, ReferencedServices));
  // Only ReplicaSets a Rollout made (or may adopt: LoadReplicaSets skips those without the
  // label), not every Deployment's.
  kube::InformerOptions set_options;
  set_options.label_selector = std::string(rollout::kPodTemplateHashLabel);
  kube::SharedInformer& sets = manager.Informer(kReplicaSetGvk, set_options);
  kube::SharedInformer& runs = manager.Informer(kAnalysisRunGvk);
  kube::InformerOptions service_options;
  service_options.transform = SlimService;
  kube::SharedInformer& services = manager.Informer(kServiceGvk, service_options);

  auto c = std::make_unique<RolloutControllerImpl>(
      manager, std::vector<const kube::SharedInformer*>{&rollouts, &sets, &runs, &services});
  controller::WorkQueue& queue = manager.AddController("rollout", c->reconciler);

  rollouts.AddEventHandler(kube::EventHandler{
      [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); },
      [&queue](const kube::ObjectPtr& old_object, const kube::ObjectPtr& new_object) {
        // Our own status writes come back here too; they are cheap to look at again and
        // carry what a user wrote into status (abort, promote). A pass that changes nothing
        // writes nothing, so this does not loop.
        if (kube::ResourceVersionOf(*old_object) != kube::ResourceVersionOf(*new_object)) {
          queue.Add(kube::KeyOf(*new_object));
        }
      },
      [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); }});

  const auto enqueue_owner = [&queue](const kube::ObjectPtr& o) {
    if (auto key = ControllingRollout(*o)) queue.Add(*key);
  };
  sets.AddEventHandler(kube::EventHandler{
      enqueue_owner,
      [enqueue_owner](const kube::ObjectPtr&, const kube::ObjectPtr& n) { enqueue_owner(n); },
      enqueue_owner});

  const auto enqueue_labelled = [&queue](const kube::ObjectPtr& o) {
    const std::string name = kube::LabelsOf(*o).value(std::string(rollout::kRolloutNameLabel), "");
    if (!name.empty()) queue.Add({kube::NamespaceOf(*o), name});
  };
  runs.AddEventHandler(kube::EventHandler{
      enqueue_labelled,
      [enqueue_labelled](const kube::ObjectPtr&, const kube::ObjectPtr& n) { enqueue_labelled(n); },
      enqueue_labelled});

  // A Service edited by hand (its selector) is put back by the next pass of the Rollouts that
  // name it; one created late lets a Rollout waiting for it go on.
  const auto enqueue_referrers = [&queue, &rollouts](const kube::ObjectPtr& svc) {
    const std::string value = kube::NamespaceOf(*svc) + "/" + kube::NameOf(*svc);
    for (const kube::ObjectPtr& r : rollouts.ByIndex(kServicesIndex, value)) {
      queue.Add(kube::KeyOf(*r));
    }
  };
  services.AddEventHandler(
      kube::EventHandler{enqueue_referrers,
                         [enqueue_referrers](const kube::ObjectPtr& o, const kube::ObjectPtr& n) {
                           if (SelectorOf(*o) != SelectorOf(*n)) enqueue_referrers(n);
                         },
                         enqueue_referrers});
  spdlog::info("rollout controller registered");
  return std::unique_ptr<RolloutController>(std::move(c));
}

}  // namespace gantry::reconcilers
