// Libgit2Source against real Git servers on 127.0.0.1: file://, git daemon, git http-backend
// behind lighttpd (basic auth, bearer token, TLS with a test CA) and sshd; plus proxies that
// stall mid-pack or never answer.
#include "operator/git/libgit2_source.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "operator/common/clock.h"
#include "tests/integration/git/git_test_support.h"

namespace gantry::git {
namespace {

using namespace std::chrono_literals;
using testing::GitServers;
using testing::TcpProxy;
using testing::TempDir;
using testing::WorkRepo;
namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) { return GitServers::ReadFile(p); }

std::string RandomText(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(size, ' ');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
  return s;
}

class Libgit2SourceTest : public ::testing::Test {
 protected:
  void SetUp() override { source_ = NewSource(); }

  std::unique_ptr<GitSource> NewSource(Libgit2SourceOptions options = {}) {
    return NewLibgit2Source(tmp_.path() / fmt::format("cache{}", ++caches_), clock_, options);
  }

  // A repository served by git_servers.sh (under its REPO_ROOT), named `name`.git.
  std::unique_ptr<WorkRepo> ServedRepo(const std::string& name) {
    auto& servers = GitServers::Get();
    return std::make_unique<WorkRepo>(servers.RepoRoot() / (name + ".git"),
                                      tmp_.path() / "work" / name);
  }

  Artifact MustFetch(const FetchRequest& request, GitSource* source = nullptr) {
    auto a = (source != nullptr ? source : source_.get())->Fetch(request);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? *a : Artifact{};
  }

  Status FetchError(const FetchRequest& request) {
    auto a = source_->Fetch(request);
    EXPECT_FALSE(a.ok()) << "fetched " << (a.ok() ? a->revision : "");
    if (!a.ok()) std::cerr << "  -> " << a.status().ToString() << "\n";
    return a.ok() ? Status::Ok() : a.status();
  }

  static std::string GitUrlFor(const std::string& name) {
    return fmt::format("git://127.0.0.1:{}/{}.git", GitServers::Get().Port("GIT_PORT"), name);
  }
  static std::string HttpUrlFor(const std::string& path) {
    return fmt::format("http://127.0.0.1:{}/{}", GitServers::Get().Port("HTTP_PORT"), path);
  }
  static std::string HttpsUrlFor(const std::string& path) {
    return fmt::format("https://127.0.0.1:{}/{}", GitServers::Get().Port("HTTPS_PORT"), path);
  }
  static FetchRequest SshRequest(const std::string& name) {
    auto& s = GitServers::Get();
    FetchRequest r;
    r.name = "default/" + name;
    r.url = fmt::format("ssh://{}@127.0.0.1:{}{}/{}.git", s.Value("SSH_USER"), s.Port("SSH_PORT"),
                        s.RepoRoot().string(), name);
    r.auth.identity = ReadFile(s.Value("SSH_CLIENT_KEY"));
    r.auth.known_hosts = ReadFile(s.Value("SSH_KNOWN_HOSTS"));
    return r;
  }

