#include "operator/cli/app_actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "operator/kube/encoding.h"
#include "operator/kube/fake_kube_client.h"
#include "operator/reconcilers/application_reconciler.h"

namespace gantry::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const kube::GroupVersionKind kAppGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kRepoGvk{"gantry.io", "v1alpha1", "GitRepository"};

class AppActionsTest : public ::testing::Test {
 protected:
  AppActionsTest() {
    EXPECT_TRUE(client_
                    .Create({{"apiVersion", "gantry.io/v1alpha1"},
                             {"kind", "GitRepository"},
                             {"metadata", {{"name", "repo"}, {"namespace", "ns"}}},
                             {"spec", {{"url", "https://example.invalid/r.git"}}}})
                    .ok());
    kube::Object app = {{"apiVersion", "gantry.io/v1alpha1"},
                        {"kind", "Application"},
                        {"metadata", {{"name", "web"}, {"namespace", "ns"}}},
                        {"spec",
                         {{"sourceRef", {{"kind", "GitRepository"}, {"name", "repo"}}},
                          {"targetNamespace", "ns"},
                          {"prune", true}}}};
    auto created = client_.Create(app);
    EXPECT_TRUE(created.ok());
    (*created)["status"] = {{"sync", {{"status", "Synced"}, {"revision", "main@sha1:abc"}}},
                            {"health", {{"status", "Healthy"}}},
                            {"lastAppliedRevision", "main@sha1:abc"},
                            {"inventory", {{{"id", "ns_old_apps_Deployment"}, {"v", "v1"}}}},
                            {"resources",
                             {{{"group", ""},
                               {"version", "v1"},
                               {"kind", "ConfigMap"},
                               {"namespace", "ns"},
                               {"name", "settings"},
                               {"status", "Synced"},
                               {"health", {{"status", "Healthy"}}}}}},
                            {"conditions",
                             {{{"type", "Ready"},
                               {"status", "True"},
                               {"reason", "ReconciliationSucceeded"},
                               {"message", "Applied revision: main@sha1:abc"},
                               {"lastTransitionTime", "2026-11-29T18:00:00Z"}}}}};
    EXPECT_TRUE(client_.UpdateStatus(*created).ok());
  }

  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
};

TEST_F(AppActionsTest, ListShowsSyncHealthAndRevision) {
  auto text = ListApplications(client_, "ns");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_THAT(*text, HasSubstr("NAMESPACE"));
  EXPECT_THAT(*text, HasSubstr("web"));
  EXPECT_THAT(*text, HasSubstr("Synced"));
  EXPECT_THAT(*text, HasSubstr("Healthy"));
  EXPECT_THAT(*text, HasSubstr("main@sha1:abc"));
  EXPECT_THAT(*ListApplications(client_, "empty"), HasSubstr("No Applications"));
}

