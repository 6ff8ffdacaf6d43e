#include "operator/git/ref_resolver.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "operator/git/semver.h"

namespace gantry::git {
namespace {

constexpr std::string_view kHeads = "refs/heads/";
constexpr std::string_view kTags = "refs/tags/";
constexpr std::string_view kPeeled = "^{}";

// git check-ref-format, applied to a short branch or tag name. Returns why it is invalid, or
// "" if it is fine.
std::string RefNameProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > 1024) return "is longer than 1024 characters";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "contains a control character";
    if (std::string_view(" ~^:?*[\\").find(static_cast<char>(c)) != std::string_view::npos) {
      return fmt::format("contains '{}'", static_cast<char>(c));
    }
  }
  if (name.find("..") != std::string_view::npos) return "contains \"..\"";
  if (name.find("@{") != std::string_view::npos) return "contains \"@{\"";
  if (name == "@") return "is \"@\"";
  if (name.front() == '-') return "starts with '-'";
  if (name.front() == '/' || name.back() == '/') return "starts or ends with '/'";
  if (name.find("//") != std::string_view::npos) return "contains \"//\"";
  if (name.back() == '.') return "ends with '.'";
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    std::string_view part =
        name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
    if (part.starts_with(".")) return "has a component starting with '.'";
    if (part.ends_with(".lock")) return "has a component ending with \".lock\"";
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return "";
}

bool IsHex40(std::string_view s) {
  return s.size() == 40 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

ResolvedRef Branch(std::string_view branch, std::string commit) {
  ResolvedRef r;
  r.ref = std::string(kHeads) + std::string(branch);
  r.commit = std::move(commit);
  r.revision_name = std::string(branch);
  r.local_ref = "refs/remotes/origin/" + std::string(branch);
  r.refspecs = {"+" + r.ref + ":" + r.local_ref};
  return r;
}

ResolvedRef Tag(std::string_view tag, std::string commit) {
  ResolvedRef r;
  r.ref = std::string(kTags) + std::string(tag);
  r.commit = std::move(commit);
  r.revision_name = std::string(tag);
  r.local_ref = r.ref;
  r.refspecs = {"+" + r.ref + ":" + r.local_ref};
  return r;
}

}  // namespace

Status ValidateRef(const GitRef& ref) {
  if (!ref.commit.empty() && !IsHex40(ref.commit)) {
    return InvalidArgument(fmt::format(
        "ref.commit \"{}\" is not a full commit SHA-1 (40 hexadecimal digits)", ref.commit));
  }
  if (!ref.semver.empty()) {
    auto range = ParseSemverRange(ref.semver);
    if (!range.ok()) return range.status().WithContext("ref.semver");
  }
  if (!ref.tag.empty()) {
    if (auto why = RefNameProblem(ref.tag); !why.empty()) {
      return InvalidArgument(
          fmt::format("ref.tag \"{}\" is not a valid tag name: it {}", ref.tag, why));
    }
  }
  if (!ref.branch.empty()) {
    if (auto why = RefNameProblem(ref.branch); !why.empty()) {
      return InvalidArgument(
          fmt::format("ref.branch \"{}\" is not a valid branch name: it {}", ref.branch, why));
    }
  }
  return Status::Ok();
}

ResolvedRef ResolvePinnedCommit(const GitRef& ref) {
  const std::string commit = Lower(ref.commit);
  if (!ref.branch.empty()) {
    ResolvedRef r = Branch(ref.branch, commit);
    r.local_ref.clear();  // the commit is fixed; what the branch points at now does not matter
    return r;
  }
  ResolvedRef r;
  r.commit = commit;
  r.refspecs = {"+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"};
  return r;
}

