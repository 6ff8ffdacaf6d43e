#include "operator/cli/rollout_watch.h"

#include <fmt/format.h>

#include <array>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "operator/cli/rollout_view.h"
#include "operator/kube/informer.h"
#include "operator/kube/label_selector.h"
#include "operator/rollout/analysis_run_builder.h"

namespace gantry::cli {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

const kube::GroupVersionKind kRollout{"gantry.io", "v1alpha1", "Rollout"};
const kube::GroupVersionKind kReplicaSet{"apps", "v1", "ReplicaSet"};
const kube::GroupVersionKind kPod{"", "v1", "Pod"};
const kube::GroupVersionKind kAnalysisRun{"gantry.io", "v1alpha1", "AnalysisRun"};

// How long the first tree waits for the informers' initial lists. The Rollout's own is
// required; without the others (say, no AnalysisRun CRD) the tree shows what there is.
constexpr std::chrono::seconds kSyncTimeout{10};

std::vector<kube::Object> Copies(const std::vector<kube::ObjectPtr>& objects) {
  std::vector<kube::Object> out;
  out.reserve(objects.size());
  for (const kube::ObjectPtr& o : objects) out.push_back(*o);
  return out;
}

// Set by the informers' threads, taken by the drawing loop.
class StaleFlag {
 public:
  void Mark() {
    {
      std::lock_guard lock(mu_);
      stale_ = true;
    }
    cv_.notify_all();
  }
  // Waits until marked, `until` passes or `stop` is requested; returns whether it was marked,
  // clearing the mark.
  bool WaitAndTake(SteadyClock::time_point until, std::stop_token stop) {
    std::unique_lock lock(mu_);
    cv_.wait_until(lock, stop, until, [&] { return stale_; });
    return std::exchange(stale_, false);
  }

 private:
  std::mutex mu_;  // guards stale_
  std::condition_variable_any cv_;
  bool stale_ = false;
};

}  // namespace

Status WatchRollout(kube::KubeClient& client, const std::string& ns, const std::string& name,
                    const WatchRolloutOptions& options, const FrameSink& emit, std::stop_token stop,
                    const Clock& clock) {
  Result<kube::Object> first = client.Get({kRollout, ns, name});
  if (!first.ok()) return first.status().WithContext(fmt::format("Rollout {}/{}", ns, name));
  Result<kube::LabelSelector> selector = kube::LabelSelector::FromJson(
      first->value("spec", json::object()).value("selector", json::object()));
  if (!selector.ok()) {
    return selector.status().WithContext(fmt::format("spec.selector of Rollout {}/{}", ns, name));
  }

  kube::InformerOptions rollout_options;
  rollout_options.ns = ns;
  rollout_options.field_selector = "metadata.name=" + name;
  kube::InformerOptions owned_options;
  owned_options.ns = ns;
  owned_options.label_selector = selector->ToString();
  kube::InformerOptions run_options;
  run_options.ns = ns;
  run_options.label_selector = fmt::format("{}={}", rollout::kRolloutNameLabel, name);
  // Quick retries: a watch on a terminal should not sit out a long backoff.
  for (kube::InformerOptions* o : {&rollout_options, &owned_options, &run_options}) {
    o->initial_backoff = std::chrono::milliseconds(200);
    o->max_backoff = std::chrono::milliseconds(5000);
  }
  kube::SharedInformer rollouts(client, kRollout, rollout_options);
  kube::SharedInformer replica_sets(client, kReplicaSet, owned_options);
  kube::SharedInformer pods(client, kPod, owned_options);
  kube::SharedInformer runs(client, kAnalysisRun, run_options);
  const std::array<kube::SharedInformer*, 4> informers{&rollouts, &replica_sets, &pods, &runs};

  StaleFlag stale;
  for (kube::SharedInformer* informer : informers) {
    informer->AddEventHandler(
        {[&](const kube::ObjectPtr&) { stale.Mark(); },
         [&](const kube::ObjectPtr&, const kube::ObjectPtr&) { stale.Mark(); },
         [&](const kube::ObjectPtr&) { stale.Mark(); }});
    informer->Start();
  }
  // The informers' threads call into `stale` and `client`: stop them before either goes.
  struct StopAll {
    const std::array<kube::SharedInformer*, 4>& informers;
    ~StopAll() {
      for (kube::SharedInformer* informer : informers) informer->Stop();
    }
  } stop_all{informers};

  const auto sync_deadline = SteadyClock::now() + kSyncTimeout;
  for (kube::SharedInformer* informer : informers) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(sync_deadline - SteadyClock::now());
    informer->WaitForSync(std::max(left, std::chrono::milliseconds(0)));
  }
  if (!rollouts.HasSynced()) {
    return Unavailable(fmt::format("watching Rollout {}/{}: no answer within {}s ({})", ns, name,
                                   kSyncTimeout.count(), rollouts.Stats().last_error));
  }

  std::string last_frame;
  bool draw = true;  // the first tree, at once
  auto next_tick = SteadyClock::now() + options.tick;
  while (!stop.stop_requested()) {
    if (draw) {
      kube::ObjectPtr rollout = rollouts.Get({ns, name});
      if (rollout == nullptr) {
        emit(fmt::format("Rollout {}/{} was deleted\n", ns, name));
        return NotFound(fmt::format("Rollout {}/{} was deleted", ns, name));
      }
      RolloutView view = AssembleRolloutView(*rollout, Copies(replica_sets.List(ns)),
                                             Copies(pods.List(ns)), Copies(runs.List(ns)));
      std::string frame = RenderRolloutView(view, clock.Now());
      if (frame != last_frame) {
        if (!emit(frame)) return Status::Ok();
        last_frame = std::move(frame);
      }
      draw = false;
    }
    SteadyClock::time_point until = next_tick;
    if (options.deadline) until = std::min(until, *options.deadline);
    if (stale.WaitAndTake(until, stop)) {
      // Let the rest of a burst arrive, then draw once.
      StaleFlag settle;
      settle.WaitAndTake(SteadyClock::now() + options.settle, stop);
      stale.WaitAndTake(SteadyClock::now(), stop);  // clears what came meanwhile
      draw = true;
    }
    const auto now = SteadyClock::now();
    if (options.deadline && now >= *options.deadline) return Status::Ok();
    if (now >= next_tick) {
      next_tick = now + options.tick;
      if (options.output_gone && options.output_gone()) return Status::Ok();
      if (options.redraw) draw = true;  // ages move on
    }
  }
  return Status::Ok();
}

}  // namespace gantry::cli
