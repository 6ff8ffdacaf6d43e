// The cost of a sync in API requests: health from what the pass already read, live objects from
// the watch cache, and a no-op resync that sends nothing per object (SyncMemo), without losing
// drift detection. The watcher runs real informers over the FakeKubeClient.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "operator/kube/fake_event_recorder.h"
#include "operator/kube/fake_kube_client.h"
#include "operator/reconcilers/application_apply.h"
#include "operator/reconcilers/application_parallel.h"
#include "operator/reconcilers/application_reconciler.h"
#include "operator/reconcilers/application_sync_memo.h"
#include "operator/reconcilers/application_watcher.h"

namespace gantry::reconcilers {
namespace {

namespace fs = std::filesystem;
using Kind = controller::ReconcileResult::Kind;
using Verb = kube::FakeKubeClient::Verb;

const kube::GroupVersionKind kAppGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kRepoGvk{"gantry.io", "v1alpha1", "GitRepository"};
const kube::GroupVersionKind kConfigMapGvk{"", "v1", "ConfigMap"};
const kube::GroupVersionKind kDeploymentGvk{"apps", "v1", "Deployment"};

std::string ConfigMap(const std::string& name, const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n  key: \"" +
         value + "\"\n";
}
const char kDeployment[] =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";

// Requests about the managed objects (ConfigMaps and Deployments), by kind of request.
struct Requests {
  int gets = 0;
  int dry_runs = 0;
  int writes = 0;
  int total() const { return gets + dry_runs + writes; }
};

class ApplicationResyncTest : public ::testing::Test {
 protected:
  ApplicationResyncTest() {
    root_ = fs::path(::testing::TempDir()) /
            ("app-resync-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    kube::Object repo = {{"apiVersion", "gantry.io/v1alpha1"},
                         {"kind", "GitRepository"},
                         {"metadata", {{"name", "repo"}, {"namespace", "ns"}}},
                         {"spec", {{"url", "https://example.invalid/r.git"}}}};
    EXPECT_TRUE(client_.Create(repo).ok());
  }
  ~ApplicationResyncTest() override {
    watcher_.reset();
    fs::remove_all(root_);
  }

