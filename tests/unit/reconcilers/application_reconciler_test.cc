#include "operator/reconcilers/application_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "operator/kube/fake_event_recorder.h"
#include "operator/kube/fake_kube_client.h"
#include "operator/reconcilers/application_apply.h"

namespace gantry::reconcilers {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Kind = controller::ReconcileResult::Kind;

const kube::GroupVersionKind kAppGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kRepoGvk{"gantry.io", "v1alpha1", "GitRepository"};
const kube::GroupVersionKind kConfigMapGvk{"", "v1", "ConfigMap"};
const kube::GroupVersionKind kDeploymentGvk{"apps", "v1", "Deployment"};

class ApplicationReconcilerTest : public ::testing::Test {
 protected:
  ApplicationReconcilerTest() {
    root_ = fs::path(::testing::TempDir()) /
            ("app-reconciler-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    kube::Object repo = {{"apiVersion", "gantry.io/v1alpha1"},
                         {"kind", "GitRepository"},
                         {"metadata", {{"name", "repo"}, {"namespace", "ns"}}},
                         {"spec", {{"url", "https://example.invalid/r.git"}}}};
    EXPECT_TRUE(client_.Create(repo).ok());
  }
  ~ApplicationReconcilerTest() override { fs::remove_all(root_); }

  // Makes commit `sha` (a directory of files) the GitRepository's artifact.
  void Commit(const std::string& sha, const std::map<std::string, std::string>& files) {
    fs::path dir = root_ / sha;
    for (const auto& [name, content] : files) {
      fs::create_directories((dir / name).parent_path());
      std::ofstream(dir / name) << content;
    }
    fs::create_directories(dir);
    git::Artifact a;
    a.commit = sha;
    a.revision = "main@sha1:" + sha;
    a.directory = dir;
    artifacts_.Put({"ns", "repo"}, a);
    kube::Object repo = *client_.Get({kRepoGvk, "ns", "repo"});
    repo["status"]["artifact"] = {{"commit", sha}, {"revision", a.revision}};
    ASSERT_TRUE(client_.UpdateStatus(repo).ok());
  }

  void CreateApp(kube::Object spec, const std::string& name = "app") {
    spec["sourceRef"] = {{"kind", "GitRepository"}, {"name", "repo"}};
    kube::Object app = {{"apiVersion", "gantry.io/v1alpha1"},
                        {"kind", "Application"},
                        {"metadata", {{"name", name}, {"namespace", "ns"}}},
                        {"spec", std::move(spec)}};
    ASSERT_TRUE(client_.Create(app).ok());
  }
  kube::Object App(const std::string& name = "app") { return *client_.Get({kAppGvk, "ns", name}); }
  const kube::Object& Cond(const kube::Object& obj, const std::string& type) {
    static const kube::Object kNone;
    for (const auto& c : obj["status"]["conditions"]) {
      if (c["type"] == type) return c;
    }
    return kNone;
  }
  // Writes (non-dry-run applies and deletes) since the last ClearActions.
  int Writes() {
    int n = 0;
    for (const auto& a : client_.Actions()) {
      if ((a.verb == kube::FakeKubeClient::Verb::kApply && !a.dry_run) ||
          a.verb == kube::FakeKubeClient::Verb::kDelete) {
        ++n;
      }
    }
    return n;
  }
  bool Exists(const kube::GroupVersionKind& gvk, const std::string& name) {
    return client_.Get({gvk, "ns", name}).ok();
  }

