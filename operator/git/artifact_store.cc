#include "operator/git/artifact_store.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>

namespace gantry::git {
namespace fs = std::filesystem;
namespace {

Status FsError(std::string_view what, const fs::path& path, const std::error_code& ec) {
  return Internal(fmt::format("{} {}: {}", what, path.string(), ec.message()));
}

bool IsCommitName(std::string_view s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

ArtifactStore::ArtifactStore(fs::path root, size_t keep)
    : root_(std::move(root)), keep_(std::max<size_t>(keep, 1)) {}

std::string ArtifactStore::RepositoryId(std::string_view name, std::string_view redacted_url) {
  const std::string key = fmt::format("{}\n{}", name, redacted_url);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < 16 && i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

fs::path ArtifactStore::RepositoryDir(std::string_view id) const { return root_ / id; }

fs::path ArtifactStore::ClonePath(std::string_view id) const {
  return RepositoryDir(id) / "repo.git";
}

fs::path ArtifactStore::ArtifactPath(std::string_view id, std::string_view commit) const {
  return RepositoryDir(id) / "artifacts" / commit;
}

Status ArtifactStore::Prepare(std::string_view id, std::string_view name,
                              std::string_view redacted_url) {
  std::error_code ec;
  const fs::path dir = RepositoryDir(id);
  fs::create_directories(dir / "artifacts", ec);
  if (ec) return FsError("cannot create", dir / "artifacts", ec);
  const fs::path source = dir / "source";
  if (!fs::exists(source, ec)) {
    std::ofstream out(source, std::ios::trunc);
    out << name << "\n" << redacted_url << "\n";
    if (!out) return Internal(fmt::format("cannot write {}", source.string()));
  }
  return Status::Ok();
}

Result<fs::path> ArtifactStore::Publish(std::string_view id, std::string_view commit,
                                        const std::function<Status(const fs::path&)>& write) {
  std::error_code ec;
  const fs::path final_path = ArtifactPath(id, commit);
  if (fs::is_directory(final_path, ec)) {
    fs::last_write_time(final_path, fs::file_time_type::clock::now(), ec);
    return final_path;
  }
  const fs::path tmp_root = RepositoryDir(id) / "tmp";
  // Leftovers of an export that crashed half-way are garbage: no reader ever saw them.
  fs::remove_all(tmp_root, ec);
  if (ec) return FsError("cannot clear", tmp_root, ec);
  static std::atomic<uint64_t> counter{0};
  const fs::path tmp = tmp_root / fmt::format("{}.{}.{}", commit, getpid(), ++counter);
  fs::create_directories(tmp, ec);
  if (ec) return FsError("cannot create", tmp, ec);
  fs::create_directories(final_path.parent_path(), ec);
  if (ec) return FsError("cannot create", final_path.parent_path(), ec);
  if (Status s = write(tmp); !s.ok()) {
    fs::remove_all(tmp, ec);
    return s;
  }
  fs::rename(tmp, final_path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return FsError("cannot move the export into", final_path, ec);
  }
  fs::last_write_time(final_path, fs::file_time_type::clock::now(), ec);
  return final_path;
}

Status ArtifactStore::Prune(std::string_view id, std::string_view pinned) {
  std::error_code ec;
  const fs::path dir = RepositoryDir(id) / "artifacts";
  std::vector<std::pair<fs::file_time_type, fs::path>> artifacts;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!IsCommitName(name)) continue;
    std::error_code time_ec;
    auto t = fs::last_write_time(it->path(), time_ec);
    if (!time_ec) artifacts.emplace_back(t, it->path());
  }
  if (ec) return FsError("cannot list", dir, ec);
  std::sort(artifacts.begin(), artifacts.end(), [](const auto& a, const auto& b) {
    return a.first > b.first;  // newest first
  });
  size_t kept = 0;
  for (const auto& [time, path] : artifacts) {
    if (path.filename() == pinned || kept < keep_) {
      ++kept;
      continue;
    }
    fs::remove_all(path, ec);
    if (ec) return FsError("cannot delete", path, ec);
  }
  return Status::Ok();
}

Status ArtifactStore::DropClone(std::string_view id) {
  std::error_code ec;
  fs::remove_all(ClonePath(id), ec);
  if (ec) return FsError("cannot delete", ClonePath(id), ec);
  return Status::Ok();
}

Result<std::vector<std::string>> ArtifactStore::ListRepositories() const {
  std::vector<std::string> ids;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return ids;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) ids.push_back(it->path().filename().string());
  }
  if (ec) return FsError("cannot list", root_, ec);
  return ids;
}

Status ArtifactStore::Remove(std::string_view id) {
  std::error_code ec;
  fs::remove_all(RepositoryDir(id), ec);
  if (ec) return FsError("cannot delete", RepositoryDir(id), ec);
  return Status::Ok();
}

uint64_t ArtifactStore::DiskUsage(const fs::path& path) {
  uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      auto size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

}  // namespace gantry::git