  void Commit(const std::string& sha, const std::map<std::string, std::string>& files) {
    fs::path dir = root_ / sha;
    fs::create_directories(dir);
    for (const auto& [name, content] : files) std::ofstream(dir / name) << content;
    git::Artifact a;
    a.commit = sha;
    a.revision = "main@sha1:" + sha;
    a.directory = dir;
    artifacts_.Put({"ns", "repo"}, a);
    kube::Object repo = *client_.Get({kRepoGvk, "ns", "repo"});
    repo["status"]["artifact"] = {{"commit", sha}, {"revision", a.revision}};
    ASSERT_TRUE(client_.UpdateStatus(repo).ok());
  }
  void CreateApp(kube::Object spec = {{"targetNamespace", "ns"}}) {
    spec["sourceRef"] = {{"kind", "GitRepository"}, {"name", "repo"}};
    kube::Object app = {{"apiVersion", "gantry.io/v1alpha1"},
                        {"kind", "Application"},
                        {"metadata", {{"name", "app"}, {"namespace", "ns"}}},
                        {"spec", std::move(spec)}};
    ASSERT_TRUE(client_.Create(app).ok());
  }
  std::unique_ptr<ApplicationReconciler> NewReconciler() {
    return std::make_unique<ApplicationReconciler>(ApplicationReconcilerDeps{
        client_, clock_, artifacts_, *metrics_, &events_, watcher_.get()});
  }
  void Sync(ApplicationReconciler& reconciler) {
    auto result = reconciler.Reconcile(key_);
    ASSERT_EQ(result.kind(), Kind::kDone) << result.reason() << result.status().ToString();
  }
  // Waits until the watch cache holds `name` at the version the server holds (the informer
  // runs on its own thread); then forgets the requests made so far.
  void AwaitCache(const kube::GroupVersionKind& gvk, const std::string& name) {
    const std::string want = kube::ResourceVersionOf(*client_.Get({gvk, "ns", name}));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto cached = watcher_->Cached({gvk, "ns", name});
      if (cached && *cached && kube::ResourceVersionOf(**cached) == want) {
        client_.ClearActions();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << "the watch cache never held " << gvk.kind << " " << name << " at " << want;
  }
  Requests Count() const {
    Requests r;
    for (const auto& a : client_.Actions()) {
      if (a.gvk.kind != "ConfigMap" && a.gvk.kind != "Deployment") continue;
      if (a.verb == Verb::kGet) ++r.gets;
      if (a.verb == Verb::kApply && a.dry_run) ++r.dry_runs;
      if ((a.verb == Verb::kApply || a.verb == Verb::kUpdate || a.verb == Verb::kDelete ||
           a.verb == Verb::kPatch) &&
          !a.dry_run) {
        ++r.writes;
      }
    }
    return r;
  }
  std::string Value(const std::string& name) {
    return (*client_.Get({kConfigMapGvk, "ns", name}))["data"]["key"];
  }
  // The three ConfigMaps and a Deployment of commit c1, synced once and in the cache.
  void SyncFourObjects(ApplicationReconciler& reconciler) {
    Commit("c1", {{"a.yaml", ConfigMap("a", "1")},
                  {"b.yaml", ConfigMap("b", "2")},
                  {"c.yaml", ConfigMap("c", "3")},
                  {"web.yaml", kDeployment}});
    CreateApp();
    Sync(reconciler);
    for (const char* name : {"a", "b", "c"}) AwaitCache(kConfigMapGvk, name);
    AwaitCache(kDeploymentGvk, "web");
  }

  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
  ArtifactRegistry artifacts_;
  std::unique_ptr<SyncMetrics> metrics_ = NewNullSyncMetrics();
  kube::FakeEventRecorder events_;
  std::unique_ptr<ManagedObjectWatcher> watcher_ = std::make_unique<ManagedObjectWatcher>(
      client_, [](const kube::ObjectKey&) {}, "ns");
  fs::path root_;
  const kube::ObjectKey key_{"ns", "app"};
};

TEST_F(ApplicationResyncTest, WithoutACacheHealthComesFromTheWriteNotASecondRead) {
  ApplicationReconciler reconciler(
      ApplicationReconcilerDeps{client_, clock_, artifacts_, *metrics_, &events_, nullptr});
  Commit("c1", {{"a.yaml", ConfigMap("a", "1")}, {"web.yaml", kDeployment}});
  CreateApp();
  Sync(reconciler);
  // One dry run, one read (to compare with) and one write per object; health comes from the
  // write's answer.
  Requests r = Count();
  EXPECT_EQ(r.dry_runs, 2);
  EXPECT_EQ(r.gets, 2);
  EXPECT_EQ(r.writes, 2);
  const kube::Object app = *client_.Get({kAppGvk, "ns", "app"});
  ASSERT_EQ(app["status"]["resources"].size(), 2u);
  EXPECT_EQ(app["status"]["resources"][0]["health"]["status"], "Healthy");      // the ConfigMap
  EXPECT_EQ(app["status"]["resources"][1]["health"]["status"], "Progressing");  // no status yet
}

TEST_F(ApplicationResyncTest, FirstSyncWithASyncedCacheReadsNothing) {
  watcher_->Watch(kConfigMapGvk);
  watcher_->Watch(kDeploymentGvk);
  ASSERT_TRUE(watcher_->WaitForSync(std::chrono::seconds(10)));
  auto reconciler = NewReconciler();
  Commit("c1", {{"a.yaml", ConfigMap("a", "1")}, {"web.yaml", kDeployment}});
  CreateApp();
  client_.ClearActions();
  Sync(*reconciler);
  Requests r = Count();
  EXPECT_EQ(r.dry_runs, 2);
  EXPECT_EQ(r.gets, 0);  // the dry runs and the synced cache agree that both are new
  EXPECT_EQ(r.writes, 2);
}

TEST_F(ApplicationResyncTest, NoOpResyncSendsNoRequestPerObject) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  Sync(*reconciler);
  EXPECT_EQ(Count().total(), 0);
  Sync(*reconciler);
  EXPECT_EQ(Count().total(), 0);
  EXPECT_EQ(Value("a"), "1");
}

TEST_F(ApplicationResyncTest, DriftByAnotherWriterIsCaughtAndReverted) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  kube::Object b = *client_.Get({kConfigMapGvk, "ns", "b"});
  b["data"]["key"] = "edited by hand";
  ASSERT_TRUE(client_.Update(b).ok());
  AwaitCache(kConfigMapGvk, "b");

