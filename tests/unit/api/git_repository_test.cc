#include "operator/api/git_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "yaml_testdata.h"

namespace gantry::api {
namespace {

using testing::BadCase;
using testing::ExpectRejected;
using ::testing::HasSubstr;

const nlohmann::json kValid = R"({
  "apiVersion": "gantry.io/v1alpha1", "kind": "GitRepository",
  "metadata": {"name": "repo", "namespace": "default", "generation": 3},
  "spec": {"url": "https://github.com/example/repo.git"}
})"_json;

TEST(ApiGitRepositoryTest, AppliesDefaults) {
  Result<GitRepository> repo = GitRepository::FromJson(kValid);
  ASSERT_TRUE(repo.ok()) << repo.status().ToString();
  EXPECT_EQ(repo->metadata.name, "repo");
  EXPECT_EQ(repo->metadata.namespace_, "default");
  EXPECT_EQ(repo->metadata.generation, 3);
  EXPECT_EQ(repo->spec.interval, "1m");
  EXPECT_EQ(repo->spec.timeout, "60s");
  EXPECT_EQ(repo->spec.Interval(), std::chrono::minutes(1));
  EXPECT_EQ(repo->spec.Timeout(), std::chrono::seconds(60));
  EXPECT_FALSE(repo->spec.suspend);
  EXPECT_FALSE(repo->spec.secret_ref.has_value());
  EXPECT_EQ(repo->spec.ref.Effective(), GitRefKind::kHead);
  EXPECT_FALSE(repo->status.artifact.has_value());
  EXPECT_EQ(repo->status.observed_generation, 0);
}

TEST(ApiGitRepositoryTest, DurationAccessorsParseAndFallBack) {
  GitRepositorySpec spec;
  spec.interval = "1h30m";
  spec.timeout = "2.5s";
  EXPECT_EQ(spec.Interval(), std::chrono::minutes(90));
  EXPECT_EQ(spec.Timeout(), std::chrono::milliseconds(2500));
  spec.interval = "soon";  // Validate reports it; the accessor must not return 0
  EXPECT_EQ(spec.Interval(), std::chrono::minutes(1));
}

TEST(ApiGitRepositoryTest, RefPrecedenceIsCommitSemverTagBranch) {
  GitRepositoryRef ref;
  EXPECT_EQ(ref.Effective(), GitRefKind::kHead);
  ref.branch = "main";
  EXPECT_EQ(ref.Effective(), GitRefKind::kBranch);
  ref.tag = "v1";
  EXPECT_EQ(ref.Effective(), GitRefKind::kTag);
  ref.semver = ">=1.0.0";
  EXPECT_EQ(ref.Effective(), GitRefKind::kSemver);
  ref.commit = std::string(40, 'a');
  EXPECT_EQ(ref.Effective(), GitRefKind::kCommit);
}

TEST(ApiGitRepositoryTest, ClassifiesUrls) {
  struct Case {
    const char* url;
    GitTransport transport;
  };
  for (const Case& c : std::vector<Case>{
           {"https://github.com/org/repo.git", GitTransport::kHttps},
           {"http://127.0.0.1:8080/repo.git", GitTransport::kHttp},
           {"ssh://git@github.com/org/repo.git", GitTransport::kSsh},
           {"ssh://git@host:2222/repo", GitTransport::kSsh},
           {"git@github.com:org/repo.git", GitTransport::kSsh},
           {"github.com:org/repo.git", GitTransport::kSsh},
           {"git@host:/srv/repo.git", GitTransport::kSsh},
           {"git://127.0.0.1/repo.git", GitTransport::kGit},
           {"file:///srv/git/repo.git", GitTransport::kFile},
       }) {
    Result<GitTransport> t = ClassifyGitUrl(c.url);
    ASSERT_TRUE(t.ok()) << c.url << ": " << t.status().ToString();
    EXPECT_EQ(*t, c.transport) << c.url;
  }
  struct BadUrl {
    const char* url;
    const char* why;
  };
  for (const BadUrl& c : std::vector<BadUrl>{
           {"ftp://example.com/repo", "unknown scheme \"ftp\""},
           {"https:///repo", "no host"},
           {"repo", "no scheme"},
           {"/srv/git/repo", "no scheme"},
           {"dir/sub:path", "no scheme"},
           {"git@host:", "no path"},
           {"@:x", "no host"},
           {"https://github.com/org/my repo", "contains whitespace"},
           {"", "empty"},
           {"file://", "no path"},
       }) {
    Result<GitTransport> t = ClassifyGitUrl(c.url);
    ASSERT_FALSE(t.ok()) << c.url;
    EXPECT_THAT(t.status().message(),
                HasSubstr(std::string("unsupported Git URL \"") + c.url + "\": " + c.why));
  }
}

