// GitOps sync against real parts: the local control plane (KUBECONFIG), Libgit2Source, and the
// Git servers of tests/integration/git (git daemon, http-backend behind lighttpd with basic
// auth, sshd), all on 127.0.0.1. The reconcilers are driven pass by pass, as the work queue
// would, so each test states exactly which pass brings which change.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "operator/common/clock.h"
#include "operator/controller/http_server.h"
#include "operator/git/libgit2_source.h"
#include "operator/kube/encoding.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/rest_kube_client.h"
#include "operator/reconcilers/application_reconciler.h"
#include "operator/reconcilers/git_repository_reconciler.h"
#include "operator/reconcilers/webhook_receiver.h"
#include "tests/integration/git/git_test_support.h"

namespace gantry::reconcilers {
namespace {

using git::testing::GitServers;
using git::testing::TempDir;
using git::testing::WorkRepo;
using ::testing::HasSubstr;
using Kind = controller::ReconcileResult::Kind;

const kube::GroupVersionKind kNamespaceGvk{"", "v1", "Namespace"};
const kube::GroupVersionKind kConfigMapGvk{"", "v1", "ConfigMap"};
const kube::GroupVersionKind kDeploymentGvk{"apps", "v1", "Deployment"};
const kube::GroupVersionKind kAppGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kRepoGvk{"gantry.io", "v1alpha1", "GitRepository"};

std::string Suffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::string s;
  for (int i = 0; i < 6; ++i) s += "abcdefghijklmnopqrstuvwxyz0123456789"[rng() % 36];
  return s;
}

bool Eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::string ConfigMapYaml(const std::string& name, const std::string& value,
                          const std::string& extra_meta = "") {
  return fmt::format(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n{}data:\n  key: \"{}\"\n", name,
      extra_meta, value);
}

std::string DeploymentYaml(const std::string& name, int replicas) {
  return fmt::format(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: {0}
spec:
  replicas: {1}
  selector:
    matchLabels: {{app: {0}}}
  template:
    metadata:
      labels: {{app: {0}}}
    spec:
      containers:
      - name: app
        image: registry.invalid/app:1
)",
                     name, replicas);
}

class SyncTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* kubeconfig = std::getenv("KUBECONFIG");
    if (kubeconfig == nullptr || *kubeconfig == '\0') return;
    // The CRDs, idempotently (never deleted: other tests and engineers share the cluster).
    std::string cmd = fmt::format(
        "kubectl apply --server-side --force-conflicts -f {}/crds >/dev/null", GANTRY_SOURCE_DIR);
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    ASSERT_EQ(std::system("kubectl wait --for=condition=Established --timeout=60s "
                          "crd/applications.gantry.io crd/gitrepositories.gantry.io >/dev/null"),
              0);
  }

  void SetUp() override {
    const char* kubeconfig = std::getenv("KUBECONFIG");
    if (kubeconfig == nullptr || *kubeconfig == '\0') {
      GTEST_SKIP() << "KUBECONFIG is not set: `hack/cluster up` and `eval \"$(hack/cluster env)\"`";
    }
    auto config = kube::LoadKubeconfig({kubeconfig});
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config->qps = 0;
    auto client = kube::NewRestKubeClient(*config);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(client).value();
    ns_ = "sync-it-" + Suffix();
    ASSERT_TRUE(
        client_
            ->Create({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}})
            .ok());
    source_ = git::NewLibgit2Source(tmp_.path() / "cache", RealClock());
    metrics_ = NewNullSyncMetrics();
    git_ = std::make_unique<GitRepositoryReconciler>(GitRepositoryReconcilerDeps{
        *client_, *source_, RealClock(), artifacts_, *metrics_, nullptr, nullptr});
    watcher_ = std::make_unique<ManagedObjectWatcher>(*client_, [this](const kube::ObjectKey& k) {
      std::lock_guard lock(mu_);
      enqueued_.insert(k);
    });
    app_ = std::make_unique<ApplicationReconciler>(
        ApplicationReconcilerDeps{*client_, RealClock(), artifacts_, *metrics_, nullptr,
                                  watcher_.get(), std::chrono::milliseconds(200)});
  }

  void TearDown() override {
    watcher_.reset();
    if (client_ && !ns_.empty()) {
      (void)client_->Delete({kNamespaceGvk, "", ns_});
      for (const auto& extra : extra_namespaces_) (void)client_->Delete({kNamespaceGvk, "", extra});
    }
  }

  void CreateRepo(kube::Object spec, const std::string& name = "repo") {
    kube::Object repo = {{"apiVersion", "gantry.io/v1alpha1"},
                         {"kind", "GitRepository"},
                         {"metadata", {{"name", name}, {"namespace", ns_}}},
                         {"spec", std::move(spec)}};
    auto created = client_->Create(repo);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  void CreateSecret(const std::string& name, const std::map<std::string, std::string>& data) {
    kube::Object d = kube::Object::object();
    for (const auto& [k, v] : data) d[k] = kube::Base64Encode(v);
    ASSERT_TRUE(client_
                    ->Create({{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"metadata", {{"name", name}, {"namespace", ns_}}},
                              {"data", d}})
                    .ok());
  }
  void CreateApp(kube::Object spec, const std::string& name = "app") {
    spec["sourceRef"] = {{"kind", "GitRepository"}, {"name", "repo"}};
    if (!spec.contains("targetNamespace")) spec["targetNamespace"] = ns_;
    auto created = client_->Create({{"apiVersion", "gantry.io/v1alpha1"},
                                    {"kind", "Application"},
                                    {"metadata", {{"name", name}, {"namespace", ns_}}},
                                    {"spec", std::move(spec)}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  controller::ReconcileResult FetchRepo(const std::string& name = "repo") {
    return git_->Reconcile({ns_, name});
  }
  controller::ReconcileResult Sync(const std::string& name = "app") {
    return app_->Reconcile({ns_, name});
  }
  kube::Object Get(const kube::GroupVersionKind& gvk, const std::string& name) {
    auto o = client_->Get({gvk, ns_, name});
    return o.ok() ? *o : kube::Object();
  }
  std::string ReadyMessage(const kube::Object& o) {
    for (const auto& c : o["status"]["conditions"]) {
      if (c["type"] == "Ready")
        return c["status"].get<std::string>() + " " + c["reason"].get<std::string>() + ": " +
               c["message"].get<std::string>();
    }
    return "";
  }
  std::string CmValue(const std::string& name) {
    kube::Object cm = Get(kConfigMapGvk, name);
    return cm.is_null() ? "<missing>" : cm["data"].value("key", "");
  }
  // Names and resourceVersions of the ConfigMaps we manage: "the cluster as it was".
  std::map<std::string, std::string> Snapshot() {
    std::map<std::string, std::string> out;
    auto list = client_->ListAll(kConfigMapGvk, ns_);
    EXPECT_TRUE(list.ok());
    for (const auto& o : list->items) {
      if (kube::NameOf(o) == "kube-root-ca.crt") continue;
      out[kube::NameOf(o)] = kube::ResourceVersionOf(o);
    }
    return out;
  }

  std::unique_ptr<WorkRepo> FileRepo() {
    return std::make_unique<WorkRepo>(tmp_.path() / "remote" / "app.git", tmp_.path() / "work");
  }
  std::string FileUrl() { return "file://" + (tmp_.path() / "remote" / "app.git").string(); }

  TempDir tmp_;
  std::unique_ptr<kube::KubeClient> client_;
  std::string ns_;
  std::vector<std::string> extra_namespaces_;
  std::unique_ptr<git::GitSource> source_;
  ArtifactRegistry artifacts_;
  std::unique_ptr<SyncMetrics> metrics_;
  std::unique_ptr<GitRepositoryReconciler> git_;
  std::unique_ptr<ManagedObjectWatcher> watcher_;
  std::unique_ptr<ApplicationReconciler> app_;
  std::mutex mu_;
  std::set<kube::ObjectKey> enqueued_;
};

TEST_F(SyncTest, FileRemoteCommitAppliedChangedAndPruned) {
  auto repo = FileRepo();
  repo->Commit({{"app/a.yaml", ConfigMapYaml("a", "one")},
                {"app/b.yaml", ConfigMapYaml("b", "one")},
                {"README.md", "not a manifest"}},
               "first");
  CreateRepo({{"url", FileUrl()}, {"ref", {{"branch", "main"}}}});
  CreateApp({{"path", "./app"}, {"prune", true}});
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  auto r = Sync();
  ASSERT_EQ(r.kind(), Kind::kDone) << r.reason() << ReadyMessage(Get(kAppGvk, "app"));
  EXPECT_EQ(CmValue("a"), "one");
  EXPECT_EQ(CmValue("b"), "one");
  kube::Object app = Get(kAppGvk, "app");
  EXPECT_EQ(app["status"]["sync"]["status"], "Synced");
  EXPECT_EQ(app["status"]["inventory"].size(), 2u);

  // Nothing moved: no write at all.
  auto before = Snapshot();
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(Snapshot(), before);

  // A change and a removal.
  repo->Commit({{"app/a.yaml", ConfigMapYaml("a", "two")}, {"app/b.yaml", ""}}, "second");
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("a"), "two");
  EXPECT_EQ(CmValue("b"), "<missing>");
  EXPECT_EQ(Get(kAppGvk, "app")["status"]["inventory"].size(), 1u);
}

TEST_F(SyncTest, NoPruneWhenPruneIsOffOrFetchFails) {
  auto repo = FileRepo();
  repo->Commit({{"a.yaml", ConfigMapYaml("a", "1")}, {"b.yaml", ConfigMapYaml("b", "1")}}, "one");
  CreateRepo({{"url", FileUrl()}});
  CreateApp({{"prune", false}});
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  repo->Commit({{"b.yaml", ""}}, "drop b");
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("b"), "1") << "pruned although prune is off";

  // Prune on, but the source cannot be fetched: the last artifact stays, nothing is pruned.
  kube::Object app = Get(kAppGvk, "app");
  app["spec"]["prune"] = true;
  ASSERT_TRUE(client_->Update(app).ok());
  kube::Object gr = Get(kRepoGvk, "repo");
  gr["spec"]["url"] = "file://" + (tmp_.path() / "nowhere.git").string();
  ASSERT_TRUE(client_->Update(gr).ok());
  EXPECT_EQ(FetchRepo().kind(), Kind::kError);
  EXPECT_THAT(ReadyMessage(Get(kRepoGvk, "repo")), HasSubstr("GitOperationFailed"));
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("a"), "1");
}