Result<ResolvedRef> ResolveRef(const GitRef& ref, const std::vector<RemoteRef>& remote,
                               std::string_view redacted_url) {
  GANTRY_RETURN_IF_ERROR(ValidateRef(ref));
  std::map<std::string, std::string, std::less<>> oids;
  for (const auto& r : remote) oids[r.name] = Lower(r.oid);
  // The commit a ref points at: the peeled id for annotated tags, else the ref's own id.
  auto commit_of = [&](const std::string& name) {
    auto peeled = oids.find(name + std::string(kPeeled));
    return peeled != oids.end() ? peeled->second : oids.at(name);
  };

  if (!ref.commit.empty()) {
    if (!ref.branch.empty() && !oids.contains(std::string(kHeads) + ref.branch)) {
      return NotFound(fmt::format("branch \"{}\" (holding commit {}) not found at {}", ref.branch,
                                  ref.commit, redacted_url));
    }
    return ResolvePinnedCommit(ref);
  }

  if (!ref.semver.empty()) {
    auto range = ParseSemverRange(ref.semver);
    if (!range.ok()) return range.status().WithContext("ref.semver");
    std::vector<std::string> tags;
    for (const auto& [name, oid] : oids) {
      if (name.starts_with(kTags) && !name.ends_with(kPeeled)) {
        tags.push_back(name.substr(kTags.size()));
      }
    }
    auto match = PickHighestMatching(*range, tags);
    if (!match) {
      return NotFound(fmt::format("no tag at {} matches semver range \"{}\" ({} tag(s) seen)",
                                  redacted_url, ref.semver, tags.size()));
    }
    return Tag(match->tag, commit_of(std::string(kTags) + match->tag));
  }

  if (!ref.tag.empty()) {
    const std::string name = std::string(kTags) + ref.tag;
    if (!oids.contains(name)) {
      return NotFound(fmt::format("tag \"{}\" not found at {}", ref.tag, redacted_url));
    }
    return Tag(ref.tag, commit_of(name));
  }

  if (!ref.branch.empty()) {
    const std::string name = std::string(kHeads) + ref.branch;
    if (!oids.contains(name)) {
      return NotFound(fmt::format("branch \"{}\" not found at {}", ref.branch, redacted_url));
    }
    return Branch(ref.branch, oids.at(name));
  }

  // No ref: follow HEAD, named after the branch it points to.
  auto head = std::find_if(remote.begin(), remote.end(),
                           [](const RemoteRef& r) { return r.name == "HEAD"; });
  if (head == remote.end()) {
    return NotFound(
        fmt::format("{} has no HEAD (is the repository empty?); set ref.branch", redacted_url));
  }
  const std::string head_oid = Lower(head->oid);
  if (head->symref_target.starts_with(kHeads) && oids.contains(head->symref_target)) {
    return Branch(std::string_view(head->symref_target).substr(kHeads.size()),
                  oids.at(head->symref_target));
  }
  // The server did not say which branch HEAD is: take a branch at the same commit, preferring
  // the usual default names.
  std::vector<std::string> candidates;
  for (const auto& [name, oid] : oids) {
    if (name.starts_with(kHeads) && oid == head_oid) candidates.push_back(name);
  }
  for (std::string_view preferred : {"refs/heads/main", "refs/heads/master"}) {
    if (std::find(candidates.begin(), candidates.end(), preferred) != candidates.end()) {
      return Branch(preferred.substr(kHeads.size()), head_oid);
    }
  }
  if (!candidates.empty()) {
    return Branch(std::string_view(candidates.front()).substr(kHeads.size()), head_oid);
  }
  ResolvedRef r;
  r.ref = "HEAD";
  r.commit = head_oid;
  r.revision_name = "HEAD";
  r.local_ref = "refs/remotes/origin/HEAD";
  r.refspecs = {"+HEAD:" + r.local_ref};
  return r;
}

std::string FormatRevision(std::string_view name, std::string_view commit) {
  if (name.empty()) return fmt::format("sha1:{}", commit);
  return fmt::format("{}@sha1:{}", name, commit);
}

}  // namespace gantry::git