  Sync(*reconciler);
  // Only the edited object is dry-run; the cache is current for it, so it is not read; it is
  // written back.
  Requests r = Count();
  EXPECT_EQ(r.dry_runs, 1);
  EXPECT_EQ(r.gets, 0);
  EXPECT_EQ(r.writes, 1);
  EXPECT_EQ(Value("b"), "2");

  AwaitCache(kConfigMapGvk, "b");
  Sync(*reconciler);
  EXPECT_EQ(Count().total(), 0);
}

TEST_F(ApplicationResyncTest, DeletedObjectIsRecreated) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  ASSERT_TRUE(client_.Delete({kConfigMapGvk, "ns", "c"}).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (*watcher_->Cached({kConfigMapGvk, "ns", "c"}) != nullptr &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  client_.ClearActions();
  Sync(*reconciler);
  Requests r = Count();
  EXPECT_EQ(r.dry_runs, 1);
  EXPECT_EQ(r.gets, 0);  // the cache (synced, without it) and the dry run agree it is gone
  EXPECT_EQ(r.writes, 1);
  EXPECT_EQ(Value("c"), "3");
}

TEST_F(ApplicationResyncTest, StatusWritesByAnotherControllerNeedNoDryRun) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  kube::Object web = *client_.Get({kDeploymentGvk, "ns", "web"});
  web["status"] = {{"observedGeneration", 1},
                   {"replicas", 2},
                   {"updatedReplicas", 2},
                   {"readyReplicas", 2},
                   {"availableReplicas", 2}};
  ASSERT_TRUE(client_.UpdateStatus(web).ok());
  AwaitCache(kDeploymentGvk, "web");

  Sync(*reconciler);
  EXPECT_EQ(Count().total(), 0);
  // Health is the cache's: the new status counts.
  const kube::Object app = *client_.Get({kAppGvk, "ns", "app"});
  EXPECT_EQ(app["status"]["health"]["status"], "Healthy");
}

TEST_F(ApplicationResyncTest, MetadataWrittenByAnotherManagerIsDryRunNotReverted) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  kube::Object web = *client_.Get({kDeploymentGvk, "ns", "web"});
  web["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1";
  ASSERT_TRUE(client_.Update(web).ok());
  AwaitCache(kDeploymentGvk, "web");

  Sync(*reconciler);
  Requests r = Count();
  EXPECT_EQ(r.dry_runs, 1);  // the version and the compared content moved: ask the server
  EXPECT_EQ(r.writes, 0);    // a field Gantry does not manage: nothing to revert
  client_.ClearActions();
  Sync(*reconciler);
  EXPECT_EQ(Count().total(), 0);  // remembered as the object is now
}

TEST_F(ApplicationResyncTest, RestartDoesAFullPass) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  auto restarted = NewReconciler();
  Sync(*restarted);
  Requests r = Count();
  EXPECT_EQ(r.dry_runs, 4);
  EXPECT_EQ(r.gets, 0);  // the cache is current for every object
  EXPECT_EQ(r.writes, 0);
  client_.ClearActions();
  Sync(*restarted);
  EXPECT_EQ(Count().total(), 0);
}