TEST_F(AppActionsTest, GetShowsConditionsAndResources) {
  auto text = DescribeApplication(client_, "ns", "web");
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("Ready=True ReconciliationSucceeded"));
  EXPECT_THAT(*text, HasSubstr("settings"));
  EXPECT_EQ(DescribeApplication(client_, "ns", "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(AppActionsTest, SyncAnnotatesApplicationAndSource) {
  auto text = RequestSync(client_, clock_, "ns", "web");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto app = *client_.Get({kAppGvk, "ns", "web"});
  auto repo = *client_.Get({kRepoGvk, "ns", "repo"});
  const std::string stamp = app["metadata"]["annotations"]["gantry.io/reconcile-requested-at"];
  EXPECT_THAT(stamp, HasSubstr("2023-11-14T22:13:20"));
  EXPECT_EQ(repo["metadata"]["annotations"]["gantry.io/reconcile-requested-at"], stamp);
}

TEST_F(AppActionsTest, DiffIsAnsweredByTheOperatorFromItsArtifact) {
  fs::path dir = fs::path(::testing::TempDir()) / ("app-diff-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "cm.yaml") << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                                    "data:\n  color: blue\n";
  std::ofstream(dir / "secret.yaml")
      << "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n"
         "  password: hunter2\n";
  ASSERT_TRUE(client_
                  .Create({{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata", {{"name", "settings"}, {"namespace", "ns"}}},
                           {"data", {{"color", "red"}}}})
                  .ok());
  // The operator's view: the artifact it fetched (the Git URL is never contacted here).
  const std::string commit(40, 'c');
  kube::Object repo = *client_.Get({kRepoGvk, "ns", "repo"});
  repo["status"]["artifact"] = {{"commit", commit}, {"revision", "main@sha1:" + commit}};
  ASSERT_TRUE(client_.UpdateStatus(repo).ok());
  reconcilers::ArtifactRegistry artifacts;
  git::Artifact artifact;
  artifact.commit = commit;
  artifact.revision = "main@sha1:" + commit;
  artifact.directory = dir;
  artifacts.Put({"ns", "repo"}, artifact);
  auto metrics = reconcilers::NewNullSyncMetrics();
  reconcilers::ApplicationReconciler operator_pass(reconcilers::ApplicationReconcilerDeps{
      client_, clock_, artifacts, *metrics, nullptr, nullptr});
  // Mark the Application synced at that revision, so the pass answers the diff and syncs nothing.
  kube::Object app = *client_.Get({kAppGvk, "ns", "web"});
  app["status"]["lastAppliedRevision"] = "main@sha1:" + commit;
  app["status"]["observedGeneration"] = app["metadata"]["generation"];
  app["status"]["conditions"][0]["observedGeneration"] = app["metadata"]["generation"];
  ASSERT_TRUE(client_.UpdateStatus(app).ok());

  int sleeps = 0;
  auto diff = DiffApplication(
      client_, clock_,
      [&](std::chrono::milliseconds d) {
        clock_.Advance(d);
        if (++sleeps == 2) (void)operator_pass.Reconcile({"ns", "web"});
      },
      "ns", "web", std::chrono::seconds(10));
  fs::remove_all(dir);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_TRUE(diff->changes);
  EXPECT_THAT(diff->text, HasSubstr("Application ns/web at main@sha1:" + commit));
  EXPECT_THAT(diff->text, HasSubstr("ConfigMap ns/settings (update)"));
  EXPECT_THAT(diff->text, HasSubstr("/data/color: \"red\" -> \"blue\""));
  EXPECT_THAT(diff->text, HasSubstr("Secret ns/creds (create)"));
  EXPECT_THAT(diff->text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(diff->text, Not(HasSubstr(kube::Base64Encode("hunter2"))));
  EXPECT_THAT(diff->text, HasSubstr("Deployment ns/old (prune)"));
  // Nothing but the answer was written.
  EXPECT_EQ((*client_.Get({{"", "v1", "ConfigMap"}, "ns", "settings"}))["data"]["color"], "red");
  EXPECT_FALSE(client_.Get({{"", "v1", "Secret"}, "ns", "creds"}).ok());
}

TEST_F(AppActionsTest, DiffWithoutAnOperatorTimesOut) {
  auto diff = DiffApplication(
      client_, clock_, [&](std::chrono::milliseconds d) { clock_.Advance(d); }, "ns", "web",
      std::chrono::seconds(3));
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(diff.status().code(), StatusCode::kTimeout);
  EXPECT_THAT(diff.status().message(), HasSubstr("is gantry operator running"));
  EXPECT_EQ(
      DiffApplication(
          client_, clock_, [](std::chrono::milliseconds) {}, "ns", "nope", std::chrono::seconds(1))
          .status()
          .code(),
      StatusCode::kNotFound);
}

TEST_F(AppActionsTest, DiffReportsTheOperatorsError) {
  reconcilers::ArtifactRegistry artifacts;  // the operator has fetched nothing yet
  auto metrics = reconcilers::NewNullSyncMetrics();
  reconcilers::ApplicationReconciler operator_pass(reconcilers::ApplicationReconcilerDeps{
      client_, clock_, artifacts, *metrics, nullptr, nullptr});
  auto diff = DiffApplication(
      client_, clock_,
      [&](std::chrono::milliseconds d) {
        clock_.Advance(d);
        (void)operator_pass.Reconcile({"ns", "web"});
      },
      "ns", "web", std::chrono::seconds(10));
  ASSERT_FALSE(diff.ok());
  EXPECT_THAT(diff.status().message(),
              HasSubstr("the operator could not diff Application ns/web: GitRepository ns/repo "
                        "has no artifact in the operator yet"));
}

}  // namespace
}  // namespace gantry::cli
