#include "operator/git/ref_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace gantry::git {
namespace {

const std::string kA(40, 'a');
const std::string kB(40, 'b');
const std::string kC(40, 'c');
const std::string kD(40, 'd');
const std::string kE(40, 'e');
constexpr std::string_view kUrl = "https://git.example/repo.git";

// A remote with main at A, dev at B, a lightweight tag v1.0.0 at A, an annotated tag v1.1.0
// (tag object D) on commit C, and a prerelease tag v2.0.0-rc.1 (tag object E) on B.
std::vector<RemoteRef> Remote() {
  return {
      {"HEAD", kA, "refs/heads/main"},     {"refs/heads/dev", kB, ""},
      {"refs/heads/main", kA, ""},         {"refs/tags/v1.0.0", kA, ""},
      {"refs/tags/v1.1.0", kD, ""},        {"refs/tags/v1.1.0^{}", kC, ""},
      {"refs/tags/v2.0.0-rc.1", kE, ""},   {"refs/tags/v2.0.0-rc.1^{}", kB, ""},
      {"refs/tags/not-a-version", kB, ""},
  };
}

ResolvedRef Resolve(const GitRef& ref, const std::vector<RemoteRef>& remote = Remote()) {
  auto r = ResolveRef(ref, remote, kUrl);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ResolvedRef{};
}

TEST(RefResolverTest, Branch) {
  ResolvedRef r = Resolve({.branch = "dev"});
  EXPECT_EQ(r.ref, "refs/heads/dev");
  EXPECT_EQ(r.commit, kB);
  EXPECT_EQ(r.revision_name, "dev");
  EXPECT_EQ(r.local_ref, "refs/remotes/origin/dev");
  EXPECT_EQ(r.refspecs, (std::vector<std::string>{"+refs/heads/dev:refs/remotes/origin/dev"}));
  EXPECT_EQ(FormatRevision(r.revision_name, r.commit), "dev@sha1:" + kB);
}

TEST(RefResolverTest, TagsPeelToTheirCommit) {
  ResolvedRef r = Resolve({.tag = "v1.1.0"});
  EXPECT_EQ(r.ref, "refs/tags/v1.1.0");
  EXPECT_EQ(r.commit, kC);  // the commit, not the tag object
  EXPECT_EQ(r.refspecs, (std::vector<std::string>{"+refs/tags/v1.1.0:refs/tags/v1.1.0"}));
  EXPECT_EQ(FormatRevision(r.revision_name, r.commit), "v1.1.0@sha1:" + kC);
  EXPECT_EQ(Resolve({.tag = "v1.0.0"}).commit, kA);  // lightweight tag
}

TEST(RefResolverTest, SemverPicksHighestTag) {
  ResolvedRef r = Resolve({.semver = "^1.0"});
  EXPECT_EQ(r.ref, "refs/tags/v1.1.0");
  EXPECT_EQ(r.commit, kC);
  EXPECT_EQ(r.revision_name, "v1.1.0");
  EXPECT_EQ(Resolve({.semver = ">=2.0.0-0"}).commit, kB);
  EXPECT_EQ(Resolve({.semver = "<1.1"}).revision_name, "v1.0.0");
}

TEST(RefResolverTest, PrecedenceIsCommitSemverTagBranch) {
  EXPECT_EQ(Resolve({.branch = "main", .tag = "v1.0.0", .semver = "^1.0"}).revision_name, "v1.1.0");
  EXPECT_EQ(Resolve({.branch = "dev", .tag = "v1.0.0"}).revision_name, "v1.0.0");
  ResolvedRef r = Resolve({.branch = "main", .tag = "v1.0.0", .semver = "^1.0", .commit = kE});
  EXPECT_EQ(r.commit, kE);
  EXPECT_EQ(r.revision_name, "main");
  EXPECT_EQ(r.local_ref, "");  // pinned: no local ref to read back
  EXPECT_EQ(r.refspecs, (std::vector<std::string>{"+refs/heads/main:refs/remotes/origin/main"}));
}

TEST(RefResolverTest, BareCommitFetchesEverything) {
  std::string upper = kC;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  ResolvedRef r = Resolve({.commit = upper});
  EXPECT_EQ(r.commit, kC);
  EXPECT_EQ(r.ref, "");
  EXPECT_EQ(FormatRevision(r.revision_name, r.commit), "sha1:" + kC);
  EXPECT_EQ(r.refspecs, (std::vector<std::string>{"+refs/heads/*:refs/remotes/origin/*",
                                                  "+refs/tags/*:refs/tags/*"}));
}

TEST(RefResolverTest, HeadFollowsTheDefaultBranch) {
  ResolvedRef r = Resolve({});
  EXPECT_EQ(r.ref, "refs/heads/main");
  EXPECT_EQ(r.commit, kA);
  EXPECT_EQ(r.revision_name, "main");

  // Without the symref, a branch at HEAD's commit stands in, "main"/"master" first.
  std::vector<RemoteRef> remote = {{"HEAD", kB, ""},
                                   {"refs/heads/aaa", kB, ""},
                                   {"refs/heads/master", kB, ""},
                                   {"refs/heads/zzz", kA, ""}};
  EXPECT_EQ(Resolve({}, remote).revision_name, "master");
  remote = {{"HEAD", kB, ""}, {"refs/heads/zzz", kB, ""}, {"refs/heads/aaa", kB, ""}};
  EXPECT_EQ(Resolve({}, remote).revision_name, "aaa");
  // A detached HEAD.
  r = Resolve({}, {{"HEAD", kC, ""}, {"refs/heads/main", kA, ""}});
  EXPECT_EQ(r.revision_name, "HEAD");
  EXPECT_EQ(r.commit, kC);
  EXPECT_EQ(r.refspecs, (std::vector<std::string>{"+HEAD:refs/remotes/origin/HEAD"}));
}

TEST(RefResolverTest, MissingRefsAreNotFoundAndNameTheUrl) {
  struct Case {
    GitRef ref;
    std::vector<RemoteRef> remote;
    std::string fragment;
  };
  for (const Case& c : std::vector<Case>{
           {{.branch = "nope"}, Remote(), "branch \"nope\" not found"},
           {{.tag = "v9"}, Remote(), "tag \"v9\" not found"},
           {{.semver = ">=5.0.0"}, Remote(), "matches semver range \">=5.0.0\" (4 tag(s) seen)"},
           {{}, {}, "has no HEAD"},
           {{.branch = "gone", .commit = kA}, Remote(), "branch \"gone\""},
       }) {
    auto r = ResolveRef(c.ref, c.remote, kUrl);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find(kUrl), std::string::npos) << r.status().message();
  }
}

TEST(RefResolverTest, ValidatesRefs) {
  EXPECT_TRUE(ValidateRef({.branch = "feature/x-1", .tag = "v1.2.3"}).ok());
  for (const GitRef& bad : std::vector<GitRef>{
           {.commit = "abc123"},
           {.commit = std::string(40, 'g')},
           {.semver = ">>1"},
           {.branch = "a:refs/heads/evil"},
           {.branch = "a b"},
           {.branch = "-x"},
           {.branch = "a..b"},
           {.branch = "a/.hidden"},
           {.branch = "x.lock"},
           {.branch = "a//b"},
           {.branch = "a/"},
           {.branch = "@"},
           {.branch = "a@{1}"},
           {.tag = "v1*"},
           {.tag = "v1\n"},
           {.tag = "v1."},
       }) {
    Status s = ValidateRef(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument)
        << bad.branch << bad.tag << bad.semver << bad.commit;
  }
  Status s = ValidateRef({.branch = "a:b"});
  EXPECT_NE(s.message().find("ref.branch \"a:b\""), std::string::npos) << s.message();
}

}  // namespace
}  // namespace gantry::git