TEST_F(SyncTest, HttpBasicAuthThroughSecret) {
  auto& servers = GitServers::Get();
  const std::string name = "sync-basic-" + Suffix();
  WorkRepo repo(servers.RepoRoot() / (name + ".git"), tmp_.path() / "work-basic");
  repo.Commit({{"cm.yaml", ConfigMapYaml("basic", "over-http")}}, "one");
  CreateSecret("creds", {{"username", servers.Value("BASIC_USER")},
                         {"password", servers.Value("BASIC_PASS")}});
  CreateRepo(
      {{"url", fmt::format("http://127.0.0.1:{}/basic/{}.git", servers.Port("HTTP_PORT"), name)},
       {"secretRef", {{"name", "creds"}}}});
  CreateApp(kube::Object::object());
  auto f = FetchRepo();
  ASSERT_EQ(f.kind(), Kind::kDone) << f.status().ToString();
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("basic"), "over-http");

  // Without credentials the server refuses, and the condition says so.
  kube::Object gr = Get(kRepoGvk, "repo");
  gr["spec"].erase("secretRef");
  ASSERT_TRUE(client_->Update(gr).ok());
  EXPECT_EQ(FetchRepo().kind(), Kind::kError);
  EXPECT_THAT(ReadyMessage(Get(kRepoGvk, "repo")), HasSubstr("False GitOperationFailed"));
}