  static std::string ConfigMap(const std::string& name, const std::string& value,
                               const std::string& extra_meta = "") {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n" + extra_meta +
           "data:\n  key: \"" + value + "\"\n";
  }

  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
  ArtifactRegistry artifacts_;
  std::unique_ptr<SyncMetrics> metrics_ = NewNullSyncMetrics();
  kube::FakeEventRecorder events_;
  ApplicationReconciler reconciler_{
      ApplicationReconcilerDeps{client_, clock_, artifacts_, *metrics_, &events_, nullptr}};
  fs::path root_;
  const kube::ObjectKey key_{"ns", "app"};
};

TEST_F(ApplicationReconcilerTest, AppliesCommitWithOwnershipAndStatus) {
  Commit("c1", {{"cm.yaml", ConfigMap("settings", "one")},
                {"deploy.yaml",
                 "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                 "  replicas: 2\n"}});
  CreateApp({{"targetNamespace", "ns"}});
  auto result = reconciler_.Reconcile(key_);
  ASSERT_EQ(result.kind(), Kind::kDone) << result.reason() << result.status().ToString();
  EXPECT_EQ(result.requeue_after(), std::chrono::minutes(5));

  kube::Object cm = *client_.Get({kConfigMapGvk, "ns", "settings"});
  EXPECT_EQ(cm["data"]["key"], "one");
  EXPECT_EQ(cm["metadata"]["labels"]["app.kubernetes.io/managed-by"], "gantry");
  EXPECT_EQ(cm["metadata"]["labels"]["gantry.io/application-name"], "app");
  EXPECT_EQ(cm["metadata"]["labels"]["gantry.io/application-namespace"], "ns");
  EXPECT_TRUE(Exists(kDeploymentGvk, "web"));

  kube::Object app = App();
  EXPECT_EQ(app["status"]["lastAppliedRevision"], "main@sha1:c1");
  EXPECT_EQ(app["status"]["lastAttemptedRevision"], "main@sha1:c1");
  EXPECT_EQ(app["status"]["sync"]["status"], "Synced");
  EXPECT_EQ(app["status"]["inventory"].size(), 2u);
  EXPECT_EQ(app["status"]["resources"].size(), 2u);
  EXPECT_EQ(Cond(app, "Ready")["status"], "True");
  EXPECT_EQ(app["status"]["observedGeneration"], 1);

  // ConfigMap before Deployment (kind order), each dry-run before anything is written.
  std::vector<std::string> order;
  bool wrote = false;
  for (const auto& a : client_.Actions()) {
    if (a.verb != kube::FakeKubeClient::Verb::kApply) continue;
    if (a.dry_run) {
      EXPECT_FALSE(wrote) << "dry run after a write";
    } else {
      wrote = true;
      order.push_back(a.gvk.kind);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"ConfigMap", "Deployment"}));
}

TEST_F(ApplicationReconcilerTest, UnchangedObjectsAreNotWritten) {
  Commit("c1", {{"cm.yaml", ConfigMap("settings", "one")}});
  CreateApp({{"targetNamespace", "ns"}});
  reconciler_.Reconcile(key_);
  client_.ClearActions();
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), Kind::kDone);
  EXPECT_EQ(Writes(), 0);
}

TEST_F(ApplicationReconcilerTest, HandEditIsReverted) {
  Commit("c1", {{"cm.yaml", ConfigMap("settings", "one")}});
  CreateApp({{"targetNamespace", "ns"}});
  reconciler_.Reconcile(key_);
  kube::Object cm = *client_.Get({kConfigMapGvk, "ns", "settings"});
  cm["data"]["key"] = "edited";
  ASSERT_TRUE(client_.Update(cm).ok());
  client_.ClearActions();
  reconciler_.Reconcile(key_);
  EXPECT_EQ(Writes(), 1);
  EXPECT_EQ((*client_.Get({kConfigMapGvk, "ns", "settings"}))["data"]["key"], "one");
}

TEST_F(ApplicationReconcilerTest, NewCommitChangesObject) {
  Commit("c1", {{"cm.yaml", ConfigMap("settings", "one")}});
  CreateApp({{"targetNamespace", "ns"}});
  reconciler_.Reconcile(key_);
  Commit("c2", {{"cm.yaml", ConfigMap("settings", "two")}});
  reconciler_.Reconcile(key_);
  EXPECT_EQ((*client_.Get({kConfigMapGvk, "ns", "settings"}))["data"]["key"], "two");
  EXPECT_EQ(App()["status"]["lastAppliedRevision"], "main@sha1:c2");
}

TEST_F(ApplicationReconcilerTest, MalformedYamlAppliesNothing) {
  Commit("c1", {{"a.yaml", ConfigMap("good", "one")},
                {"b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n"}});
  CreateApp({{"targetNamespace", "ns"}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), Kind::kWaiting);
  EXPECT_FALSE(Exists(kConfigMapGvk, "good"));
  kube::Object app = App();
  EXPECT_EQ(Cond(app, "Ready")["status"], "False");
  EXPECT_EQ(Cond(app, "Ready")["reason"], "BuildFailed");
  EXPECT_THAT(Cond(app, "Ready")["message"].get<std::string>(), HasSubstr("b.yaml:"));
  EXPECT_EQ(app["status"]["lastAttemptedRevision"], "main@sha1:c1");
  EXPECT_FALSE(app["status"].contains("lastAppliedRevision") &&
               !app["status"]["lastAppliedRevision"].get<std::string>().empty());
}

TEST_F(ApplicationReconcilerTest, UnknownKindAppliesNothing) {
  Commit("c1", {{"a.yaml", ConfigMap("good", "one")},
                {"b.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"}});
  CreateApp({{"targetNamespace", "ns"}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), Kind::kWaiting);
  EXPECT_FALSE(Exists(kConfigMapGvk, "good"));
  EXPECT_EQ(Writes(), 0);
  kube::Object app = App();
  EXPECT_EQ(Cond(app, "Ready")["reason"], "ValidationFailed");
  EXPECT_THAT(Cond(app, "Ready")["message"].get<std::string>(), HasSubstr("b.yaml:1"));
  EXPECT_THAT(Cond(app, "Ready")["message"].get<std::string>(), HasSubstr("Widget"));
}

TEST_F(ApplicationReconcilerTest, PrunesRemovedObjectsOnlyWithPrune) {
  Commit("c1",
         {{"a.yaml", ConfigMap("a", "1")},
          {"b.yaml", ConfigMap("b", "1")},
          {"c.yaml", ConfigMap("c", "1", "  annotations:\n    gantry.io/prune: disabled\n")}});
  CreateApp({{"targetNamespace", "ns"}, {"prune", true}});
  reconciler_.Reconcile(key_);
  ASSERT_TRUE(Exists(kConfigMapGvk, "b"));
  Commit("c2", {{"a.yaml", ConfigMap("a", "1")}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), Kind::kDone);
  EXPECT_TRUE(Exists(kConfigMapGvk, "a"));
  EXPECT_FALSE(Exists(kConfigMapGvk, "b"));
  EXPECT_TRUE(Exists(kConfigMapGvk, "c")) << "gantry.io/prune: disabled was deleted";
}

TEST_F(ApplicationReconcilerTest, NoPruneWithoutSpecPrune) {
  Commit("c1", {{"a.yaml", ConfigMap("a", "1")}, {"b.yaml", ConfigMap("b", "1")}});
  CreateApp({{"targetNamespace", "ns"}});
  reconciler_.Reconcile(key_);
  Commit("c2", {{"a.yaml", ConfigMap("a", "1")}});
  reconciler_.Reconcile(key_);
  EXPECT_TRUE(Exists(kConfigMapGvk, "b"));
  EXPECT_EQ(App()["status"]["inventory"].size(), 1u);
}

TEST_F(ApplicationReconcilerTest, NoPruneWhenLoadFails) {
  Commit("c1", {{"a.yaml", ConfigMap("a", "1")}, {"b.yaml", ConfigMap("b", "1")}});
  CreateApp({{"targetNamespace", "ns"}, {"prune", true}});
  reconciler_.Reconcile(key_);
  Commit("c2", {{"a.yaml", "kind: [broken\n"}});
  reconciler_.Reconcile(key_);
  EXPECT_TRUE(Exists(kConfigMapGvk, "a"));
  EXPECT_TRUE(Exists(kConfigMapGvk, "b"));
  EXPECT_EQ(App()["status"]["inventory"].size(), 2u);
}

TEST_F(ApplicationReconcilerTest, IgnoredFieldsAreNotApplied) {
  Commit("c1", {{"deploy.yaml",
                 "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                 "  replicas: 2\n  paused: false\n"}});
  CreateApp(
      {{"targetNamespace", "ns"},
       {"ignoreDifferences",
        {{{"group", "apps"}, {"kind", "Deployment"}, {"jsonPointers", {"/spec/replicas"}}}}}});
  reconciler_.Reconcile(key_);
  kube::Object d = *client_.Get({kDeploymentGvk, "ns", "web"});
  d["spec"]["replicas"] = 7;  // an HPA scaled it
  ASSERT_TRUE(client_.Update(d).ok());
  client_.ClearActions();
  reconciler_.Reconcile(key_);
  EXPECT_EQ((*client_.Get({kDeploymentGvk, "ns", "web"}))["spec"]["replicas"], 7);
  EXPECT_EQ(Writes(), 0);
  for (const auto& a : client_.Actions()) {
    if (a.verb == kube::FakeKubeClient::Verb::kApply) {
      EXPECT_FALSE(a.body["spec"].contains("replicas"));
    }
  }
}

TEST_F(ApplicationReconcilerTest, WaitsForDependency) {
  Commit("c1", {{"a.yaml", ConfigMap("a", "1")}});
  CreateApp({{"targetNamespace", "ns"}}, "base");
  CreateApp({{"targetNamespace", "ns"}, {"dependsOn", {{{"name", "base"}}}}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), Kind::kWaiting);
  EXPECT_EQ(Cond(App(), "Reconciling")["reason"], "DependencyNotReady");
  EXPECT_EQ(reconciler_.Reconcile({"ns", "base"}).kind(), Kind::kDone);
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kDone);
  EXPECT_EQ(Cond(App(), "Ready")["status"], "True");
}

TEST_F(ApplicationReconcilerTest, SuspendedDoesNothing) {
  Commit("c1", {{"a.yaml", ConfigMap("a", "1")}});
  CreateApp({{"targetNamespace", "ns"}, {"suspend", true}});
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kDone);
  EXPECT_FALSE(Exists(kConfigMapGvk, "a"));
}

TEST_F(ApplicationReconcilerTest, WaitsForArtifact) {
  CreateApp({{"targetNamespace", "ns"}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), Kind::kWaiting);
  EXPECT_EQ(Cond(App(), "Reconciling")["reason"], "ArtifactNotReady");
}

TEST_F(ApplicationReconcilerTest, SyncWavesOrderApplies) {
  Commit("c1",
         {{"a.yaml", ConfigMap("late", "1", "  annotations:\n    gantry.io/sync-wave: \"2\"\n")},
          {"b.yaml", ConfigMap("early", "1", "  annotations:\n    gantry.io/sync-wave: \"-1\"\n")},
          {"c.yaml", ConfigMap("middle", "1")}});
  CreateApp({{"targetNamespace", "ns"}});
  reconciler_.Reconcile(key_);
  std::vector<std::string> order;
  for (const auto& a : client_.Actions()) {
    if (a.verb == kube::FakeKubeClient::Verb::kApply && !a.dry_run) order.push_back(a.name);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"early", "middle", "late"}));
}

