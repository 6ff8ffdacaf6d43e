#include "operator/cli/app_actions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "operator/kube/encoding.h"
#include "operator/kube/fake_kube_client.h"

namespace gantry::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const kube::GroupVersionKind kAppGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kRepoGvk{"gantry.io", "v1alpha1", "GitRepository"};

// Serves one directory as every commit.
class DirectorySource final : public git::GitSource {
 public:
  explicit DirectorySource(fs::path dir) : dir_(std::move(dir)) {}
  Result<git::Artifact> Fetch(const git::FetchRequest& request) override {
    last = request;
    git::Artifact a;
    a.commit = std::string(40, 'c');
    a.revision = "main@sha1:" + a.commit;
    a.directory = dir_;
    return a;
  }
  Status Gc(const std::vector<git::RepositoryKey>&) override { return Status(); }
  git::FetchRequest last;

 private:
  fs::path dir_;
};

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

TEST_F(AppActionsTest, DiffShowsChangesMasksSecretsAndListsPrunes) {
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
  kube::Object repo = *client_.Get({kRepoGvk, "ns", "repo"});
  repo["status"]["artifact"] = {{"commit", std::string(40, 'c')},
                                {"revision", "main@sha1:" + std::string(40, 'c')}};
  ASSERT_TRUE(client_.UpdateStatus(repo).ok());
  DirectorySource source(dir);
  auto diff = DiffApplication(client_, source, "ns", "web");
  fs::remove_all(dir);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_TRUE(diff->changes);
  EXPECT_THAT(diff->text, HasSubstr("ConfigMap ns/settings (update)"));
  EXPECT_THAT(diff->text, HasSubstr("/data/color: \"red\" -> \"blue\""));
  EXPECT_THAT(diff->text, HasSubstr("Secret ns/creds (create)"));
  EXPECT_THAT(diff->text, Not(HasSubstr("hunter2")));
  EXPECT_THAT(diff->text, Not(HasSubstr(kube::Base64Encode("hunter2"))));
  EXPECT_THAT(diff->text, HasSubstr("Deployment ns/old (prune)"));
  EXPECT_EQ(source.last.url, "https://example.invalid/r.git");
  // Nothing was written by the diff.
  EXPECT_EQ((*client_.Get({{"", "v1", "ConfigMap"}, "ns", "settings"}))["data"]["color"], "red");
}

}  // namespace
}  // namespace gantry::cli
