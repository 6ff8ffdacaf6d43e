// GitRepository (gantry.io/v1alpha1): a Git source, with Flux's field names so that a Flux
// manifest moves over by changing apiVersion. Read by the GitRepository reconciler (which writes
// its status) and by the Application reconciler (which reads status.artifact).
// See types.h for how FromJson/ToJson/Validate behave for every kind.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/conditions.h"
#include "operator/api/meta.h"
#include "operator/common/duration.h"
#include "operator/common/status.h"

namespace gantry::api {

// Which reference a GitRepository follows.
enum class GitRefKind { kHead, kBranch, kTag, kSemver, kCommit };

// spec.ref. Several may be set; the most specific wins (commit > semver > tag > branch), as in
// Flux, so e.g. branch + commit means "this commit, fetched from that branch".
struct GitRepositoryRef {
  std::string branch;
  std::string tag;
  std::string semver;  // a semver range over tags, e.g. ">=1.2.0 <2.0.0"
  std::string commit;  // a full SHA-1 (40 hex) or SHA-256 (64 hex)
  nlohmann::json extra = nlohmann::json::object();

  // The reference in effect by precedence; kHead (the remote's default branch) when none is set.
  GitRefKind Effective() const;

  bool operator==(const GitRepositoryRef&) const = default;
};

struct GitRepositorySpec {
  static constexpr std::string_view kDefaultInterval = "1m";
  static constexpr std::string_view kDefaultTimeout = "60s";

  // https://, http://, ssh://, git://, file://, or scp-like "git@host:org/repo.git".
  std::string url;
  GitRepositoryRef ref;
  std::string interval{kDefaultInterval};  // Go duration
  std::string timeout{kDefaultTimeout};    // Go duration, per fetch
  // Secret with `username` + `password`, or `bearerToken`, or `identity` + `known_hosts` (SSH);
  // optional `ca.crt`.
  std::optional<LocalObjectReference> secret_ref;
  // Secret with key `token`, checked on POST /hooks/<namespace>/<name>.
  std::optional<LocalObjectReference> webhook_secret_ref;
  bool suspend = false;
  nlohmann::json extra = nlohmann::json::object();

  // Parsed durations; the defaults when the text does not parse (Validate reports that).
  Millis Interval() const;
  Millis Timeout() const;

  bool operator==(const GitRepositorySpec&) const = default;
};

// status.artifact: what the last successful fetch produced.
struct GitArtifact {
  std::string revision;  // "<branch or tag>@sha1:<sha>", or "sha1:<sha>" for a bare commit
  std::string commit;    // the full SHA
  std::optional<Time> last_update_time;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const GitArtifact&) const = default;
};

struct GitRepositoryStatus {
  std::optional<GitArtifact> artifact;
  std::string webhook_path;  // "/hooks/<namespace>/<name>"
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  // The value of annotation reconcile.fluxcd.io/requestedAt last acted on (Flux's convention).
  std::string last_handled_reconcile_at;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const GitRepositoryStatus&) const = default;
};

struct GitRepository {
  static constexpr std::string_view kKind = "GitRepository";
  static constexpr std::string_view kPlural = "gitrepositories";
  static constexpr bool kNamespaced = true;

  ObjectMeta metadata;
  GitRepositorySpec spec;
  GitRepositoryStatus status;
  nlohmann::json extra = nlohmann::json::object();

  static Result<GitRepository> FromJson(const nlohmann::json& json);
  nlohmann::json ToJson() const;
  Status Validate() const;

  bool operator==(const GitRepository&) const = default;
};

// How a repository URL is reached.
enum class GitTransport { kHttps, kHttp, kSsh, kGit, kFile };

// Classifies `url` as Git does: "scheme://..." by scheme; "[user@]host:path" (no "://", no '/'
// before the first ':') is scp-like SSH. InvalidArgument naming the URL for anything else,
// including unsupported schemes and URLs without a host or path.
Result<GitTransport> ClassifyGitUrl(std::string_view url);

}  // namespace gantry::api