TEST_F(ApplicationReconcilerTest, WaitHoldsReadyUntilHealthyThenTimesOut) {
  Commit("c1", {{"deploy.yaml",
                 "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                 "  replicas: 2\n"}});
  CreateApp({{"targetNamespace", "ns"}, {"wait", true}, {"timeout", "1m"}});
  auto first = reconciler_.Reconcile(key_);
  EXPECT_EQ(first.kind(), Kind::kWaiting);
  kube::Object app = App();
  EXPECT_EQ(Cond(app, "Reconciling")["reason"], "HealthCheckPending");
  EXPECT_NE(Cond(app, "Ready")["status"], "True");
  EXPECT_EQ(app["status"]["health"]["status"], "Progressing");

  clock_.Advance(std::chrono::seconds(30));
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kWaiting);
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kWaiting);
  app = App();
  EXPECT_EQ(Cond(app, "Ready")["status"], "False");
  EXPECT_EQ(Cond(app, "Ready")["reason"], "HealthCheckFailed");

  // The Deployment becomes available: Ready.
  kube::Object d = *client_.Get({kDeploymentGvk, "ns", "web"});
  d["status"] = {{"observedGeneration", d["metadata"]["generation"]},
                 {"replicas", 2},
                 {"updatedReplicas", 2},
                 {"readyReplicas", 2},
                 {"availableReplicas", 2}};
  ASSERT_TRUE(client_.UpdateStatus(d).ok());
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kDone);
  app = App();
  EXPECT_EQ(Cond(app, "Ready")["status"], "True");
  EXPECT_EQ(app["status"]["health"]["status"], "Healthy");
}

