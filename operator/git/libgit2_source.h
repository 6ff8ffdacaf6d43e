// Libgit2Source: the GitSource built on libgit2 1.5 (see git_source.h for the contract).
//
// Transports: https and http (basic auth through libgit2's credential callback, bearer tokens
// as an Authorization header, extra CAs checked in the certificate callback), ssh (libssh2,
// in-memory private key, host key checked against the request's known_hosts only), git://
// and file://. Deadlines: see deadline_socket.h.
//
// Process-wide effects, on the first Fetch or Gc: git_libgit2_init, the deadline socket stream
// registered with libgit2, libgit2's config search paths emptied so that no user or system
// gitconfig (url rewrites, proxies) changes what Gantry fetches, and HOME set to "/" if it is
// unset (libgit2 1.5.1 refuses SSH without a home directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "operator/common/clock.h"
#include "operator/git/git_source.h"

namespace gantry::git {

struct Libgit2SourceOptions {
  // Exported commits kept per repository (the newest, plus the one just returned).
  size_t artifacts_to_keep = 2;
  // A commit whose files add up to more than this is refused (InvalidArgument) rather than
  // filling the disk.
  uint64_t max_artifact_bytes = 512ull << 20;
  // When a download leaves a clone larger than this (history keeps growing, force-pushed
  // commits are never collected), the clone is deleted and the next fetch starts afresh.
  uint64_t max_clone_bytes = 1ull << 30;
};

// `cache_dir` is created on first use; it should be private to this process. `clock` stamps
// Artifact::fetched_at and is the time TLS certificates are checked against; it must outlive
// the source. Network deadlines use the steady clock, since they bound real socket waits.
std::unique_ptr<GitSource> NewLibgit2Source(std::filesystem::path cache_dir, Clock& clock,
                                            Libgit2SourceOptions options = {});

}  // namespace gantry::git