TEST_F(SyncTest, SshWithKeyAndSemverRef) {
  auto& servers = GitServers::Get();
  const std::string name = "sync-ssh-" + Suffix();
  WorkRepo repo(servers.RepoRoot() / (name + ".git"), tmp_.path() / "work-ssh");
  repo.Commit({{"cm.yaml", ConfigMapYaml("ssh", "v1.0.0")}}, "one");
  repo.Tag("v1.0.0", true);
  repo.Commit({{"cm.yaml", ConfigMapYaml("ssh", "v1.1.0")}}, "two");
  repo.Tag("v1.1.0", false);
  repo.Commit({{"cm.yaml", ConfigMapYaml("ssh", "v2.0.0")}}, "three");
  repo.Tag("v2.0.0", true);
  repo.Commit({{"cm.yaml", ConfigMapYaml("ssh", "untagged")}}, "four");
  CreateSecret("ssh", {{"identity", GitServers::ReadFile(servers.Value("SSH_CLIENT_KEY"))},
                       {"known_hosts", GitServers::ReadFile(servers.Value("SSH_KNOWN_HOSTS"))}});
  CreateRepo({{"url", fmt::format("ssh://{}@127.0.0.1:{}{}/{}.git", servers.Value("SSH_USER"),
                                  servers.Port("SSH_PORT"), servers.RepoRoot().string(), name)},
              {"ref", {{"semver", ">=1.0.0 <2.0.0"}}},
              {"secretRef", {{"name", "ssh"}}}});
  CreateApp(kube::Object::object());
  auto f = FetchRepo();
  ASSERT_EQ(f.kind(), Kind::kDone) << f.status().ToString();
  EXPECT_THAT(Get(kRepoGvk, "repo")["status"]["artifact"]["revision"].get<std::string>(),
              ::testing::StartsWith("v1.1.0@sha1:"));
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("ssh"), "v1.1.0");

  // Tag ref, then a commit ref.
  kube::Object gr = Get(kRepoGvk, "repo");
  gr["spec"]["ref"] = {{"tag", "v2.0.0"}};
  ASSERT_TRUE(client_->Update(gr).ok());
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("ssh"), "v2.0.0");
  const std::string head = repo.Head();
  gr = Get(kRepoGvk, "repo");
  gr["spec"]["ref"] = {{"branch", "main"}, {"commit", head}};
  ASSERT_TRUE(client_->Update(gr).ok());
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("ssh"), "untagged");
}

TEST_F(SyncTest, BadCommitsLeaveTheClusterExactlyAsItWas) {
  auto repo = FileRepo();
  repo->Commit({{"a.yaml", ConfigMapYaml("a", "good")}}, "good");
  CreateRepo({{"url", FileUrl()}});
  CreateApp({{"prune", true}});
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  const auto before = Snapshot();

  struct Case {
    std::string what;
    std::map<std::string, std::string> files;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"malformed YAML",
       {{"a.yaml", ConfigMapYaml("a", "changed")}, {"bad.yaml", "kind: [unclosed\n"}},
       "bad.yaml:"},
      {"unknown kind",
       {{"a.yaml", ConfigMapYaml("a", "changed")},
        {"bad.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"}},
       "bad.yaml:1"},
      {"schema-invalid object",
       {{"a.yaml", ConfigMapYaml("a", "changed")},
        {"bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: [1]\n"}},
       "bad.yaml:1"},
      {"namespace that does not exist",
       {{"a.yaml", ConfigMapYaml("a", "changed")},
        {"bad.yaml",
         ConfigMapYaml("elsewhere", "x", "  namespace: no-such-ns-" + Suffix() + "\n")}},
       "bad.yaml:1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    std::map<std::string, std::string> files = c.files;
    repo->Commit(files, c.what);
    ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
    auto r = Sync();
    EXPECT_EQ(r.kind(), Kind::kWaiting);
    EXPECT_EQ(Snapshot(), before);
    EXPECT_EQ(CmValue("a"), "good");
    kube::Object app = Get(kAppGvk, "app");
    EXPECT_THAT(ReadyMessage(app), HasSubstr("False"));
    EXPECT_THAT(ReadyMessage(app), HasSubstr(c.expect));
    EXPECT_EQ(app["status"]["inventory"].size(), 1u);
    repo->Commit({{"bad.yaml", ""}, {"a.yaml", ConfigMapYaml("a", "good")}}, "revert");
  }
}