TEST_F(ApplicationReconcilerTest, CrdAndItsObjectsInOneCommit) {
  const std::string crd =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
      "  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n"
      "  names: {kind: Widget, plural: widgets}\n"
      "  versions: [{name: v1, served: true, storage: true}]\n";
  Commit("c1", {{"crd.yaml", crd},
                {"widget.yaml",
                 "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n"
                 "  name: w\nspec:\n  size: 3\n"},
                {"cm.yaml", ConfigMap("plain", "1")}});
  CreateApp({{"targetNamespace", "ns"}});
  // The Widget cannot be validated before its CRD exists: the CRD is applied, and the pass
  // waits for the API server to serve the new kind; nothing else is written yet.
  auto first = reconciler_.Reconcile(key_);
  EXPECT_EQ(first.kind(), Kind::kWaiting) << first.reason();
  EXPECT_TRUE(client_
                  .Get({{"apiextensions.k8s.io", "v1", "CustomResourceDefinition"},
                        "",
                        "widgets.example.com"})
                  .ok());
  EXPECT_FALSE(Exists(kConfigMapGvk, "plain"));

  // The API server now serves it: the next pass validates and applies everything.
  client_.RegisterKind({{"example.com", "v1", "Widget"}, "widgets", true, {}, {}});
  auto second = reconciler_.Reconcile(key_);
  ASSERT_EQ(second.kind(), Kind::kDone) << Cond(App(), "Ready").dump();
  EXPECT_TRUE(client_.Get({{"example.com", "v1", "Widget"}, "ns", "w"}).ok());
  EXPECT_TRUE(Exists(kConfigMapGvk, "plain"));
  EXPECT_EQ(App()["status"]["inventory"].size(), 3u);
}

