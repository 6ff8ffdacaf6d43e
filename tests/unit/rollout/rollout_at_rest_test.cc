// A Rollout at rest, reconciled the way the operator does it: reads served by informers over
// the fake API server (rollout/reader.h), writes to the server. Resyncs of a Healthy Rollout
// must neither read from nor write to the server, so they cause no watch event that would bring
// the Rollout back; and the reader must not let a pass act on a cache older than its own writes.
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <chrono>
#include <thread>

#include "operator/kube/fake_event_recorder.h"
#include "operator/kube/informer.h"
#include "operator/reconcilers/rollout_reconciler.h"
#include "operator/rollout/pod_template_hash.h"
#include "operator/rollout/reader.h"
#include "rollout_world.h"

namespace gantry::rollout::testing {
namespace {

using controller::ReconcileResult;
using std::chrono::minutes;
using FakeVerb = kube::FakeKubeClient::Verb;

constexpr std::chrono::seconds kWait(10);

kube::InformerOptions FastOptions() {
  kube::InformerOptions o;
  o.initial_backoff = std::chrono::milliseconds(1);
  o.max_backoff = std::chrono::milliseconds(5);
  return o;
}

// Polls (real time) until `done`; the informers run on their own threads.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

json CanaryWithServices() {
  return RolloutWorld::RolloutJson(
      2, "web:1",
      json{{"canary",
            {{"stableService", "web-stable"},
             {"canaryService", "web-canary"},
             {"steps", json::array({{{"setWeight", 50}}, {{"pause", json::object()}}})}}}});
}

class RolloutAtRestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    w.CreateService("web-stable");
    w.CreateService("web-canary");
    w.Create(CanaryWithServices());
    w.Converge();
    ASSERT_EQ(w.Phase(), "Healthy");
    kube::InformerOptions sets = FastOptions();
    sets.label_selector = std::string(kPodTemplateHashLabel);
    informers.push_back(
        std::make_unique<kube::SharedInformer>(w.client, kRolloutKind, FastOptions()));
    informers.push_back(std::make_unique<kube::SharedInformer>(w.client, kRsKind, sets));
    informers.push_back(std::make_unique<kube::SharedInformer>(w.client, kRunKind, FastOptions()));
    informers.push_back(
        std::make_unique<kube::SharedInformer>(w.client, kServiceKind, FastOptions()));
    std::vector<const kube::SharedInformer*> raw;
    for (auto& informer : informers) {
      informer->Start();
      ASSERT_TRUE(informer->WaitForSync(kWait));
      raw.push_back(informer.get());
    }
    reader = NewInformerObjectReader(w.client, w.clock, raw, "");
    reconciler = std::make_unique<reconcilers::RolloutReconciler>(w.client, events, w.clock,
                                                                  *metrics, reader.get());
  }

  void TearDown() override {
    for (auto& informer : informers) informer->Stop();
  }

  // Waits until every running informer holds what the server holds (by resourceVersion).
  void CatchUp() {
    for (auto& informer : informers) {
      auto list = w.client.List(informer->gvk(), "shop");
      ASSERT_TRUE(list.ok());
      ASSERT_TRUE(Eventually([&] {
        size_t matching = 0;
        for (const json& o : list->items) {
          if (informer->gvk() == kRsKind && !kube::LabelsOf(o).contains(kPodTemplateHashLabel)) {
            continue;
          }
          kube::ObjectPtr cached = informer->Get(kube::KeyOf(o));
          if (cached == nullptr || kube::ResourceVersionOf(*cached) != kube::ResourceVersionOf(o)) {
            return false;
          }
          ++matching;
        }
        return matching == informer->Size();
      })) << informer->gvk().kind;
    }
  }

  std::vector<kube::FakeKubeClient::Action> Writes() {
    std::vector<kube::FakeKubeClient::Action> out;
    for (const auto& a : w.client.Actions()) {
      if (a.verb != FakeVerb::kGet && a.verb != FakeVerb::kList && a.verb != FakeVerb::kWatch) {
        out.push_back(a);
      }
    }
    return out;
  }
  std::vector<kube::FakeKubeClient::Action> Reads() {
    std::vector<kube::FakeKubeClient::Action> out;
    for (const auto& a : w.client.Actions()) {
      if (a.verb == FakeVerb::kGet || a.verb == FakeVerb::kList) out.push_back(a);
    }
    return out;
  }

  RolloutWorld w;
  kube::FakeEventRecorder events;
  prometheus::Registry registry;
  std::unique_ptr<RolloutMetrics> metrics = NewPrometheusRolloutMetrics(registry);
  std::vector<std::unique_ptr<kube::SharedInformer>> informers;
  std::unique_ptr<ObjectReader> reader;
  std::unique_ptr<reconcilers::RolloutReconciler> reconciler;
};