// The operator runs as a ServiceAccount whose Role covers only the test's namespace; a commit
// that also writes into another namespace is refused by RBAC on the dry run, so nothing of it
// is applied, and Ready names the file, the object and the server's message.
TEST_F(SyncTest, ForbiddenNamespaceLeavesTheClusterExactlyAsItWas) {
  const std::string other = "sync-it-other-" + Suffix();
  extra_namespaces_.push_back(other);
  ASSERT_TRUE(
      client_
          ->Create({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", other}}}})
          .ok());
  kube::ApplyOptions admin;
  admin.field_manager = "gantry-test";
  ASSERT_TRUE(client_
                  ->Apply({{"apiVersion", "v1"},
                           {"kind", "ServiceAccount"},
                           {"metadata", {{"name", "operator"}, {"namespace", ns_}}}},
                          admin)
                  .ok());
  ASSERT_TRUE(client_
                  ->Apply({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                           {"kind", "Role"},
                           {"metadata", {{"name", "operator"}, {"namespace", ns_}}},
                           {"rules",
                            kube::Object::array(
                                {{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}}})}},
                          admin)
                  .ok());
  ASSERT_TRUE(client_
                  ->Apply({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                           {"kind", "RoleBinding"},
                           {"metadata", {{"name", "operator"}, {"namespace", ns_}}},
                           {"roleRef",
                            {{"apiGroup", "rbac.authorization.k8s.io"},
                             {"kind", "Role"},
                             {"name", "operator"}}},
                           {"subjects", kube::Object::array({{{"kind", "ServiceAccount"},
                                                              {"name", "operator"},
                                                              {"namespace", ns_}}})}},
                          admin)
                  .ok());
  auto token = client_->CreateSubresource({{"", "v1", "ServiceAccount"}, ns_, "operator"}, "token",
                                          {{"apiVersion", "authentication.k8s.io/v1"},
                                           {"kind", "TokenRequest"},
                                           {"spec", {{"expirationSeconds", 600}}}});
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  auto config = kube::LoadKubeconfig({std::getenv("KUBECONFIG")});
  ASSERT_TRUE(config.ok());
  kube::RestConfig restricted;
  restricted.server = config->server;
  restricted.ca_pem = config->ca_pem;
  restricted.qps = 0;
  restricted.bearer_token = (*token)["status"]["token"];
  auto operator_client = kube::NewRestKubeClient(restricted);
  ASSERT_TRUE(operator_client.ok()) << operator_client.status().ToString();
  GitRepositoryReconciler git(GitRepositoryReconcilerDeps{**operator_client, *source_, RealClock(),
                                                          artifacts_, *metrics_, nullptr, nullptr});
  ApplicationReconciler app(ApplicationReconcilerDeps{**operator_client, RealClock(), artifacts_,
                                                      *metrics_, nullptr, nullptr,
                                                      std::chrono::milliseconds(200)});

  auto repo = FileRepo();
  repo->Commit({{"a.yaml", ConfigMapYaml("a", "good")}}, "good");
  CreateRepo({{"url", FileUrl()}});
  CreateApp({{"prune", true}});
  ASSERT_EQ(git.Reconcile({ns_, "repo"}).kind(), Kind::kDone);
  auto r = app.Reconcile({ns_, "app"});
  ASSERT_EQ(r.kind(), Kind::kDone) << r.reason() << ReadyMessage(Get(kAppGvk, "app"));
  const auto before = Snapshot();

  repo->Commit(
      {{"a.yaml", ConfigMapYaml("a", "changed")},
       {"z-new.yaml", ConfigMapYaml("new", "x")},
       {"elsewhere.yaml", ConfigMapYaml("elsewhere", "x", "  namespace: " + other + "\n")}},
      "writes into a namespace the operator may not");
  ASSERT_EQ(git.Reconcile({ns_, "repo"}).kind(), Kind::kDone);
  EXPECT_EQ(app.Reconcile({ns_, "app"}).kind(), Kind::kWaiting);
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(CmValue("a"), "good");
  EXPECT_EQ(client_->Get({kConfigMapGvk, other, "elsewhere"}).status().code(),
            StatusCode::kNotFound);
  const std::string ready = ReadyMessage(Get(kAppGvk, "app"));
  EXPECT_THAT(ready, HasSubstr("False ValidationFailed"));
  EXPECT_THAT(ready, HasSubstr("nothing applied"));
  EXPECT_THAT(ready, HasSubstr("elsewhere.yaml:1: dry-run failed"));
  EXPECT_THAT(ready, HasSubstr("(object ConfigMap " + other + "/elsewhere)"));
  EXPECT_THAT(ready, HasSubstr("system:serviceaccount:" + ns_ + ":operator"));
  EXPECT_THAT(ready, HasSubstr("forbidden"));
  EXPECT_EQ(Get(kAppGvk, "app")["status"]["inventory"].size(), 1u);

  // Without the object the operator may not write, the commit applies.
  repo->Commit({{"elsewhere.yaml", ""}}, "stay in our namespace");
  ASSERT_EQ(git.Reconcile({ns_, "repo"}).kind(), Kind::kDone);
  r = app.Reconcile({ns_, "app"});
  EXPECT_EQ(r.kind(), Kind::kDone) << ReadyMessage(Get(kAppGvk, "app"));
  EXPECT_EQ(CmValue("a"), "changed");
  EXPECT_EQ(CmValue("new"), "x");
}

// An operator started with --namespace writes only there: a commit with a cluster-scoped
// object or an object in another namespace applies nothing.
TEST_F(SyncTest, NamespacedOperatorRefusesClusterScopedAndForeignObjects) {
  ApplicationReconcilerDeps deps{*client_, RealClock(), artifacts_, *metrics_, nullptr, nullptr};
  deps.scope_namespace = ns_;
  ApplicationReconciler scoped(std::move(deps));
  const std::string role = "gantry-sync-it-" + Suffix();
  auto repo = FileRepo();
  repo->Commit({{"a.yaml", ConfigMapYaml("a", "1")},
                {"role.yaml", fmt::format("apiVersion: rbac.authorization.k8s.io/v1\n"
                                          "kind: ClusterRole\nmetadata:\n  name: {}\nrules: []\n",
                                          role)},
                {"foreign.yaml", ConfigMapYaml("b", "1", "  namespace: default\n")}},
               "one");
  CreateRepo({{"url", FileUrl()}});
  CreateApp(kube::Object::object());
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  EXPECT_EQ(scoped.Reconcile({ns_, "app"}).kind(), Kind::kWaiting);
  EXPECT_EQ(CmValue("a"), "<missing>");
  EXPECT_EQ(
      client_->Get({{"rbac.authorization.k8s.io", "v1", "ClusterRole"}, "", role}).status().code(),
      StatusCode::kNotFound);
  const std::string ready = ReadyMessage(Get(kAppGvk, "app"));
  EXPECT_THAT(ready, HasSubstr("False ValidationFailed"));
  EXPECT_THAT(ready, HasSubstr("role.yaml:1: ClusterRole.rbac.authorization.k8s.io is "
                               "cluster-scoped, but this operator only writes in namespace " +
                               ns_));
  EXPECT_THAT(ready, HasSubstr("foreign.yaml:1: namespace default is outside namespace " + ns_));

  repo->Commit({{"role.yaml", ""}, {"foreign.yaml", ""}}, "namespaced only");
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  EXPECT_EQ(scoped.Reconcile({ns_, "app"}).kind(), Kind::kDone);
  EXPECT_EQ(CmValue("a"), "1");
}

// Every transport and auth mode through a GitRepository and its Secret, each synced.
TEST_F(SyncTest, GitDaemonBearerTokenCustomCaAndUnknownHostKey) {
  auto& servers = GitServers::Get();
  const std::string name = "sync-modes-" + Suffix();
  WorkRepo repo(servers.RepoRoot() / (name + ".git"), tmp_.path() / "work-modes");
  repo.Commit({{"cm.yaml", ConfigMapYaml("mode", "git-daemon")}}, "one");
  CreateApp(kube::Object::object());

  // git:// with a branch ref.
  CreateRepo({{"url", fmt::format("git://127.0.0.1:{}/{}.git", servers.Port("GIT_PORT"), name)},
              {"ref", {{"branch", "main"}}}});
  auto f = FetchRepo();
  ASSERT_EQ(f.kind(), Kind::kDone) << f.status().ToString();
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("mode"), "git-daemon");

  // http:// with a bearer token from the Secret.
  repo.Commit({{"cm.yaml", ConfigMapYaml("mode", "bearer")}}, "two");
  CreateSecret("bearer", {{"bearerToken", servers.Value("BEARER_TOKEN")}});
  kube::Object gr = Get(kRepoGvk, "repo");
  gr["spec"]["url"] =
      fmt::format("http://127.0.0.1:{}/bearer/{}.git", servers.Port("HTTP_PORT"), name);
  gr["spec"]["secretRef"] = {{"name", "bearer"}};
  ASSERT_TRUE(client_->Update(gr).ok());
  f = FetchRepo();
  ASSERT_EQ(f.kind(), Kind::kDone) << f.status().ToString();
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("mode"), "bearer");

  // https:// with the server's CA (ca.crt) and basic auth from the Secret.
  repo.Commit({{"cm.yaml", ConfigMapYaml("mode", "https")}}, "three");
  CreateSecret("tls", {{"username", servers.Value("BASIC_USER")},
                       {"password", servers.Value("BASIC_PASS")},
                       {"ca.crt", GitServers::ReadFile(servers.Value("CA_CRT"))}});
  gr = Get(kRepoGvk, "repo");
  gr["spec"]["url"] =
      fmt::format("https://127.0.0.1:{}/basic/{}.git", servers.Port("HTTPS_PORT"), name);
  gr["spec"]["secretRef"] = {{"name", "tls"}};
  ASSERT_TRUE(client_->Update(gr).ok());
  f = FetchRepo();
  ASSERT_EQ(f.kind(), Kind::kDone) << f.status().ToString();
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("mode"), "https");

  // ssh:// whose known_hosts lists another key for the server: refused, nothing applied.
  repo.Commit({{"cm.yaml", ConfigMapYaml("mode", "ssh")}}, "four");
  CreateSecret("ssh",
               {{"identity", GitServers::ReadFile(servers.Value("SSH_CLIENT_KEY"))},
                {"known_hosts", GitServers::ReadFile(servers.Value("SSH_WRONG_KNOWN_HOSTS"))}});
  gr = Get(kRepoGvk, "repo");
  gr["spec"]["url"] = fmt::format("ssh://{}@127.0.0.1:{}{}/{}.git", servers.Value("SSH_USER"),
                                  servers.Port("SSH_PORT"), servers.RepoRoot().string(), name);
  gr["spec"]["secretRef"] = {{"name", "ssh"}};
  ASSERT_TRUE(client_->Update(gr).ok());
  EXPECT_EQ(FetchRepo().kind(), Kind::kError);
  EXPECT_THAT(ReadyMessage(Get(kRepoGvk, "repo")), HasSubstr("does not match known_hosts"));
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("mode"), "https");
}