TEST_F(ApplicationReconcilerTest, HealthCheckFailedStaysUntilHealthy) {
  Commit("c1", {{"deploy.yaml",
                 "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                 "  replicas: 2\n"}});
  CreateApp({{"targetNamespace", "ns"}, {"wait", true}, {"timeout", "1m"}});
  ASSERT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kWaiting);
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kWaiting);
  auto failed_warnings = [&] {
    int n = 0;
    for (const auto& e : events_.Events()) n += e.reason == "HealthCheckFailed";
    return n;
  };
  // Every later pass keeps the same reason (it used to alternate with HealthCheckPending, the
  // timer restarting each time), names the unhealthy object, and emits no new Event.
  for (int pass = 0; pass < 4; ++pass) {
    SCOPED_TRACE(pass);
    clock_.Advance(std::chrono::seconds(5));
    auto result = reconciler_.Reconcile(key_);
    EXPECT_EQ(result.kind(), Kind::kWaiting);
    EXPECT_EQ(result.requeue_after(), Clock::Duration(std::chrono::seconds(5)));
    kube::Object app = App();
    EXPECT_EQ(Cond(app, "Ready")["status"], "False");
    EXPECT_EQ(Cond(app, "Ready")["reason"], "HealthCheckFailed");
    EXPECT_THAT(Cond(app, "Ready")["message"].get<std::string>(),
                HasSubstr("not healthy after 1m0s: Deployment ns/web"));
  }
  EXPECT_EQ(failed_warnings(), 1);

  // A new revision starts a new wait.
  Commit("c2", {{"deploy.yaml",
                 "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
                 "  replicas: 3\n"}});
  ASSERT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kWaiting);
  kube::Object app = App();
  EXPECT_EQ(Cond(app, "Ready")["status"], "Unknown");
  EXPECT_EQ(Cond(app, "Reconciling")["reason"], "HealthCheckPending");
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kWaiting);
  EXPECT_EQ(Cond(App(), "Reconciling")["reason"], "HealthCheckPending") << "timer not restarted";

  // Healthy: Ready.
  kube::Object d = *client_.Get({kDeploymentGvk, "ns", "web"});
  d["status"] = {{"observedGeneration", d["metadata"]["generation"]},
                 {"replicas", 3},
                 {"updatedReplicas", 3},
                 {"readyReplicas", 3},
                 {"availableReplicas", 3}};
  ASSERT_TRUE(client_.UpdateStatus(d).ok());
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kDone);
  EXPECT_EQ(Cond(App(), "Ready")["status"], "True");
}