TEST_F(RolloutAtRestTest, ResyncsOfAHealthyRolloutNeitherReadNorWrite) {
  // The first pass through the caches may still have something to settle (its first look at
  // the Services through them); after it, nothing moves.
  ReconcileResult first = reconciler->Reconcile({"shop", "web"});
  ASSERT_NE(first.kind(), ReconcileResult::Kind::kError) << first.status().ToString();
  CatchUp();
  const json status = w.Status();
  const int64_t version = w.client.CurrentResourceVersion();
  w.client.ClearActions();

  constexpr int kResyncs = 12;  // an hour of 5-minute resyncs
  for (int i = 0; i < kResyncs; ++i) {
    w.clock.Advance(minutes(5));
    ReconcileResult r = reconciler->Reconcile({"shop", "web"});
    ASSERT_EQ(r.kind(), ReconcileResult::Kind::kDone) << r.reason() << r.status().ToString();
    // One look per resync period, no sooner: the pass asks for nothing else.
    ASSERT_TRUE(r.requeue_after().has_value());
    EXPECT_GE(*r.requeue_after(), minutes(5));
  }
  EXPECT_TRUE(Writes().empty()) << Writes().size() << " writes, the first to "
                                << Writes().front().gvk.kind << " " << Writes().front().name;
  EXPECT_TRUE(Reads().empty()) << Reads().size() << " reads, the first of "
                               << Reads().front().gvk.kind << " " << Reads().front().name;
  // No write means no watch event, so nothing brings the Rollout back before its resync.
  EXPECT_EQ(w.client.CurrentResourceVersion(), version);
  // Status as it was, timestamps included: an hour passing is not news.
  EXPECT_EQ(w.Status(), status);
  EXPECT_EQ(w.Phase(), "Healthy");
}

TEST_F(RolloutAtRestTest, AHandEditedServiceSelectorIsPutBackFromTheWatchedCopy) {
  const std::string hash = w.StableHash();
  ASSERT_FALSE(hash.empty());
  const json edit = {{"spec", {{"selector", {{std::string(kPodTemplateHashLabel), "x"}}}}}};
  ASSERT_TRUE(
      w.client.Patch({kServiceKind, "shop", "web-stable"}, kube::PatchType::kMerge, edit).ok());
  CatchUp();
  w.client.ClearActions();
  ReconcileResult r = reconciler->Reconcile({"shop", "web"});
  ASSERT_NE(r.kind(), ReconcileResult::Kind::kError) << r.status().ToString();
  // Read from the cache; the fix is the only write.
  EXPECT_TRUE(Reads().empty());
  const auto writes = Writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].gvk.kind, "Service");
  EXPECT_EQ(w.ServiceSelector("web-stable"), hash);
}

// The reader on its own: a write it is told of sends reads to the server until the cache has
// caught up, so a pass never acts on an object older than its own last write.
TEST_F(RolloutAtRestTest, ReaderReadsTheServerUntilTheCacheHasTheWrite) {
  CatchUp();
  kube::SharedInformer& rollouts = *informers[0];
  const kube::ResourceRef ref{kRolloutKind, "shop", "web"};
  const std::string before = kube::ResourceVersionOf(*rollouts.Get({"shop", "web"}));
  // A cache that stops following (as one whose watch has not delivered yet).
  rollouts.Stop();
  w.PatchStatus({{"message", "written"}});
  reader->Wrote(ref, before);
  w.client.ClearActions();
  Result<kube::ObjectPtr> got = reader->Get(ref);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((**got)["status"]["message"], "written");
  EXPECT_EQ(Reads().size(), 1u);  // from the server

  // The note expires: an object deleted or changed again must not pin reads to the server.
  w.clock.Advance(kWriteNoteTtl + std::chrono::seconds(1));
  w.client.ClearActions();
  got = reader->Get(ref);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(kube::ResourceVersionOf(**got), before);  // the (stopped) cache's copy
  EXPECT_TRUE(Reads().empty());

  // A create: lists of the kind in the namespace go to the server until the cache has it.
  kube::SharedInformer& sets = *informers[1];
  sets.Stop();
  json rs = w.ReplicaSetOf(w.StableHash());
  rs["metadata"].erase("resourceVersion");
  rs["metadata"].erase("uid");
  rs["metadata"]["name"] = "web-copy";
  ASSERT_TRUE(w.client.Create(rs).ok());
  reader->Wrote({kRsKind, "shop", "web-copy"}, "");
  w.client.ClearActions();
  auto selector = kube::LabelSelector::Parse("app=web");
  ASSERT_TRUE(selector.ok());
  Result<std::vector<kube::ObjectPtr>> list = reader->List(kRsKind, "shop", *selector);
  ASSERT_TRUE(list.ok());
  bool found = false;
  for (const auto& o : *list) found |= kube::NameOf(*o) == "web-copy";
  EXPECT_TRUE(found);
  EXPECT_EQ(Reads().size(), 1u);
}

}  // namespace
}  // namespace gantry::rollout::testing