TEST_F(SyncTest, SelfHealRevertsHandEditAndIgnoreDifferencesLeavesReplicas) {
  auto repo = FileRepo();
  repo->Commit(
      {{"cm.yaml", ConfigMapYaml("healed", "from-git")}, {"deploy.yaml", DeploymentYaml("web", 2)}},
      "one");
  CreateRepo({{"url", FileUrl()}});
  CreateApp(
      {{"ignoreDifferences",
        {{{"group", "apps"}, {"kind", "Deployment"}, {"jsonPointers", {"/spec/replicas"}}}}}});
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  ASSERT_TRUE(watcher_->WaitForSync(std::chrono::seconds(10)));

  // A hand edit is seen by the watch, which enqueues the Application at once.
  kube::Object cm = Get(kConfigMapGvk, "healed");
  cm["data"]["key"] = "by-hand";
  ASSERT_TRUE(client_->Update(cm).ok());
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mu_);
    return enqueued_.contains(kube::ObjectKey{ns_, "app"});
  })) << "the watch did not enqueue the Application";
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("healed"), "from-git");

  // An HPA (another field manager) scales the Deployment; Gantry leaves replicas alone.
  auto scaled = client_->UpdateScale({kDeploymentGvk, ns_, "web"}, 5);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(Get(kDeploymentGvk, "web")["spec"]["replicas"], 5);
}