TEST_F(ApplicationResyncTest, NewRevisionDryRunsEveryObject) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  Commit("c2", {{"a.yaml", ConfigMap("a", "1")},
                {"b.yaml", ConfigMap("b", "two")},
                {"c.yaml", ConfigMap("c", "3")},
                {"web.yaml", kDeployment}});
  client_.ClearActions();
  Sync(*reconciler);
  Requests r = Count();
  EXPECT_EQ(r.dry_runs, 4);  // an invalid commit must apply nothing: all validated first
  EXPECT_EQ(r.writes, 1);
  EXPECT_EQ(Value("b"), "two");
}

TEST_F(ApplicationResyncTest, InvalidObjectInNewRevisionAppliesNothing) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  Commit("c2", {{"a.yaml", ConfigMap("a", "changed")},
                {"b.yaml", ConfigMap("b", "2")},
                {"c.yaml", ConfigMap("c", "3")},
                {"web.yaml", kDeployment}});
  client_.InjectError(Verb::kApply, "Deployment", "web",
                      Status(StatusCode::kInvalid, "spec.replicas: Invalid value"));
  client_.ClearActions();
  auto result = reconciler->Reconcile(key_);
  EXPECT_EQ(result.kind(), Kind::kWaiting);
  EXPECT_EQ(Count().writes, 0);
  EXPECT_EQ(Value("a"), "1");
}

TEST_F(ApplicationResyncTest, SpecChangeTakesTheFullPath) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  kube::Object app = *client_.Get({kAppGvk, "ns", "app"});
  app["spec"]["interval"] = "10m";
  ASSERT_TRUE(client_.Update(app).ok());
  client_.ClearActions();
  Sync(*reconciler);
  EXPECT_EQ(Count().dry_runs, 4);
}

// The remembered render stands in for the manifests only while every object is known in sync.
// These tests break a file of the synced revision behind the operator's back: a pass that reads
// the manifests again fails with BuildFailed, one that recalls the render does not.
class RecalledRenderTest : public ApplicationResyncTest {
 protected:
  void BreakFileOfC1() { std::ofstream(root_ / "c1" / "a.yaml") << "kind: [unclosed\n"; }
  std::string ReadyReason() {
    const kube::Object app = *client_.Get({kAppGvk, "ns", "app"});
    for (const auto& c : app["status"]["conditions"]) {
      if (c.value("type", "") == "Ready") return c.value("reason", "");
    }
    return "";
  }
  void ExpectRendered(ApplicationReconciler& reconciler) {
    auto result = reconciler.Reconcile(key_);
    EXPECT_EQ(result.kind(), Kind::kWaiting) << result.reason();
    EXPECT_EQ(ReadyReason(), kReasonBuildFailed);
  }
};

TEST_F(RecalledRenderTest, NoOpResyncDoesNotReadTheManifestsAgain) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  Sync(*reconciler);
  BreakFileOfC1();
  Sync(*reconciler);
  EXPECT_EQ(Count().total(), 0);
  EXPECT_EQ(ReadyReason(), kReasonReconciliationSucceeded);
  const kube::Object app = *client_.Get({kAppGvk, "ns", "app"});
  EXPECT_EQ(app["status"]["inventory"].size(), 4u);
  EXPECT_EQ(app["status"]["resources"].size(), 4u);
}

TEST_F(RecalledRenderTest, DriftByAnotherWriterRendersAgain) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  BreakFileOfC1();
  kube::Object b = *client_.Get({kConfigMapGvk, "ns", "b"});
  b["data"]["key"] = "edited by hand";
  ASSERT_TRUE(client_.Update(b).ok());
  AwaitCache(kConfigMapGvk, "b");
  ExpectRendered(*reconciler);
}

TEST_F(RecalledRenderTest, DeletedObjectRendersAgain) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  BreakFileOfC1();
  ASSERT_TRUE(client_.Delete({kConfigMapGvk, "ns", "c"}).ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (*watcher_->Cached({kConfigMapGvk, "ns", "c"}) != nullptr &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ExpectRendered(*reconciler);
}

TEST_F(RecalledRenderTest, SpecChangeRendersAgain) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  BreakFileOfC1();
  kube::Object app = *client_.Get({kAppGvk, "ns", "app"});
  app["spec"]["interval"] = "10m";
  ASSERT_TRUE(client_.Update(app).ok());
  ExpectRendered(*reconciler);
}