TEST_F(ApplicationReconcilerTest, NamespacedOperatorRefusesObjectsOutsideItsNamespace) {
  ApplicationReconcilerDeps deps{client_, clock_, artifacts_, *metrics_, &events_, nullptr};
  deps.scope_namespace = "ns";
  ApplicationReconciler scoped(std::move(deps));
  Commit("c1", {{"a.yaml", ConfigMap("a", "1")},
                {"role.yaml",
                 "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
                 "  name: everything\nrules: []\n"},
                {"other.yaml", ConfigMap("b", "1", "  namespace: other\n")}});
  CreateApp({{"targetNamespace", "ns"}});
  EXPECT_EQ(scoped.Reconcile(key_).kind(), Kind::kWaiting);
  EXPECT_EQ(Writes(), 0);
  EXPECT_FALSE(Exists(kConfigMapGvk, "a"));
  const std::string message = Cond(App(), "Ready")["message"];
  EXPECT_EQ(Cond(App(), "Ready")["reason"], "ValidationFailed");
  EXPECT_THAT(message, HasSubstr("role.yaml:1: ClusterRole.rbac.authorization.k8s.io is "
                                 "cluster-scoped, but this operator only writes in namespace ns"));
  EXPECT_THAT(message, HasSubstr("(object ClusterRole everything)"));
  EXPECT_THAT(message, HasSubstr("other.yaml:1: namespace other is outside namespace ns"));

  // Without them the commit applies.
  Commit("c2", {{"a.yaml", ConfigMap("a", "1")}});
  EXPECT_EQ(scoped.Reconcile(key_).kind(), Kind::kDone);
  EXPECT_TRUE(Exists(kConfigMapGvk, "a"));

  // A targetNamespace outside the operator's namespace is a spec error.
  kube::Object app = App();
  app["spec"]["targetNamespace"] = "other";
  ASSERT_TRUE(client_.Update(app).ok());
  EXPECT_EQ(scoped.Reconcile(key_).kind(), Kind::kStalled);
  EXPECT_EQ(Cond(App(), "Stalled")["reason"], "InvalidSpec");
  EXPECT_THAT(Cond(App(), "Ready")["message"].get<std::string>(),
              HasSubstr("spec.targetNamespace other is outside namespace ns"));
}