TEST_F(SyncTest, WavesAndNamespacesAndCrdsInOneCommit) {
  const std::string extra_ns = "sync-it-new-" + Suffix();
  extra_namespaces_.push_back(extra_ns);
  auto repo = FileRepo();
  repo->Commit({{"ns.yaml",
                 fmt::format("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n", extra_ns)},
                {"in-new-ns.yaml", ConfigMapYaml("inside", "1", "  namespace: " + extra_ns + "\n")},
                {"late.yaml",
                 ConfigMapYaml("late", "1", "  annotations:\n    gantry.io/sync-wave: \"5\"\n")},
                {"early.yaml",
                 ConfigMapYaml("early", "1", "  annotations:\n    gantry.io/sync-wave: \"-5\"\n")}},
               "one");
  CreateRepo({{"url", FileUrl()}});
  CreateApp(kube::Object::object());
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  auto r = Sync();
  ASSERT_EQ(r.kind(), Kind::kDone) << ReadyMessage(Get(kAppGvk, "app"));
  auto inside = client_->Get({kConfigMapGvk, extra_ns, "inside"});
  EXPECT_TRUE(inside.ok());
  // Creation order follows the waves: early before late.
  auto rv = [&](const std::string& n) {
    return std::stoll(kube::ResourceVersionOf(Get(kConfigMapGvk, n)));
  };
  EXPECT_LT(rv("early"), rv("late"));
}