TEST_F(RecalledRenderTest, RestartRendersAgain) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  BreakFileOfC1();
  auto restarted = NewReconciler();
  ExpectRendered(*restarted);
}

TEST_F(RecalledRenderTest, KindPlacedDifferentlyRendersAgain) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  BreakFileOfC1();
  // Discovery now calls ConfigMaps cluster-scoped: the render would place them differently.
  client_.RegisterKind(kube::RestMapping{kConfigMapGvk, "configmaps", false, {}, {}});
  ExpectRendered(*reconciler);
}

TEST_F(RecalledRenderTest, NewRevisionRendersAgain) {
  auto reconciler = NewReconciler();
  SyncFourObjects(*reconciler);
  Commit("c2", {{"a.yaml", "kind: [unclosed\n"}, {"b.yaml", ConfigMap("b", "2")}});
  ExpectRendered(*reconciler);
}

TEST_F(RecalledRenderTest, SyncWavesAndOrderSurviveTheRecall) {
  auto reconciler = NewReconciler();
  Commit("c1", {{"a.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n  annotations:\n"
                 "    gantry.io/sync-wave: \"2\"\ndata:\n  key: x\n"},
                {"b.yaml", ConfigMap("early", "y")},
                {"web.yaml", kDeployment}});
  CreateApp();
  Sync(*reconciler);
  for (const char* name : {"late", "early"}) AwaitCache(kConfigMapGvk, name);
  AwaitCache(kDeploymentGvk, "web");
  Sync(*reconciler);
  const kube::Object first = (*client_.Get({kAppGvk, "ns", "app"}))["status"];
  BreakFileOfC1();
  Sync(*reconciler);
  EXPECT_EQ(Count().total(), 0);
  const kube::Object recalled = (*client_.Get({kAppGvk, "ns", "app"}))["status"];
  EXPECT_EQ(recalled["inventory"], first["inventory"]);
  EXPECT_EQ(recalled["resources"], first["resources"]);
}

TEST_F(ApplicationResyncTest, ParallelWritesKeepTheOrderOfRanks) {
  auto reconciler = NewReconciler();
  std::map<std::string, std::string> files;
  for (int i = 0; i < 20; ++i) {
    files["cm" + std::to_string(i) + ".yaml"] = ConfigMap("cm" + std::to_string(i), "v");
    files["web" + std::to_string(i) + ".yaml"] =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web" + std::to_string(i) +
        "\nspec:\n  replicas: 1\n";
    files["late" + std::to_string(i) + ".yaml"] =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late" + std::to_string(i) +
        "\n  annotations:\n    gantry.io/sync-wave: \"1\"\ndata:\n  k: v\n";
  }
  Commit("c1", files);
  CreateApp();
  Sync(*reconciler);
  // Every dry run before the first write; then wave 0's ConfigMaps, its Deployments, and wave
  // 1, each rank finished before the next starts, whatever order writes take within a rank.
  std::vector<std::string> ranks;
  bool wrote = false;
  for (const auto& a : client_.Actions()) {
    if (a.verb != Verb::kApply) continue;
    if (a.dry_run) {
      EXPECT_FALSE(wrote) << "dry run of " << a.name << " after a write";
      continue;
    }
    wrote = true;
    std::string r = a.name.starts_with("late") ? "wave1" : a.gvk.kind;
    if (ranks.empty() || ranks.back() != r) ranks.push_back(r);
  }
  EXPECT_EQ(ranks, (std::vector<std::string>{"ConfigMap", "Deployment", "wave1"}));
  EXPECT_EQ(Count().writes, 60);
}

