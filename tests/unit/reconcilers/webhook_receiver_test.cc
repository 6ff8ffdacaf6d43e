#include "operator/reconcilers/webhook_receiver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "operator/kube/encoding.h"
#include "operator/kube/fake_kube_client.h"

namespace gantry::reconcilers {
namespace {

TEST(HmacSha256HexTest, MatchesGitHubsDocumentedExample) {
  // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
  EXPECT_EQ(HmacSha256Hex("It's a Secret to Everybody", "Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST(ConstantTimeEqualsTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

class WebhookReceiverTest : public ::testing::Test {
 protected:
  WebhookReceiverTest() {
    EXPECT_TRUE(client_
                    .Create({{"apiVersion", "gantry.io/v1alpha1"},
                             {"kind", "GitRepository"},
                             {"metadata", {{"name", "repo"}, {"namespace", "ns"}}},
                             {"spec",
                              {{"url", "https://example.invalid/r.git"},
                               {"webhookSecretRef", {{"name", "hook"}}}}}})
                    .ok());
    EXPECT_TRUE(client_
                    .Create({{"apiVersion", "v1"},
                             {"kind", "Secret"},
                             {"metadata", {{"name", "hook"}, {"namespace", "ns"}}},
                             {"data", {{"token", kube::Base64Encode(kToken)}}}})
                    .ok());
  }

  controller::HttpServerRequest Post(std::string path, std::string body,
                                     std::vector<std::pair<std::string, std::string>> headers) {
    controller::HttpServerRequest r;
    r.method = "POST";
    r.path = std::move(path);
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
  }

  static constexpr const char* kToken = "hook-token";
  FakeClock clock_;
  kube::FakeKubeClient client_{clock_};
  std::unique_ptr<SyncMetrics> metrics_ = NewNullSyncMetrics();
  std::vector<kube::ObjectKey> triggered_;
  Status trigger_status_ = Status::Ok();
  WebhookReceiver receiver_{client_, *metrics_,
                            [this](const kube::ObjectKey& k) {
                              triggered_.push_back(k);
                              return trigger_status_;
                            },
                            64};
};

TEST_F(WebhookReceiverTest, GitHubSignatureTriggers) {
  std::string body = R"({"ref":"refs/heads/main"})";
  auto r = receiver_.Handle(Post(
      "/hooks/ns/repo", body, {{"x-hub-signature-256", "sha256=" + HmacSha256Hex(kToken, body)}}));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(triggered_, (std::vector<kube::ObjectKey>{{"ns", "repo"}}));
}

TEST_F(WebhookReceiverTest, GenericSignatureTriggers) {
  auto r = receiver_.Handle(
      Post("/hooks/ns/repo", "x", {{"x-signature", "sha256=" + HmacSha256Hex(kToken, "x")}}));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(triggered_.size(), 1u);
}

TEST_F(WebhookReceiverTest, GitLabTokenTriggers) {
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns/repo", "{}", {{"x-gitlab-token", kToken}})).status,
            202);
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns/repo", "{}", {{"x-gitlab-token", "nope"}})).status,
            401);
  EXPECT_EQ(triggered_.size(), 1u);
}

TEST_F(WebhookReceiverTest, WrongOrMissingSignatureIsRefused) {
  EXPECT_EQ(receiver_
                .Handle(Post("/hooks/ns/repo", "body",
                             {{"x-hub-signature-256", "sha256=" + HmacSha256Hex("other", "body")}}))
                .status,
            401);
  EXPECT_EQ(receiver_
                .Handle(Post("/hooks/ns/repo", "tampered",
                             {{"x-hub-signature-256", "sha256=" + HmacSha256Hex(kToken, "body")}}))
                .status,
            401);
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns/repo", "body", {})).status, 401);
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns/repo", "body", {{"x-signature", "md5=abc"}})).status,
            401);
  EXPECT_TRUE(triggered_.empty());
}

TEST_F(WebhookReceiverTest, UnknownPathOrRepositoryIsNotFound) {
  std::string sig = "sha256=" + HmacSha256Hex(kToken, "b");
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns/missing", "b", {{"x-signature", sig}})).status, 404);
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns", "b", {{"x-signature", sig}})).status, 404);
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns/repo/x", "b", {{"x-signature", sig}})).status, 404);
  EXPECT_EQ(receiver_.Handle(Post("/other", "b", {{"x-signature", sig}})).status, 404);
  EXPECT_TRUE(triggered_.empty());
}

TEST_F(WebhookReceiverTest, OversizedBodyIsRefused) {
  std::string body(65, 'x');
  auto r = receiver_.Handle(
      Post("/hooks/ns/repo", body, {{"x-signature", "sha256=" + HmacSha256Hex(kToken, body)}}));
  EXPECT_EQ(r.status, 413);
  EXPECT_TRUE(triggered_.empty());
}

TEST_F(WebhookReceiverTest, RepositoryWithoutWebhookSecretRefuses) {
  ASSERT_TRUE(client_
                  .Create({{"apiVersion", "gantry.io/v1alpha1"},
                           {"kind", "GitRepository"},
                           {"metadata", {{"name", "open"}, {"namespace", "ns"}}},
                           {"spec", {{"url", "https://example.invalid/r.git"}}}})
                  .ok());
  EXPECT_EQ(receiver_.Handle(Post("/hooks/ns/open", "b", {{"x-gitlab-token", kToken}})).status,
            401);
  EXPECT_TRUE(triggered_.empty());
}

TEST_F(WebhookReceiverTest, FailedHandOverIsUnavailableSoTheSenderRetries) {
  // A standby replica hands the request to the leader through the API; when that write fails
  // the push must not be acknowledged as if it had been queued.
  trigger_status_ = Unavailable("requesting a reconcile of GitRepository ns/repo: apiserver down");
  std::string body = "b";
  auto r = receiver_.Handle(
      Post("/hooks/ns/repo", body, {{"x-signature", "sha256=" + HmacSha256Hex(kToken, body)}}));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, ::testing::HasSubstr("apiserver down"));
  EXPECT_EQ(triggered_.size(), 1u);
}

}  // namespace
}  // namespace gantry::reconcilers