TEST_F(SyncTest, DependsOnWaitsForTheOtherApplication) {
  auto repo = FileRepo();
  repo->Commit(
      {{"base/a.yaml", ConfigMapYaml("base", "1")}, {"top/b.yaml", ConfigMapYaml("top", "1")}},
      "one");
  CreateRepo({{"url", FileUrl()}});
  CreateApp({{"path", "base"}}, "base");
  CreateApp({{"path", "top"}, {"dependsOn", {{{"name", "base"}}}}}, "top");
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  EXPECT_EQ(Sync("top").kind(), Kind::kWaiting);
  EXPECT_EQ(CmValue("top"), "<missing>");
  ASSERT_EQ(Sync("base").kind(), Kind::kDone);
  ASSERT_EQ(Sync("top").kind(), Kind::kDone);
  EXPECT_EQ(CmValue("top"), "1");
}

TEST_F(SyncTest, SuspendedApplicationAndRepositoryDoNothing) {
  auto repo = FileRepo();
  repo->Commit({{"a.yaml", ConfigMapYaml("a", "1")}}, "one");
  CreateRepo({{"url", FileUrl()}});
  CreateApp({{"suspend", true}});
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  ASSERT_EQ(Sync().kind(), Kind::kDone);
  EXPECT_EQ(CmValue("a"), "<missing>");

  kube::Object gr = Get(kRepoGvk, "repo");
  gr["spec"]["suspend"] = true;
  ASSERT_TRUE(client_->Update(gr).ok());
  const std::string commit = Get(kRepoGvk, "repo")["status"]["artifact"]["commit"];
  repo->Commit({{"a.yaml", ConfigMapYaml("a", "2")}}, "two");
  ASSERT_EQ(FetchRepo().kind(), Kind::kDone);
  EXPECT_EQ(Get(kRepoGvk, "repo")["status"]["artifact"]["commit"], commit);
}

TEST_F(SyncTest, WebhookOverHttpTriggersOnlyWhenSigned) {
  CreateSecret("hook", {{"token", "tok-" + Suffix()}});
  const std::string token =
      kube::Base64Decode(Get({"", "v1", "Secret"}, "hook")["data"]["token"].get<std::string>())
          .value();
  CreateRepo({{"url", FileUrl()}, {"webhookSecretRef", {{"name", "hook"}}}});
  std::mutex mu;
  std::vector<kube::ObjectKey> triggered;
  WebhookReceiver receiver(*client_, *metrics_, [&](const kube::ObjectKey& k) {
    std::lock_guard lock(mu);
    triggered.push_back(k);
    return Status::Ok();
  });
  auto server = controller::NewCivetHttpServer("webhook", "127.0.0.1:0");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  (*server)->Handle(std::string(kWebhookPathPrefix),
                    [&](const controller::HttpServerRequest& r) { return receiver.Handle(r); });
  ASSERT_TRUE((*server)->Start().ok());
  const int port = (*server)->port();
  auto post = [&](const std::string& path, const std::string& header) {
    std::string body = "{\"ref\":\"refs/heads/main\"}";
    std::string cmd = fmt::format(
        "curl -s -o /dev/null -w '%{{http_code}}' -X POST -H 'Content-Type: application/json' {} "
        "--data '{}' http://127.0.0.1:{}{}",
        header.empty() ? "" : "-H '" + header + "'", body, port, path);
    FILE* p = popen(cmd.c_str(), "r");
    char buf[16] = {0};
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    pclose(p);
    return std::string(buf, n);
  };
  const std::string body = "{\"ref\":\"refs/heads/main\"}";
  const std::string path = fmt::format("/hooks/{}/repo", ns_);
  EXPECT_EQ(post(path, ""), "401");
  EXPECT_EQ(post(path, "X-Hub-Signature-256: sha256=" + HmacSha256Hex("wrong", body)), "401");
  EXPECT_EQ(post(fmt::format("/hooks/{}/missing", ns_),
                 "X-Hub-Signature-256: sha256=" + HmacSha256Hex(token, body)),
            "404");
  {
    std::lock_guard lock(mu);
    EXPECT_TRUE(triggered.empty());
  }
  EXPECT_EQ(post(path, "X-Hub-Signature-256: sha256=" + HmacSha256Hex(token, body)), "202");
  EXPECT_EQ(post(path, "X-Gitlab-Token: " + token), "202");
  EXPECT_EQ(post(path, "X-Signature: sha256=" + HmacSha256Hex(token, body)), "202");
  std::lock_guard lock(mu);
  EXPECT_EQ(triggered.size(), 3u);
  (*server)->Stop();
}

}  // namespace
}  // namespace gantry::reconcilers