TEST(ForEachParallelTest, CallsEveryIndexOnce) {
  for (int parallelism : {0, 1, 3, 64}) {
    std::vector<std::atomic<int>> calls(100);
    ForEachParallel(calls.size(), parallelism, [&](size_t i) { calls[i]++; });
    for (const auto& c : calls) EXPECT_EQ(c.load(), 1) << "parallelism " << parallelism;
  }
  ForEachParallel(0, 8, [](size_t) { ADD_FAILURE() << "called for an empty range"; });
}

// The Applier alone, with a cache the test controls.
class ApplierCacheTest : public ::testing::Test {
 protected:
  ApplierCacheTest() {
    manifest::Object source;
    source.file = "cm.yaml";
    source.line = 1;
    source.json = {{"apiVersion", "v1"},
                   {"kind", "ConfigMap"},
                   {"metadata", {{"name", "cm"}, {"namespace", "ns"}}},
                   {"data", {{"k", "v"}}}};
    desired_ = DesiredObject{source, source.json, kube::ResourceRef{kConfigMapGvk, "ns", "cm"},
                             "ns_cm__ConfigMap", "v1"};
  }
  int Gets() const {
    int n = 0;
    for (const auto& a : client_.Actions()) n += a.verb == Verb::kGet;
    return n;
  }

  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
  DesiredObject desired_;
};

TEST_F(ApplierCacheTest, CurrentCachedCopyReplacesTheRead) {
  kube::Object stored = *client_.Create(desired_.applied);
  auto cached = std::make_shared<const kube::Object>(stored);
  Applier applier(client_, [&](const kube::ResourceRef&) { return kube::ObjectPtr(cached); });
  client_.ClearActions();
  auto preview = applier.PreviewApply(desired_);
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  EXPECT_EQ(Gets(), 0);
  EXPECT_TRUE(preview->live_from_cache);
  EXPECT_FALSE(preview->changes);
}

TEST_F(ApplierCacheTest, StaleCachedCopyIsNotTrusted) {
  kube::Object stored = *client_.Create(desired_.applied);
  auto cached = std::make_shared<const kube::Object>(stored);
  // Someone changes the object; the cache has not heard of it yet.
  stored["data"]["k"] = "edited";
  ASSERT_TRUE(client_.Update(stored).ok());
  Applier applier(client_, [&](const kube::ResourceRef&) { return kube::ObjectPtr(cached); });
  client_.ClearActions();
  auto preview = applier.PreviewApply(desired_);
  ASSERT_TRUE(preview.ok());
  EXPECT_EQ(Gets(), 1);
  EXPECT_FALSE(preview->live_from_cache);
  EXPECT_TRUE(preview->changes);
}

TEST_F(ApplierCacheTest, UnlabelledObjectMissingFromTheCacheIsRead) {
  ASSERT_TRUE(client_.Create(desired_.applied).ok());
  Applier applier(client_, [](const kube::ResourceRef&) { return kube::ObjectPtr(); });
  client_.ClearActions();
  auto preview = applier.PreviewApply(desired_);
  ASSERT_TRUE(preview.ok());
  EXPECT_EQ(Gets(), 1);  // the dry run says it exists, the cache does not hold it
  EXPECT_FALSE(preview->live.is_null());
  EXPECT_FALSE(preview->changes);
}

TEST_F(ApplierCacheTest, NewObjectNeedsNoRead) {
  Applier applier(client_, [](const kube::ResourceRef&) { return kube::ObjectPtr(); });
  auto preview = applier.PreviewApply(desired_);
  ASSERT_TRUE(preview.ok());
  EXPECT_EQ(Gets(), 0);
  EXPECT_TRUE(preview->live.is_null());
  EXPECT_TRUE(preview->changes);
  auto applied = applier.Apply(desired_, *preview);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->action, ApplyAction::kCreated);
  EXPECT_EQ(applied->object["data"]["k"], "v");  // the write's answer, for health
}

