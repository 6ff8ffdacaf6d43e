#include "operator/reconcilers/git_repository_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "operator/api/conditions.h"
#include "operator/kube/encoding.h"
#include "operator/kube/fake_event_recorder.h"
#include "operator/kube/fake_kube_client.h"

namespace gantry::reconcilers {
namespace {

using ::testing::HasSubstr;

const kube::GroupVersionKind kGitRepositoryGvk{"gantry.io", "v1alpha1", "GitRepository"};
const std::string kShaA(40, 'a');
const std::string kShaB(40, 'b');

// A GitSource that answers with the commit the test sets, and records every request.
class FakeGitSource final : public git::GitSource {
 public:
  Result<git::Artifact> Fetch(const git::FetchRequest& request) override {
    requests.push_back(request);
    if (!next_error.ok()) return next_error;
    git::Artifact a;
    a.commit = head;
    a.revision = "main@sha1:" + head;
    a.ref = "refs/heads/main";
    a.directory = "/artifacts/" + head;
    a.stats.downloaded = request.last_commit != head;
    return a;
  }
  Status Gc(const std::vector<git::RepositoryKey>&) override { return Status(); }

  std::string head = kShaA;
  Status next_error;
  std::vector<git::FetchRequest> requests;
};

class GitRepositoryReconcilerTest : public ::testing::Test {
 protected:
  GitRepositoryReconcilerTest()
      : reconciler_(GitRepositoryReconcilerDeps{
            client_, source_, clock_, artifacts_, *metrics_, &events_,
            [this](const kube::ObjectKey& key) { changed_.push_back(key); }}) {}

