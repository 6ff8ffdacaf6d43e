#include "operator/git/git_url.h"

#include <gtest/gtest.h>

namespace gantry::git {
namespace {

GitUrl Parse(std::string_view url) {
  auto u = ParseGitUrl(url);
  EXPECT_TRUE(u.ok()) << url << ": " << u.status().ToString();
  return u.ok() ? *u : GitUrl{};
}

TEST(GitUrlTest, ParsesEveryScheme) {
  GitUrl u = Parse("https://github.com/org/repo.git");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "github.com");
  EXPECT_EQ(u.port, 0);
  EXPECT_EQ(u.EffectivePort(), 443);
  EXPECT_EQ(u.path, "/org/repo.git");

  u = Parse("HTTP://127.0.0.1:8080/basic/repo.git");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.EffectivePort(), 8080);

  u = Parse("ssh://git@127.0.0.1:2222/srv/repo.git");
  EXPECT_EQ(u.scheme, "ssh");
  EXPECT_EQ(u.user, "git");
  EXPECT_EQ(u.EffectivePort(), 2222);
  EXPECT_FALSE(u.scp_like);

  u = Parse("git@github.com:org/repo.git");
  EXPECT_EQ(u.scheme, "ssh");
  EXPECT_TRUE(u.scp_like);
  EXPECT_EQ(u.user, "git");
  EXPECT_EQ(u.host, "github.com");
  EXPECT_EQ(u.path, "org/repo.git");
  EXPECT_EQ(u.EffectivePort(), 22);

  u = Parse("git://127.0.0.1:9418/repo.git");
  EXPECT_EQ(u.EffectivePort(), 9418);

  u = Parse("file:///srv/git/repo.git");
  EXPECT_EQ(u.scheme, "file");
  EXPECT_EQ(u.path, "/srv/git/repo.git");
  EXPECT_EQ(u.host, "");

  u = Parse("ssh://[::1]:22/repo.git");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.Redacted(), "ssh://[::1]:22/repo.git");
}

TEST(GitUrlTest, RedactsCredentials) {
  GitUrl u = Parse("https://user:s3cret@example.com/org/repo.git");
  EXPECT_EQ(u.user, "user");
  EXPECT_EQ(u.password, "s3cret");
  EXPECT_EQ(u.Redacted(), "https://example.com/org/repo.git");
  // A token in the user name is a credential too.
  EXPECT_EQ(Parse("https://ghp_token@github.com/o/r").Redacted(), "https://github.com/o/r");
  EXPECT_EQ(Parse("ssh://git:pw@host/r.git").Redacted(), "ssh://git@host/r.git");
  EXPECT_EQ(Parse("git@host:o/r.git").Redacted(), "git@host:o/r.git");
  EXPECT_EQ(Parse("http://a:b@127.0.0.1:8080/x").Redacted(), "http://127.0.0.1:8080/x");

  EXPECT_EQ(RedactUrl("https://user:s3cret@example.com/x"), "https://example.com/x");
  EXPECT_EQ(RedactUrl("weird://user:s3cret@example.com/x"), "weird://example.com/x");
  EXPECT_EQ(RedactUrl("ssh://git:pw@host/x"), "ssh://git@host/x");
  EXPECT_EQ(RedactUrl("https://example.com/a@b"), "https://example.com/a@b");
  EXPECT_EQ(RedactUrl("no url at all"), "no url at all");
}

TEST(GitUrlTest, RejectsBadUrlsWithoutLeakingSecrets) {
  for (std::string_view bad :
       {"", "/srv/repo.git", "ftp://host/repo.git", "https://host", "https://host/",
        "https:///repo.git", "https://host:0/r", "https://host:99999/r", "https://host:x/r",
        "https://host:/r", "file://relative/path", "host:", ":path", "ssh://[::1/r",
        "https://ho st/r", "https://host/r\n"}) {
    auto u = ParseGitUrl(bad);
    EXPECT_FALSE(u.ok()) << "\"" << bad << "\" parsed";
    if (!u.ok()) {
      EXPECT_EQ(u.status().code(), StatusCode::kInvalidArgument);
    }
  }
  auto u = ParseGitUrl("gopher://user:hunter2@host/repo");
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.status().message().find("hunter2"), std::string::npos) << u.status().message();
  EXPECT_NE(u.status().message().find("unsupported scheme \"gopher\""), std::string::npos)
      << u.status().message();
}

}  // namespace
}  // namespace gantry::git
