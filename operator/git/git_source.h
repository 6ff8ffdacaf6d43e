// GitSource: fetches one commit of a Git repository and lays its tree out on disk.
//
// The GitRepository reconciler calls Fetch on every poll (spec.interval) and webhook; the
// Application reconciler then reads the manifests from Artifact::directory. A fetch first
// lists the remote's refs and compares the wanted ref with the commit the caller already has
// (FetchRequest::last_commit): when the remote did not move, nothing is downloaded. Otherwise
// only the wanted ref is fetched into a clone that is kept and reused across polls (libgit2
// 1.5 cannot make shallow clones, so keeping the clone is what makes later fetches small).
//
// Why a directory and not a tree API: the manifest loader walks files recursively with
// symlink and size checks, and an exported directory is the simplest contract between the
// two. Each commit is exported once into its own directory, written under a temporary name
// and renamed into place, so a reader never sees a half-written tree; a directory stays
// until SourceOptions::artifacts_to_keep newer commits of the same repository have been
// exported, or until Gc drops the repository.
//
// Credentials travel only in memory (libgit2 callbacks and headers): never in the clone's
// config, on disk, in logs or in error messages. Every message shows the URL without its
// user-info.
//
// Implementations are thread-safe: fetches of different repositories run in parallel,
// fetches of the same repository (same name and URL) one after the other.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "operator/common/clock.h"
#include "operator/common/status.h"

namespace gantry::git {

// What to check out; spec.ref of a GitRepository. Precedence: commit > semver > tag > branch.
// All empty: the remote's HEAD (its default branch).
struct GitRef {
  std::string branch;  // "main"
  std::string tag;     // "v1.2.3"
  std::string semver;  // a range over the tags, e.g. ">=1.0.0 <2.0.0" (see semver.h)
  std::string commit;  // full 40-hex SHA-1; with `branch`, fetched through that branch
};

// Credentials from the GitRepository's secretRef. Only the fields that fit the URL's scheme
// are used; an identity on an https URL is an InvalidArgument, not silently ignored.
struct GitAuth {
  std::string username;      // http(s) basic auth; for ssh the login name (default "git")
  std::string password;      // http(s) basic auth; for ssh the identity's passphrase
  std::string bearer_token;  // http(s): "Authorization: Bearer <token>"
  std::string identity;      // ssh private key, PEM or OpenSSH format
  std::string known_hosts;   // ssh: required; OpenSSH known_hosts lines for the server
  std::string ca_pem;        // https: extra trusted CA certificate(s), PEM
};

struct FetchRequest {
  std::string name;  // "namespace/name" of the GitRepository: with `url`, picks the clone
  std::string url;
  GitRef ref;
  GitAuth auth;
  std::chrono::milliseconds timeout{60'000};  // the whole fetch, connect included
  // The commit of the caller's current artifact ("" if none). Fetch never downloads a commit
  // it already holds, as an artifact or in the clone, so when the remote ref still points
  // here nothing is downloaded; logs say "unchanged" against this commit.
  std::string last_commit;
};

// What a fetch moved over the network; lets tests and benchmarks prove "no download".
struct FetchStats {
  bool downloaded = false;        // a fetch (pack negotiation) ran
  uint64_t received_bytes = 0;    // pack bytes libgit2 received
  uint64_t received_objects = 0;  // objects in the received pack
  // Bytes read from and written to sockets (http, https, git://; not ssh, whose socket
  // libssh2 drives), ref listing included. 0 for file://.
  uint64_t network_bytes_read = 0;
  uint64_t network_bytes_written = 0;
  std::chrono::milliseconds duration{0};
};

struct Artifact {
  // Flux-style revision: "main@sha1:<sha>", "v1.2.3@sha1:<sha>" (tag or semver), or
  // "sha1:<sha>" for a commit without a branch.
  std::string revision;
  std::string commit;  // 40-hex SHA-1
  std::string ref;     // the ref followed: "refs/heads/main", "refs/tags/v1.2.3", or ""
  // The commit's tree exported to disk: regular files (mode 0644 or 0755), directories and
  // symlinks as committed; submodules are left out. Read-only by contract.
  std::filesystem::path directory;
  Clock::TimePoint fetched_at;
  FetchStats stats;
};

// Identifies a repository's clone for Gc.
struct RepositoryKey {
  std::string name;  // "namespace/name"
  std::string url;
};

class GitSource {
 public:
  virtual ~GitSource() = default;

  // Resolves request.ref on the remote and returns the commit's exported tree. Errors:
  //   InvalidArgument  bad URL, ref, semver range or credentials that do not fit the URL
  //   Unauthorized     the server rejected the credentials, or wants some and none were given
  //   Forbidden        TLS certificate or SSH host key not trusted; HTTP 403
  //   NotFound         repository, branch, tag or commit missing; no tag matches the range
  //   Timeout          the fetch did not finish within request.timeout
  //   Unavailable      the server cannot be reached (refused, reset, name lookup failed)
  //   Internal         anything else (disk full, corrupt clone; the clone is rebuilt next time)
  // A failed fetch leaves earlier artifact directories untouched.
  virtual Result<Artifact> Fetch(const FetchRequest& request) = 0;

  // Deletes the clones and artifacts of every repository not listed in `keep`, e.g. those of
  // deleted GitRepositories. Waits for a running fetch of a repository it deletes.
  virtual Status Gc(const std::vector<RepositoryKey>& keep) = 0;
};

}  // namespace gantry::git