  TempDir tmp_;
  // The servers' test CA is made when the first test needs it, valid from then on for two days.
  FakeClock clock_{std::chrono::system_clock::now() + std::chrono::hours(1)};
  int caches_ = 0;
  std::unique_ptr<GitSource> source_;
};

TEST_F(Libgit2SourceTest, FileRemoteFollowsCommitsSkipsUnchangedAndFollowsForcePush) {
  WorkRepo repo(tmp_.path() / "remote/demo.git", tmp_.path() / "work/demo");
  const std::string c1 = repo.Commit({{"app/deploy.yaml", "v1"}, {"README.md", "hi"}}, "one");
  FetchRequest req{.name = "default/demo", .url = "file://" + repo.bare().string()};
  req.ref.branch = "main";

  Artifact a1 = MustFetch(req);
  EXPECT_EQ(a1.revision, "main@sha1:" + c1);
  EXPECT_EQ(a1.commit, c1);
  EXPECT_EQ(a1.ref, "refs/heads/main");
  EXPECT_TRUE(a1.stats.downloaded);
  EXPECT_GT(a1.stats.received_objects, 0u);
  EXPECT_EQ(ReadFile(a1.directory / "app/deploy.yaml"), "v1");
  EXPECT_EQ(a1.directory.filename(), c1);
  EXPECT_EQ(a1.fetched_at, clock_.Now());

  // Nothing moved: nothing is downloaded and the same directory comes back.
  req.last_commit = c1;
  Artifact a2 = MustFetch(req);
  EXPECT_EQ(a2.commit, c1);
  EXPECT_FALSE(a2.stats.downloaded);
  EXPECT_EQ(a2.stats.received_bytes, 0u);
  EXPECT_EQ(a2.stats.received_objects, 0u);
  EXPECT_EQ(a2.directory, a1.directory);

  // A new commit is seen, and only its objects travel.
  const std::string c2 = repo.Commit({{"app/deploy.yaml", "v2"}}, "two");
  Artifact a3 = MustFetch(req);
  EXPECT_EQ(a3.revision, "main@sha1:" + c2);
  EXPECT_TRUE(a3.stats.downloaded);
  EXPECT_EQ(ReadFile(a3.directory / "app/deploy.yaml"), "v2");
  EXPECT_EQ(ReadFile(a1.directory / "app/deploy.yaml"), "v1");  // the old one is untouched

  // A force-push replaces history; the new history is followed.
  req.last_commit = c2;
  const std::string c3 = repo.ForcePushNewHistory({{"other.yaml", "rewritten"}});
  Artifact a4 = MustFetch(req);
  EXPECT_EQ(a4.commit, c3);
  EXPECT_EQ(ReadFile(a4.directory / "other.yaml"), "rewritten");
  EXPECT_FALSE(fs::exists(a4.directory / "app"));
  // Two artifacts are kept by default: c1's is gone, c2's and c3's remain.
  EXPECT_FALSE(fs::exists(a1.directory));
  EXPECT_TRUE(fs::exists(a3.directory));
  EXPECT_TRUE(fs::exists(a4.directory));
}

TEST_F(Libgit2SourceTest, ExportKeepsModesAndSymlinksAndLeavesOutSubmodules) {
  WorkRepo repo(tmp_.path() / "remote/modes.git", tmp_.path() / "work/modes");
  repo.Commit({{"bin/run.sh", "#!/bin/sh\necho hi\n"}, {"deep/a/b/c/d.yaml", "kind: X\n"}},
              "files");
  fs::permissions(repo.work() / "bin/run.sh", fs::perms::owner_exec, fs::perm_options::add);
  fs::create_symlink("deep/a/b/c/d.yaml", repo.work() / "link.yaml");
  // A submodule entry (gitlink) pointing at some commit.
  repo.Git("update-index --add --cacheinfo 160000," + std::string(40, '1') + ",vendor/sub");
  const std::string head = repo.Commit({}, "modes");

  Artifact a = MustFetch({.name = "default/modes", .url = "file://" + repo.bare().string()});
  EXPECT_EQ(a.commit, head);
  struct stat st {};
  ASSERT_EQ(stat((a.directory / "bin/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(stat((a.directory / "deep/a/b/c/d.yaml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_TRUE(fs::is_symlink(a.directory / "link.yaml"));
  EXPECT_EQ(fs::read_symlink(a.directory / "link.yaml"), "deep/a/b/c/d.yaml");
  EXPECT_FALSE(fs::exists(a.directory / "vendor/sub"));
  EXPECT_FALSE(fs::exists(a.directory / ".git"));
}

// Git itself never writes such trees, but a hostile server can serve them: an entry named
// ".." or ".git" must not be written outside of, or as metadata into, the artifact.
TEST_F(Libgit2SourceTest, RefusesTreesWithUnsafeNames) {
  WorkRepo repo(tmp_.path() / "remote/evil.git", tmp_.path() / "work/evil");
  repo.Commit({{"ok.yaml", "ok"}}, "fine so far");
  std::string blob = repo.Git("hash-object -w ok.yaml");
  blob.pop_back();  // newline
  std::string raw_blob_id;
  for (size_t i = 0; i < blob.size(); i += 2) {
    raw_blob_id += static_cast<char>(std::stoi(blob.substr(i, 2), nullptr, 16));
  }
  for (const std::string name : {"..", ".git", ".GIT"}) {
    SCOPED_TRACE(name);
    const fs::path tree_file = tmp_.path() / "tree.bin";
    std::ofstream(tree_file, std::ios::binary)
        << "100644 " << name << std::string(1, '\0') << raw_blob_id;
    std::string tree = repo.Git("hash-object -t tree -w --literally " + tree_file.string());
    tree.pop_back();
    std::string commit = repo.Git("commit-tree " + tree + " -m evil");
    commit.pop_back();
    repo.Git("push -q --force origin " + commit + ":refs/heads/main");

    const fs::path cache = tmp_.path() / ("evil-cache" + std::to_string(name.size()) + name);
    auto source = NewLibgit2Source(cache, clock_);
    FetchRequest req{.name = "default/evil", .url = "file://" + repo.bare().string()};
    auto a = source->Fetch(req);
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << a.status().ToString();
    EXPECT_NE(a.status().message().find("unsafe entry \"" + name + "\""), std::string::npos)
        << a.status().message();
    EXPECT_NE(a.status().message().find(commit), std::string::npos) << a.status().message();
    // No artifact, nothing half-written, and no stray file anywhere in the cache.
    for (const auto& entry : fs::recursive_directory_iterator(cache)) {
      const std::string leaf = entry.path().filename().string();
      if (leaf == "artifacts" || leaf == "tmp") {
        EXPECT_TRUE(fs::is_empty(entry.path())) << entry.path();
      }
      EXPECT_NE(leaf, "ok.yaml") << entry.path();
    }
  }
}

TEST_F(Libgit2SourceTest, DiskBoundsHold) {
  WorkRepo repo(tmp_.path() / "remote/bounds.git", tmp_.path() / "work/bounds");
  repo.Commit({{"small.yaml", "small"}, {"big.bin", RandomText(50'000, 3)}}, "big");

  // A tree over max_artifact_bytes is refused and leaves nothing behind.
  auto strict = NewSource({.max_artifact_bytes = 10'000});
  auto a = strict->Fetch({.name = "default/bounds", .url = "file://" + repo.bare().string()});
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument) << a.status().ToString();
  EXPECT_NE(a.status().message().find("big.bin"), std::string::npos) << a.status().message();

  // A clone over max_clone_bytes is dropped after the fetch; the artifact stays, an unchanged
  // poll still downloads nothing, and the next change is fetched in full into a new clone.
  auto tight = NewSource({.max_clone_bytes = 1});
  FetchRequest req{.name = "default/bounds", .url = "file://" + repo.bare().string()};
  Artifact first = MustFetch(req, tight.get());
  const fs::path clone = first.directory.parent_path().parent_path() / "repo.git";
  EXPECT_FALSE(fs::exists(clone));
  EXPECT_EQ(ReadFile(first.directory / "small.yaml"), "small");
  req.last_commit = first.commit;
  EXPECT_FALSE(MustFetch(req, tight.get()).stats.downloaded);
  repo.Commit({{"small.yaml", "changed"}}, "change");
  Artifact next = MustFetch(req, tight.get());
  EXPECT_EQ(next.stats.received_objects, first.stats.received_objects + 3);
  EXPECT_EQ(ReadFile(next.directory / "small.yaml"), "changed");
}

TEST_F(Libgit2SourceTest, GitDaemonResolvesEveryRefKind) {
  auto repo = ServedRepo("refs");
  const std::string c1 = repo->Commit({{"v.txt", "1.0.0"}}, "c1");
  repo->Tag("v1.0.0", /*annotated=*/false);
  const std::string c2 = repo->Commit({{"v.txt", "1.1.0"}}, "c2");
  repo->Tag("v1.1.0", /*annotated=*/true);
  repo->Checkout("dev", /*create=*/true);
  repo->Commit({}, "dev tip");
  const std::string dev = repo->Head();
  repo->Checkout("main", /*create=*/false);
  const std::string c3 = repo->Commit({{"v.txt", "2.0.0-rc.1"}}, "c3");
  repo->Tag("v2.0.0-rc.1", /*annotated=*/true);

  FetchRequest base{.name = "default/refs", .url = GitUrlFor("refs")};
  auto with = [&](GitRef ref) {
    FetchRequest r = base;
    r.ref = ref;
    return MustFetch(r);
  };
  EXPECT_EQ(with({}).revision, "main@sha1:" + c3);  // the remote HEAD
  EXPECT_EQ(with({.branch = "dev"}).revision, "dev@sha1:" + dev);
  EXPECT_EQ(with({.tag = "v1.0.0"}).revision, "v1.0.0@sha1:" + c1);
  Artifact annotated = with({.tag = "v1.1.0"});
  EXPECT_EQ(annotated.revision, "v1.1.0@sha1:" + c2);  // peeled to the commit
  EXPECT_EQ(ReadFile(annotated.directory / "v.txt"), "1.1.0");
  EXPECT_EQ(with({.semver = "^1.0"}).revision, "v1.1.0@sha1:" + c2);
  EXPECT_EQ(with({.semver = "~1.0.0"}).revision, "v1.0.0@sha1:" + c1);
  EXPECT_EQ(with({.semver = ">=2.0.0-0"}).revision, "v2.0.0-rc.1@sha1:" + c3);
  EXPECT_EQ(with({.semver = "*"}).revision, "v1.1.0@sha1:" + c2);  // no prereleases
  // Precedence: commit > semver > tag > branch.
  EXPECT_EQ(with({.branch = "dev", .tag = "v1.0.0", .semver = "^1.0"}).commit, c2);
  EXPECT_EQ(with({.branch = "dev", .tag = "v1.0.0"}).commit, c1);
  EXPECT_EQ(with({.branch = "main", .commit = c1}).revision, "main@sha1:" + c1);

  // A bare commit, into a fresh cache: every branch and tag is fetched to find it.
  auto fresh = NewSource();
  FetchRequest pinned = base;
  pinned.ref.commit = c2;
  Artifact p = MustFetch(pinned, fresh.get());
  EXPECT_EQ(p.revision, "sha1:" + c2);
  EXPECT_TRUE(p.stats.downloaded);
  // Already there: not even a connection is needed.
  Artifact again = MustFetch(pinned, fresh.get());
  EXPECT_FALSE(again.stats.downloaded);
  EXPECT_EQ(again.stats.network_bytes_read, 0u);

  struct Case {
    GitRef ref;
    std::string fragment;
  };
  for (const Case& c : std::vector<Case>{
           {{.branch = "nope"}, "branch \"nope\" not found"},
           {{.tag = "v9.9.9"}, "tag \"v9.9.9\" not found"},
           {{.semver = ">=3"}, "matches semver range \">=3\""},
           {{.commit = std::string(40, 'f')}, "commit ffff"},
       }) {
    FetchRequest r = base;
    r.ref = c.ref;
    Status s = FetchError(r);
    EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
    EXPECT_NE(s.message().find(c.fragment), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("GitRepository default/refs"), std::string::npos) << s.message();
  }
  Status bad = FetchError([&] {
    FetchRequest r = base;
    r.ref.semver = ">>1";
    return r;
  }());
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
}

TEST_F(Libgit2SourceTest, UnchangedRemoteDownloadsNothingOverTheNetwork) {
  auto repo = ServedRepo("poll");
  std::map<std::string, std::string> files;
  for (int i = 0; i < 20; ++i) files[fmt::format("m/{}.yaml", i)] = RandomText(2000, i);
  const std::string c1 = repo->Commit(files, "many files");

  for (const std::string& url : {GitUrlFor("poll"), HttpUrlFor("public/poll.git")}) {
    SCOPED_TRACE(url);
    auto source = NewSource();
    FetchRequest req{.name = "default/poll", .url = url};
    Artifact first = MustFetch(req, source.get());
    EXPECT_TRUE(first.stats.downloaded);
    EXPECT_GE(first.stats.received_objects, 22u);  // commit, 2 trees, 20 blobs
    EXPECT_GT(first.stats.network_bytes_read, 20'000u);

    req.last_commit = c1;
    Artifact second = MustFetch(req, source.get());
    EXPECT_FALSE(second.stats.downloaded);
    EXPECT_EQ(second.stats.received_bytes, 0u);
    EXPECT_EQ(second.stats.received_objects, 0u);
    // Only the ref advertisement crossed the wire.
    EXPECT_GT(second.stats.network_bytes_read, 0u);
    EXPECT_LT(second.stats.network_bytes_read, 2'000u);
    std::cerr << "  " << url << ": first fetch read " << first.stats.network_bytes_read
              << " bytes (pack " << first.stats.received_bytes << "), unchanged poll read "
              << second.stats.network_bytes_read << " bytes (pack " << second.stats.received_bytes
              << ") in " << second.stats.duration.count() << " ms\n";
  }

  // After a one-file change only the new objects travel.
  auto source = NewSource();
  FetchRequest req{.name = "default/poll", .url = GitUrlFor("poll")};
  Artifact first = MustFetch(req, source.get());
  repo->Commit({{"m/0.yaml", "changed"}}, "one change");
  req.last_commit = first.commit;
  Artifact next = MustFetch(req, source.get());
  EXPECT_TRUE(next.stats.downloaded);
  EXPECT_LE(next.stats.received_objects, 4u);  // commit, 2 trees, 1 blob
  EXPECT_LT(next.stats.network_bytes_read, first.stats.network_bytes_read / 4);
}

TEST_F(Libgit2SourceTest, HttpBasicAuth) {
  auto repo = ServedRepo("basic");
  const std::string head = repo->Commit({{"a.yaml", "a"}}, "basic");
  auto& s = GitServers::Get();
  FetchRequest req{.name = "default/basic", .url = HttpUrlFor("basic/basic.git")};
  req.auth.username = s.Value("BASIC_USER");
  req.auth.password = s.Value("BASIC_PASS");
  EXPECT_EQ(MustFetch(req).commit, head);

  FetchRequest none = req;
  none.auth = {};
  Status st = FetchError(none);
  EXPECT_EQ(st.code(), StatusCode::kUnauthorized) << st.ToString();
  EXPECT_NE(st.message().find("none were given"), std::string::npos) << st.message();

  FetchRequest wrong = req;
  wrong.auth.password = "wrong-password-1234";
  st = FetchError(wrong);
  EXPECT_EQ(st.code(), StatusCode::kUnauthorized) << st.ToString();
  EXPECT_NE(st.message().find(req.url), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("wrong-password-1234"), std::string::npos) << st.message();

  // Credentials in the URL work and never show up in messages.
  FetchRequest in_url = none;
  in_url.url = fmt::format("http://{}:{}@127.0.0.1:{}/basic/basic.git", s.Value("BASIC_USER"),
                           s.Value("BASIC_PASS"), s.Port("HTTP_PORT"));
  EXPECT_EQ(MustFetch(in_url).commit, head);
  in_url.url = fmt::format("http://{}:url-secret-5678@127.0.0.1:{}/basic/basic.git",
                           s.Value("BASIC_USER"), s.Port("HTTP_PORT"));
  st = FetchError(in_url);
  EXPECT_EQ(st.code(), StatusCode::kUnauthorized) << st.ToString();
  EXPECT_EQ(st.message().find("url-secret-5678"), std::string::npos) << st.message();
}

TEST_F(Libgit2SourceTest, HttpBearerToken) {
  auto repo = ServedRepo("bearer");
  const std::string head = repo->Commit({{"a.yaml", "a"}}, "bearer");
  FetchRequest req{.name = "default/bearer", .url = HttpUrlFor("bearer/bearer.git")};
  req.auth.bearer_token = GitServers::Get().Value("BEARER_TOKEN");
  EXPECT_EQ(MustFetch(req).commit, head);

  req.auth.bearer_token = "not-the-token-4242";
  Status st = FetchError(req);
  EXPECT_EQ(st.code(), StatusCode::kUnauthorized) << st.ToString();
  EXPECT_EQ(st.message().find("not-the-token-4242"), std::string::npos) << st.message();

  req.auth.bearer_token.clear();
  EXPECT_EQ(FetchError(req).code(), StatusCode::kUnauthorized);
}

TEST_F(Libgit2SourceTest, HttpsWithCustomCa) {
  auto repo = ServedRepo("tls");
  const std::string head = repo->Commit({{"a.yaml", "a"}}, "tls");
  auto& s = GitServers::Get();
  FetchRequest req{.name = "default/tls", .url = HttpsUrlFor("public/tls.git")};
  req.auth.ca_pem = ReadFile(s.Value("CA_CRT"));
  EXPECT_EQ(MustFetch(req).commit, head);

  // With basic auth on top.
  FetchRequest basic = req;
  basic.url = HttpsUrlFor("basic/tls.git");
  basic.auth.username = s.Value("BASIC_USER");
  basic.auth.password = s.Value("BASIC_PASS");
  EXPECT_EQ(MustFetch(basic).commit, head);

  FetchRequest no_ca = req;
  no_ca.auth.ca_pem.clear();
  Status st = FetchError(no_ca);
  EXPECT_EQ(st.code(), StatusCode::kForbidden) << st.ToString();
  EXPECT_NE(st.message().find("not trusted"), std::string::npos) << st.message();

  FetchRequest other_ca = req;
  other_ca.auth.ca_pem = ReadFile(s.Value("OTHER_CA_CRT"));
  st = FetchError(other_ca);
  EXPECT_EQ(st.code(), StatusCode::kForbidden) << st.ToString();
  EXPECT_NE(st.message().find("Gantry Test CA"), std::string::npos) << st.message();
}

TEST_F(Libgit2SourceTest, SshWithKeyAndKnownHosts) {
  auto repo = ServedRepo("ssh");
  const std::string head = repo->Commit({{"a.yaml", "over ssh"}}, "ssh");
  auto& s = GitServers::Get();
  FetchRequest req = SshRequest("ssh");
  Artifact a = MustFetch(req);
  EXPECT_EQ(a.revision, "main@sha1:" + head);
  EXPECT_EQ(ReadFile(a.directory / "a.yaml"), "over ssh");
  req.last_commit = head;
  EXPECT_FALSE(MustFetch(req).stats.downloaded);

  // A known_hosts that lists another key for the server: refused, naming the fingerprint.
  FetchRequest wrong_host = req;
  wrong_host.auth.known_hosts = ReadFile(s.Value("SSH_WRONG_KNOWN_HOSTS"));
  Status st = FetchError(wrong_host);
  EXPECT_EQ(st.code(), StatusCode::kForbidden) << st.ToString();
  EXPECT_NE(st.message().find("does not match known_hosts"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("SHA256:"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(fmt::format("[127.0.0.1]:{}", s.Port("SSH_PORT"))), std::string::npos)
      << st.message();

  // A known_hosts for some other host only: the server is unknown.
  FetchRequest unknown_host = req;
  unknown_host.auth.known_hosts =
      "other.example ssh-ed25519 " + ReadFile(s.Value("SSH_CLIENT_KEY") + ".pub").substr(12, 68);
  st = FetchError(unknown_host);
  EXPECT_EQ(st.code(), StatusCode::kForbidden) << st.ToString();
  EXPECT_NE(st.message().find("is unknown"), std::string::npos) << st.message();

  // A key the server does not know.
  FetchRequest stranger = req;
  stranger.auth.identity = ReadFile(s.Value("SSH_STRANGER_KEY"));
  st = FetchError(stranger);
  EXPECT_EQ(st.code(), StatusCode::kUnauthorized) << st.ToString();

  FetchRequest no_known_hosts = req;
  no_known_hosts.auth.known_hosts.clear();
  EXPECT_EQ(FetchError(no_known_hosts).code(), StatusCode::kInvalidArgument);
}

TEST_F(Libgit2SourceTest, MissingRepositoriesAreNotFound) {
  auto& s = GitServers::Get();
  std::vector<FetchRequest> requests = {
      {.name = "default/x", .url = "file://" + (tmp_.path() / "nothing.git").string()},
      {.name = "default/x", .url = GitUrlFor("missing")},
      {.name = "default/x", .url = HttpUrlFor("public/missing.git")},
      SshRequest("missing"),
  };
  requests.push_back({.name = "default/x", .url = HttpUrlFor("basic/missing.git")});
  requests.back().auth.username = s.Value("BASIC_USER");
  requests.back().auth.password = s.Value("BASIC_PASS");
  for (const auto& req : requests) {
    SCOPED_TRACE(req.url);
    Status st = FetchError(req);
    EXPECT_EQ(st.code(), StatusCode::kNotFound) << st.ToString();
  }
}

TEST_F(Libgit2SourceTest, ServerStallingMidPackTimesOut) {
  auto repo = ServedRepo("stall");
  repo->Commit({{"big.txt", RandomText(300'000, 7)}}, "big");
  TcpProxy proxy(GitServers::Get().Port("GIT_PORT"), TcpProxy::Mode::kStallAfterPack);
  FetchRequest req{.name = "default/stall",
                   .url = fmt::format("git://127.0.0.1:{}/stall.git", proxy.port()),
                   .timeout = 1500ms};
  const auto start = std::chrono::steady_clock::now();
  Status st = FetchError(req);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st.code(), StatusCode::kTimeout) << st.ToString();
  EXPECT_NE(st.message().find("1.5s"), std::string::npos) << st.message();
  EXPECT_GE(elapsed, 1400ms);
  EXPECT_LT(elapsed, 5s);
}

TEST_F(Libgit2SourceTest, SilentServersTimeOutOnEveryTransport) {
  auto& s = GitServers::Get();
  TcpProxy silent(0, TcpProxy::Mode::kSilent);
  FetchRequest ssh = SshRequest("silent");
  ssh.url = fmt::format("ssh://{}@127.0.0.1:{}/srv/silent.git", s.Value("SSH_USER"), silent.port());
  std::vector<FetchRequest> requests = {
      {.name = "default/silent", .url = fmt::format("git://127.0.0.1:{}/x.git", silent.port())},
      {.name = "default/silent", .url = fmt::format("http://127.0.0.1:{}/x.git", silent.port())},
      {.name = "default/silent", .url = fmt::format("https://127.0.0.1:{}/x.git", silent.port())},
      ssh,  // libssh2 waits on the socket itself: the watchdog has to wake it
  };
  for (auto req : requests) {
    SCOPED_TRACE(req.url);
    req.timeout = 800ms;
    const auto start = std::chrono::steady_clock::now();
    Status st = FetchError(req);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(st.code(), StatusCode::kTimeout) << st.ToString();
    EXPECT_GE(elapsed, 700ms);
    EXPECT_LT(elapsed, 4s);
  }
}

TEST_F(Libgit2SourceTest, ServerDownIsUnavailableAndThePreviousArtifactStays) {
  auto repo = ServedRepo("down");
  const std::string head = repo->Commit({{"keep.yaml", "still here"}}, "down");
  TcpProxy proxy(GitServers::Get().Port("GIT_PORT"), TcpProxy::Mode::kForward);
  FetchRequest req{.name = "default/down",
                   .url = fmt::format("git://127.0.0.1:{}/down.git", proxy.port())};
  Artifact a = MustFetch(req);
  EXPECT_EQ(a.commit, head);

  proxy.Stop();
  req.last_commit = head;
  Status st = FetchError(req);
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_TRUE(st.IsTransient());
  EXPECT_NE(st.message().find("refused"), std::string::npos) << st.message();
  EXPECT_EQ(ReadFile(a.directory / "keep.yaml"), "still here");

  st = FetchError({.name = "default/down",
                   .url = fmt::format("http://127.0.0.1:{}/x.git", testing::UnusedPort())});
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  st = FetchError({.name = "default/down", .url = "http://no-such-host.invalid/x.git"});
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
}

TEST_F(Libgit2SourceTest, CredentialsNeverReachTheDisk) {
  auto& s = GitServers::Get();
  auto repo = ServedRepo("secret");
  repo->Commit({{"a.yaml", "a"}}, "secret");
  const fs::path cache = tmp_.path() / "cache-secrets";
  auto source = NewLibgit2Source(cache, clock_);

  FetchRequest basic{.name = "default/s1", .url = HttpUrlFor("basic/secret.git")};
  basic.auth.username = s.Value("BASIC_USER");
  basic.auth.password = s.Value("BASIC_PASS");
  FetchRequest in_url{
      .name = "default/s2",
      .url = fmt::format("http://{}:{}@127.0.0.1:{}/basic/secret.git", s.Value("BASIC_USER"),
                         s.Value("BASIC_PASS"), s.Port("HTTP_PORT"))};
  FetchRequest bearer{.name = "default/s3", .url = HttpUrlFor("bearer/secret.git")};
  bearer.auth.bearer_token = s.Value("BEARER_TOKEN");
  FetchRequest ssh = SshRequest("secret");
  for (const auto& req : {basic, in_url, bearer, ssh}) MustFetch(req, source.get());

  const std::string identity = ReadFile(s.Value("SSH_CLIENT_KEY"));
  // A distinctive slice of the private key's base64 body.
  const std::string key_slice = identity.substr(identity.find('\n') + 1, 40);
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(cache)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string content = ReadFile(entry.path());
    for (const std::string& secret : {s.Value("BASIC_PASS"), s.Value("BEARER_TOKEN"), key_slice}) {
      EXPECT_EQ(content.find(secret), std::string::npos) << entry.path();
    }
    if (entry.path().filename() == "config") {
      EXPECT_EQ(content.find("url"), std::string::npos) << entry.path() << "\n" << content;
    }
  }
  EXPECT_GT(files, 10);
}

TEST_F(Libgit2SourceTest, GcDropsRepositoriesNoLongerListed) {
  WorkRepo a(tmp_.path() / "remote/a.git", tmp_.path() / "work/a");
  WorkRepo b(tmp_.path() / "remote/b.git", tmp_.path() / "work/b");
  a.Commit({{"a", "a"}}, "a");
  b.Commit({{"b", "b"}}, "b");
  FetchRequest ra{.name = "ns/a", .url = "file://" + a.bare().string()};
  FetchRequest rb{.name = "ns/b", .url = "file://" + b.bare().string()};
  Artifact aa = MustFetch(ra);
  Artifact ab = MustFetch(rb);
  ASSERT_TRUE(source_->Gc({{.name = "ns/a", .url = ra.url}}).ok());
  EXPECT_TRUE(fs::exists(aa.directory));
  EXPECT_FALSE(fs::exists(ab.directory));
  EXPECT_FALSE(fs::exists(ab.directory.parent_path().parent_path()));  // clone too
  // The dropped repository can come back.
  EXPECT_EQ(MustFetch(rb).commit, ab.commit);
  ASSERT_TRUE(source_->Gc({}).ok());
  EXPECT_FALSE(fs::exists(aa.directory));
}

TEST_F(Libgit2SourceTest, ConcurrentFetchesOfOneRepositoryAgree) {
  auto repo = ServedRepo("busy");
  const std::string head = repo->Commit({{"a.yaml", "a"}}, "busy");
  FetchRequest req{.name = "default/busy", .url = GitUrlFor("busy")};
  std::vector<Result<Artifact>> results(6, Status(StatusCode::kInternal, "not run"));
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&] { r = source_->Fetch(req); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->commit, head);
    EXPECT_EQ(ReadFile(r->directory / "a.yaml"), "a");
  }
}

// Every socket a fetch opens is closed again, whether the fetch succeeded, was refused or
// timed out (a stream libgit2 never freed would keep its descriptor).
TEST_F(Libgit2SourceTest, ClosesEverySocket) {
  auto& s = GitServers::Get();
  auto repo = ServedRepo("sockets");
  repo->Commit({{"a.yaml", "a"}}, "sockets");
  FetchRequest https{.name = "default/sockets", .url = HttpsUrlFor("public/sockets.git")};
  https.auth.ca_pem = ReadFile(s.Value("CA_CRT"));
  FetchRequest bad_ca = https;
  bad_ca.auth.ca_pem = ReadFile(s.Value("OTHER_CA_CRT"));
  // (lighttpd answers a wrong basic-auth password only after a second; a refused bearer
  // token exercises the same 401 path without the wait.)
  FetchRequest bearer_wrong{.name = "default/sockets", .url = HttpUrlFor("bearer/sockets.git")};
  bearer_wrong.auth.bearer_token = "wrong";
  FetchRequest ssh = SshRequest("sockets");
  FetchRequest ssh_wrong_host = ssh;
  ssh_wrong_host.auth.known_hosts = ReadFile(s.Value("SSH_WRONG_KNOWN_HOSTS"));
  TcpProxy silent(0, TcpProxy::Mode::kSilent);
  FetchRequest timeout{.name = "default/sockets",
                       .url = fmt::format("http://127.0.0.1:{}/x.git", silent.port()),
                       .timeout = 300ms};
  const std::vector<FetchRequest> requests = {
      {.name = "default/sockets", .url = GitUrlFor("sockets")},
      {.name = "default/sockets", .url = HttpUrlFor("public/sockets.git")},
      timeout,
      https,
      bad_ca,
      bearer_wrong,
      ssh,
      ssh_wrong_host};
  // One round first: lazily opened files (logs, libraries) are not what is measured.
  for (const auto& req : requests) (void)source_->Fetch(req);
  const int before = testing::OpenDescriptors();
  for (int round = 0; round < 2; ++round) {
    for (const auto& req : requests) (void)source_->Fetch(req);
  }
  // The silent proxy lives in this process and closes its end of a connection up to 50 ms
  // after the client did; a leak never settles.
  const auto settle = std::chrono::steady_clock::now() + 2s;
  while (testing::OpenDescriptors() != before && std::chrono::steady_clock::now() < settle) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(testing::OpenDescriptors(), before);
}

TEST_F(Libgit2SourceTest, RefusesCredentialsThatDoNotFitTheUrl) {
  FetchRequest req{.name = "default/x", .url = "ssh://git@127.0.0.1:1/x.git"};
  req.auth.bearer_token = "t";
  EXPECT_EQ(FetchError(req).code(), StatusCode::kInvalidArgument);
  req = {.name = "default/x", .url = "https://127.0.0.1:1/x.git"};
  req.auth.identity = "key";
  EXPECT_EQ(FetchError(req).code(), StatusCode::kInvalidArgument);
  req = {.name = "default/x", .url = "https://127.0.0.1:1/x.git"};
  req.auth.bearer_token = "t";
  req.auth.password = "p";
  EXPECT_EQ(FetchError(req).code(), StatusCode::kInvalidArgument);
  req = {.name = "default/x", .url = "ftp://127.0.0.1/x.git"};
  Status st = FetchError(req);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("GitRepository default/x"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace gantry::git