TEST(ApiGitRepositoryTest, ValidationErrorsNameTheField) {
  ExpectRejected<GitRepository>(
      kValid,
      {
          {"no url",
           {{"spec", {{"url", nullptr}}}},
           "GitRepository default/repo: spec.url: is required"},
          {"bad scheme",
           {{"spec", {{"url", "ftp://x/y"}}}},
           "spec.url: unsupported Git URL \"ftp://x/y\": unknown scheme \"ftp\""},
          {"short commit",
           {{"spec", {{"ref", {{"commit", "abc123"}}}}}},
           "spec.ref.commit: must be a full commit SHA (40 or 64 lower-case hex digits), got "
           "\"abc123\""},
          {"upper-case commit",
           {{"spec", {{"ref", {{"commit", std::string(40, 'A')}}}}}},
           "spec.ref.commit: must be a full commit SHA"},
          {"branch with space",
           {{"spec", {{"ref", {{"branch", "my branch"}}}}}},
           "spec.ref.branch: must not contain whitespace"},
          {"tag with space",
           {{"spec", {{"ref", {{"tag", "v 1"}}}}}},
           "spec.ref.tag: must not contain whitespace"},
          {"bad interval",
           {{"spec", {{"interval", "5x"}}}},
           "spec.interval: invalid duration \"5x\": unknown unit \"x\""},
          {"zero interval",
           {{"spec", {{"interval", "0s"}}}},
           "spec.interval: must be a positive duration, got \"0s\""},
          {"empty interval", {{"spec", {{"interval", ""}}}}, "spec.interval: is required"},
          {"negative timeout",
           {{"spec", {{"timeout", "-1s"}}}},
           "spec.timeout: must be a positive duration, got \"-1s\""},
          {"empty timeout", {{"spec", {{"timeout", ""}}}}, "spec.timeout: is required"},
          {"secretRef without name",
           {{"spec", {{"secretRef", nlohmann::json::object()}}}},
           "spec.secretRef.name: is required"},
          {"bad secret name",
           {{"spec", {{"secretRef", {{"name", "Bad_Name"}}}}}},
           "spec.secretRef.name: \"Bad_Name\" is not a valid name"},
          {"webhook secret without name",
           {{"spec", {{"webhookSecretRef", nlohmann::json::object()}}}},
           "spec.webhookSecretRef.name: is required"},
          {"bad webhook secret name",
           {{"spec", {{"webhookSecretRef", {{"name", "-x"}}}}}},
           "spec.webhookSecretRef.name: \"-x\" is not a valid name"},
      });
}

TEST(ApiGitRepositoryTest, ReportsEveryErrorAtOnce) {
  nlohmann::json bad = kValid;
  bad["spec"]["url"] = "nope";
  bad["spec"]["interval"] = "0";
  Result<GitRepository> repo = GitRepository::FromJson(bad);
  ASSERT_TRUE(repo.ok());
  Status s = repo->Validate();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("GitRepository default/repo: spec.url: unsupported Git URL"));
  EXPECT_THAT(s.message(), HasSubstr("; spec.interval: must be a positive duration"));
  ASSERT_EQ(s.causes().size(), 2u);
  EXPECT_EQ(s.causes()[0].field, "spec.url");
  EXPECT_EQ(s.causes()[1].field, "spec.interval");
}

}  // namespace
}  // namespace gantry::api