  void CreateRepo(kube::Object spec) {
    kube::Object repo = {{"apiVersion", "gantry.io/v1alpha1"},
                         {"kind", "GitRepository"},
                         {"metadata", {{"name", "repo"}, {"namespace", "ns"}}},
                         {"spec", std::move(spec)}};
    ASSERT_TRUE(client_.Create(repo).ok());
  }
  kube::Object Live() { return *client_.Get({kGitRepositoryGvk, "ns", "repo"}); }
  const kube::Object& Condition(const kube::Object& obj, const std::string& type) {
    static const kube::Object kNone;
    for (const auto& c : obj["status"]["conditions"]) {
      if (c["type"] == type) return c;
    }
    return kNone;
  }

  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
  FakeGitSource source_;
  ArtifactRegistry artifacts_;
  std::unique_ptr<SyncMetrics> metrics_ = NewNullSyncMetrics();
  kube::FakeEventRecorder events_;
  std::vector<kube::ObjectKey> changed_;
  GitRepositoryReconciler reconciler_;
  const kube::ObjectKey key_{"ns", "repo"};
};

TEST_F(GitRepositoryReconcilerTest, FetchStoresArtifactAndRequeuesAfterInterval) {
  CreateRepo({{"url", "https://example.invalid/repo.git"},
              {"ref", {{"branch", "main"}}},
              {"interval", "2m"}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kDone);
  EXPECT_EQ(result.requeue_after(), std::chrono::minutes(2));

  kube::Object live = Live();
  EXPECT_EQ(live["status"]["artifact"]["commit"], kShaA);
  EXPECT_EQ(live["status"]["artifact"]["revision"], "main@sha1:" + kShaA);
  EXPECT_EQ(live["status"]["webhookPath"], "/hooks/ns/repo");
  EXPECT_EQ(live["status"]["observedGeneration"], 1);
  EXPECT_EQ(Condition(live, "Ready")["status"], "True");
  ASSERT_EQ(source_.requests.size(), 1u);
  EXPECT_EQ(source_.requests[0].ref.branch, "main");
  EXPECT_EQ(source_.requests[0].name, "ns/repo");
  EXPECT_EQ(source_.requests[0].last_commit, "");
  EXPECT_EQ(source_.requests[0].timeout, std::chrono::seconds(60));
  ASSERT_EQ(changed_.size(), 1u);
  ASSERT_TRUE(artifacts_.Get(key_).has_value());
  EXPECT_EQ(artifacts_.Get(key_)->directory, "/artifacts/" + kShaA);
  ASSERT_FALSE(events_.Events().empty());
  EXPECT_EQ(events_.Events().back().reason, "NewArtifact");
}

TEST_F(GitRepositoryReconcilerTest, UnmovedRefWritesNothingAndPassesLastCommit) {
  CreateRepo({{"url", "https://example.invalid/repo.git"}});
  reconciler_.Reconcile(key_);
  const std::string rv = kube::ResourceVersionOf(Live());
  const size_t events_before = events_.Events().size();
  changed_.clear();

  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kDone);
  EXPECT_EQ(result.requeue_after(), std::chrono::minutes(1));
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_EQ(source_.requests[1].last_commit, kShaA);
  EXPECT_EQ(kube::ResourceVersionOf(Live()), rv) << "status rewritten although nothing moved";
  EXPECT_EQ(events_.Events().size(), events_before);
  EXPECT_TRUE(changed_.empty());
}

TEST_F(GitRepositoryReconcilerTest, NewCommitNotifiesApplications) {
  CreateRepo({{"url", "https://example.invalid/repo.git"}});
  reconciler_.Reconcile(key_);
  source_.head = kShaB;
  clock_.Advance(std::chrono::minutes(1));
  reconciler_.Reconcile(key_);
  EXPECT_EQ(Live()["status"]["artifact"]["commit"], kShaB);
  EXPECT_EQ(changed_.size(), 2u);
  EXPECT_EQ(artifacts_.Get(key_)->commit, kShaB);
}

TEST_F(GitRepositoryReconcilerTest, FetchFailureKeepsArtifactAndBacksOff) {
  CreateRepo({{"url", "https://example.invalid/repo.git"}});
  reconciler_.Reconcile(key_);
  source_.next_error = Status(StatusCode::kUnavailable, "connection refused");
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kError);
  kube::Object live = Live();
  EXPECT_EQ(live["status"]["artifact"]["commit"], kShaA);
  EXPECT_EQ(Condition(live, "Ready")["status"], "False");
  EXPECT_EQ(Condition(live, "Ready")["reason"], "GitOperationFailed");
  EXPECT_THAT(Condition(live, "Ready")["message"].get<std::string>(),
              HasSubstr("connection refused"));
  EXPECT_EQ(Condition(live, "Reconciling")["status"], "True");
  EXPECT_EQ(artifacts_.Get(key_)->commit, kShaA);
  EXPECT_EQ(events_.Events().back().type, kube::EventType::kWarning);
}

TEST_F(GitRepositoryReconcilerTest, InvalidSpecStallsWithoutFetching) {
  CreateRepo({{"url", "ftp://example.invalid/repo.git"}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kStalled);
  EXPECT_TRUE(source_.requests.empty());
  kube::Object live = Live();
  EXPECT_EQ(Condition(live, "Stalled")["status"], "True");
  EXPECT_EQ(Condition(live, "Ready")["reason"], "InvalidSpec");
}

TEST_F(GitRepositoryReconcilerTest, SuspendedFetchesNothing) {
  CreateRepo({{"url", "https://example.invalid/repo.git"}, {"suspend", true}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kDone);
  EXPECT_TRUE(source_.requests.empty());
}

TEST_F(GitRepositoryReconcilerTest, ReconcileRequestIsRecordedAsHandled) {
  CreateRepo({{"url", "https://example.invalid/repo.git"}});
  kube::Object live = Live();
  live["metadata"]["annotations"] = {{"gantry.io/reconcile-requested-at", "now-1"}};
  ASSERT_TRUE(client_.Update(live).ok());
  reconciler_.Reconcile(key_);
  EXPECT_EQ(Live()["status"]["lastHandledReconcileAt"], "now-1");
}

TEST_F(GitRepositoryReconcilerTest, BasicAuthFromSecret) {
  kube::Object secret = {{"apiVersion", "v1"},
                         {"kind", "Secret"},
                         {"metadata", {{"name", "creds"}, {"namespace", "ns"}}},
                         {"data",
                          {{"username", kube::Base64Encode("git")},
                           {"password", kube::Base64Encode("s3cret")},
                           {"ca.crt", kube::Base64Encode("PEM")}}}};
  ASSERT_TRUE(client_.Create(secret).ok());
  CreateRepo({{"url", "https://example.invalid/repo.git"}, {"secretRef", {{"name", "creds"}}}});
  reconciler_.Reconcile(key_);
  ASSERT_EQ(source_.requests.size(), 1u);
  EXPECT_EQ(source_.requests[0].auth.username, "git");
  EXPECT_EQ(source_.requests[0].auth.password, "s3cret");
  EXPECT_EQ(source_.requests[0].auth.ca_pem, "PEM");
}

TEST_F(GitRepositoryReconcilerTest, MissingSecretFailsNamingIt) {
  CreateRepo({{"url", "https://example.invalid/repo.git"}, {"secretRef", {{"name", "nope"}}}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kError);
  EXPECT_TRUE(source_.requests.empty());
  EXPECT_THAT(Condition(Live(), "Ready")["message"].get<std::string>(), HasSubstr("ns/nope"));
}

TEST_F(GitRepositoryReconcilerTest, IdentityWithoutKnownHostsIsRefused) {
  kube::Object secret = {{"apiVersion", "v1"},
                         {"kind", "Secret"},
                         {"metadata", {{"name", "ssh"}, {"namespace", "ns"}}},
                         {"data", {{"identity", kube::Base64Encode("KEY")}}}};
  ASSERT_TRUE(client_.Create(secret).ok());
  CreateRepo({{"url", "ssh://git@example.invalid/repo.git"}, {"secretRef", {{"name", "ssh"}}}});
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kError);
  EXPECT_THAT(Condition(Live(), "Ready")["message"].get<std::string>(), HasSubstr("known_hosts"));
}

TEST_F(GitRepositoryReconcilerTest, DeletedRepositoryForgetsArtifact) {
  CreateRepo({{"url", "https://example.invalid/repo.git"}});
  reconciler_.Reconcile(key_);
  ASSERT_TRUE(client_.Delete({kGitRepositoryGvk, "ns", "repo"}).ok());
  auto result = reconciler_.Reconcile(key_);
  EXPECT_EQ(result.kind(), controller::ReconcileResult::Kind::kDone);
  EXPECT_FALSE(artifacts_.Get(key_).has_value());
}

}  // namespace
}  // namespace gantry::reconcilers