TEST_F(ApplicationReconcilerTest, DiffRequestIsAnsweredWithoutSyncing) {
  Commit("c1", {{"cm.yaml", ConfigMap("settings", "one")}});
  CreateApp({{"targetNamespace", "ns"}});
  ASSERT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kDone);
  kube::Object cm = *client_.Get({kConfigMapGvk, "ns", "settings"});
  cm["data"]["key"] = "edited";  // drift the next sync would revert
  ASSERT_TRUE(client_.Update(cm).ok());

  kube::Object app = App();
  app["metadata"]["annotations"]["gantry.io/diff-requested-at"] = "t1";
  ASSERT_TRUE(client_.Update(app).ok());
  client_.ClearActions();
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kDone);
  // Only the answer was written; the drift is still there.
  EXPECT_EQ(Writes(), 1);
  EXPECT_EQ((*client_.Get({kConfigMapGvk, "ns", "settings"}))["data"]["key"], "edited");
  auto answer = client_.Get({kConfigMapGvk, "ns", "gantry-diff-app"});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["metadata"]["annotations"]["gantry.io/diff-requested-at"], "t1");
  EXPECT_EQ((*answer)["metadata"]["ownerReferences"][0]["name"], "app");
  EXPECT_EQ((*answer)["data"]["revision"], "main@sha1:c1");
  EXPECT_EQ((*answer)["data"]["changes"], "true");
  const std::string text = (*answer)["data"]["diff"];
  EXPECT_THAT(text, HasSubstr("=== ConfigMap ns/settings (update)"));
  EXPECT_THAT(text, HasSubstr("~ /data/key: \"edited\" -> \"one\""));

  // The same request is not answered twice; a pass with nothing requested syncs as usual.
  client_.ClearActions();
  EXPECT_EQ(reconciler_.Reconcile(key_).kind(), Kind::kDone);
  EXPECT_EQ((*client_.Get({kConfigMapGvk, "ns", "settings"}))["data"]["key"], "one");
  EXPECT_EQ(Writes(), 1);
}

TEST(DescribeChangesTest, LongValuesAreCutAtCharacterBoundaries) {
  std::string long_value;
  for (int i = 0; i < 100; ++i) long_value += "\xc3\xa9";  // é
  const kube::Object live = {{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", "a"}, {"namespace", "ns"}}},
                             {"data", {{"k", "x" + long_value}}}};
  kube::Object desired = live;
  desired["data"]["k"] = long_value;
  const auto lines = DescribeChanges(desired, live, {});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("..."));
  // Stored in the diff ConfigMap as JSON: must be valid UTF-8 (dump throws otherwise).
  EXPECT_NO_THROW((void)kube::Object(lines[0]).dump());
}

TEST(OutOfScopeTest, NoScopeRestrictsNothing) {
  manifest::Object o;
  o.json = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "x"}}}};
  DesiredObject d{o, o.json, kube::ResourceRef{{"", "v1", "Namespace"}, "", "x"}, "_x__Namespace",
                  "v1"};
  auto cluster_scoped = [](const manifest::GroupKind&) { return false; };
  EXPECT_TRUE(OutOfScope({d}, "", cluster_scoped).empty());
  ASSERT_EQ(OutOfScope({d}, "ns", cluster_scoped).size(), 1u);
  EXPECT_THAT(OutOfScope({d}, "ns", cluster_scoped)[0], HasSubstr("Namespace is cluster-scoped"));
}

TEST(ApplicationsUsingSourceTest, MatchesByNamespaceAndName) {
  std::vector<kube::Object> apps = {
      {{"metadata", {{"name", "a"}, {"namespace", "ns"}}},
       {"spec", {{"sourceRef", {{"kind", "GitRepository"}, {"name", "repo"}}}}}},
      {{"metadata", {{"name", "b"}, {"namespace", "other"}}},
       {"spec", {{"sourceRef", {{"name", "repo"}, {"namespace", "ns"}}}}}},
      {{"metadata", {{"name", "c"}, {"namespace", "other"}}},
       {"spec", {{"sourceRef", {{"name", "repo"}}}}}}};
  auto keys = ApplicationsUsingSource(apps, {"ns", "repo"});
  EXPECT_EQ(keys, (std::vector<kube::ObjectKey>{{"ns", "a"}, {"other", "b"}}));
}

}  // namespace
}  // namespace gantry::reconcilers
