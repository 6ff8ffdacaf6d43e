// The on-disk cache behind a GitSource: one directory per repository, holding its clone and
// the exported trees of its recent commits.
//
//   <root>/<id>/source              "namespace/name" and the redacted URL, for people
//   <root>/<id>/repo.git/           bare clone, reused across polls
//   <root>/<id>/artifacts/<sha>/    exported tree of one commit
//   <root>/<id>/tmp/                exports in progress (cleared before each export)
//
// <id> is the first 32 hex digits of SHA-256("namespace/name\n<redacted URL>"), so the same
// GitRepository pointed at another URL gets a fresh clone, and no credential shapes a path.
//
// Not thread-safe for one repository: the caller serialises work per id (Libgit2Source holds
// a lock per repository). Different ids may be used from different threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/status.h"

namespace gantry::git {

class ArtifactStore {
 public:
  // `keep`: how many artifact directories to keep per repository (at least 1).
  ArtifactStore(std::filesystem::path root, size_t keep);

  static std::string RepositoryId(std::string_view name, std::string_view redacted_url);

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path RepositoryDir(std::string_view id) const;
  std::filesystem::path ClonePath(std::string_view id) const;
  std::filesystem::path ArtifactPath(std::string_view id, std::string_view commit) const;

  // Creates the repository directory and its `source` file if missing.
  Status Prepare(std::string_view id, std::string_view name, std::string_view redacted_url);

  // Makes ArtifactPath(id, commit) exist. If it does, only marks it most recently used.
  // Otherwise calls `write` with an empty temporary directory and renames that into place
  // once `write` returns OK, so the artifact appears complete or not at all. Returns the
  // artifact's path.
  Result<std::filesystem::path> Publish(
      std::string_view id, std::string_view commit,
      const std::function<Status(const std::filesystem::path& dir)>& write);

  // Deletes all but the `keep` most recently published or used artifacts of `id`; `pinned`
  // (a commit) is never deleted.
  Status Prune(std::string_view id, std::string_view pinned);

  // Deletes the clone of `id` (artifacts stay), e.g. when it is corrupt or too large.
  Status DropClone(std::string_view id);

  // Ids of all repository directories under the root.
  Result<std::vector<std::string>> ListRepositories() const;

  // Deletes the repository directory of `id`, clone and artifacts.
  Status Remove(std::string_view id);

  // Bytes used by the files under `path` (0 if it does not exist).
  static uint64_t DiskUsage(const std::filesystem::path& path);

 private:
  const std::filesystem::path root_;
  const size_t keep_;
};

}  // namespace gantry::git