TEST_F(ApplierCacheTest, CacheThatCannotAnswerMeansARead) {
  ASSERT_TRUE(client_.Create(desired_.applied).ok());
  Applier applier(client_, [](const kube::ResourceRef&) { return std::nullopt; });
  client_.ClearActions();
  auto preview = applier.PreviewApply(desired_);
  ASSERT_TRUE(preview.ok());
  EXPECT_EQ(Gets(), 1);
}

TEST(SyncMemoTest, KnownOnlyForTheSameRevisionGenerationAndContent) {
  SyncMemo memo;
  const kube::ObjectKey app{"ns", "app"};
  kube::Object live = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "a"}, {"namespace", "ns"}, {"resourceVersion", "7"}}},
                       {"data", {{"k", "v"}}}};
  memo.Remember(app, "r1", 1, {{"id", "h", "7", ContentHash(live)}});
  EXPECT_TRUE(memo.InSync(app, "r1", 1, "id", "h", live).has_value());
  EXPECT_FALSE(memo.InSync(app, "r2", 1, "id", "h", live).has_value());
  EXPECT_FALSE(memo.InSync(app, "r1", 2, "id", "h", live).has_value());
  EXPECT_FALSE(memo.InSync(app, "r1", 1, "id", "other hash", live).has_value());
  EXPECT_FALSE(memo.InSync(app, "r1", 1, "other id", "h", live).has_value());
  EXPECT_FALSE(memo.InSync({"ns", "other"}, "r1", 1, "id", "h", live).has_value());

  kube::Object status_only = live;
  status_only["metadata"]["resourceVersion"] = "8";
  status_only["status"] = {{"x", 1}};
  auto entry = memo.InSync(app, "r1", 1, "id", "h", status_only);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->resource_version, "8");

  kube::Object edited = live;
  edited["metadata"]["resourceVersion"] = "9";
  edited["data"]["k"] = "edited";
  EXPECT_FALSE(memo.InSync(app, "r1", 1, "id", "h", edited).has_value());

  memo.Forget(app);
  EXPECT_FALSE(memo.InSync(app, "r1", 1, "id", "h", live).has_value());
}

TEST(SyncMemoTest, RenderRecalledOnlyForTheSameRevisionAndGeneration) {
  SyncMemo memo;
  const kube::ObjectKey app{"ns", "app"};
  kube::Object live = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "a"}, {"namespace", "ns"}, {"resourceVersion", "7"}}},
                       {"data", {{"k", "v"}}}};
  memo.Remember(app, "r1", 1, {{"id", "h", "7", ContentHash(live)}});
  EXPECT_EQ(memo.Recall(app, "r1", 1), nullptr);  // remembered without a render

  auto render = std::make_shared<SyncMemo::Render>();
  render->kinds.push_back({"", "v1", "ConfigMap"});
  render->objects.push_back({0, 0, "ns", "a"});
  memo.Remember(app, "r1", 1, {{"id", "h", "7", ContentHash(live)}}, render);
  ASSERT_NE(memo.Recall(app, "r1", 1), nullptr);
  EXPECT_EQ(memo.Recall(app, "r1", 1)->objects.size(), 1u);
  EXPECT_EQ(memo.Recall(app, "r2", 1), nullptr);
  EXPECT_EQ(memo.Recall(app, "r1", 2), nullptr);
  EXPECT_EQ(memo.Recall({"ns", "other"}, "r1", 1), nullptr);

  auto entry = memo.RenderedInSync(app, "r1", 1, "id", live);
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->desired_hash, "h");
  EXPECT_FALSE(memo.RenderedInSync(app, "r2", 1, "id", live).has_value());
  EXPECT_FALSE(memo.RenderedInSync(app, "r1", 1, "other id", live).has_value());
  kube::Object edited = live;
  edited["metadata"]["resourceVersion"] = "9";
  edited["data"]["k"] = "edited";
  EXPECT_FALSE(memo.RenderedInSync(app, "r1", 1, "id", edited).has_value());

  memo.Forget(app);
  EXPECT_EQ(memo.Recall(app, "r1", 1), nullptr);
}

}  // namespace
}  // namespace gantry::reconcilers
