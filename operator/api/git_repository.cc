#include "operator/api/git_repository.h"

#include <fmt/format.h>

#include "operator/api/codec.h"
#include "operator/api/validation.h"

namespace gantry::api {
namespace internal {

template <typename C, Is<GitRepositoryRef> V>
void Fields(C& c, V& v) {
  c.Field("branch", v.branch);
  c.Field("tag", v.tag);
  c.Field("semver", v.semver);
  c.Field("commit", v.commit);
  c.Extra(v.extra);
}

template <typename C, Is<GitRepositorySpec> V>
void Fields(C& c, V& v) {
  c.Field("url", v.url);
  c.Field("ref", v.ref);
  c.Field("interval", v.interval);
  c.Field("timeout", v.timeout);
  c.Field("secretRef", v.secret_ref);
  c.Field("webhookSecretRef", v.webhook_secret_ref);
  c.Field("suspend", v.suspend);
  c.Extra(v.extra);
}

template <typename C, Is<GitArtifact> V>
void Fields(C& c, V& v) {
  c.Field("revision", v.revision);
  c.Field("commit", v.commit);
  c.Field("lastUpdateTime", v.last_update_time);
  c.Extra(v.extra);
}

template <typename C, Is<GitRepositoryStatus> V>
void Fields(C& c, V& v) {
  c.Field("artifact", v.artifact);
  c.Field("webhookPath", v.webhook_path);
  c.Field("conditions", v.conditions);
  c.Field("observedGeneration", v.observed_generation);
  c.Field("lastHandledReconcileAt", v.last_handled_reconcile_at);
  c.Extra(v.extra);
}

template <typename C, Is<GitRepository> V>
void Fields(C& c, V& v) {
  c.Skip("apiVersion");
  c.Skip("kind");
  c.Field("metadata", v.metadata);
  c.Field("spec", v.spec);
  c.Field("status", v.status);
  c.Extra(v.extra);
}

}  // namespace internal

namespace {

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool HasSpace(std::string_view s) { return s.find_first_of(" \t\r\n") != std::string_view::npos; }

}  // namespace

GitRefKind GitRepositoryRef::Effective() const {
  if (!commit.empty()) return GitRefKind::kCommit;
  if (!semver.empty()) return GitRefKind::kSemver;
  if (!tag.empty()) return GitRefKind::kTag;
  if (!branch.empty()) return GitRefKind::kBranch;
  return GitRefKind::kHead;
}

Millis GitRepositorySpec::Interval() const {
  return internal::DurationOr(interval, *ParseDuration(kDefaultInterval));
}

Millis GitRepositorySpec::Timeout() const {
  return internal::DurationOr(timeout, *ParseDuration(kDefaultTimeout));
}

Result<GitTransport> ClassifyGitUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format(
        "unsupported Git URL \"{}\": {} (use https://, http://, ssh://, git://, file:// or "
        "scp-like git@host:path)",
        url, why));
  };
  if (url.empty()) return bad("empty");
  if (HasSpace(url)) return bad("contains whitespace");
  size_t scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string_view scheme = url.substr(0, scheme_end);
    std::string_view rest = url.substr(scheme_end + 3);
    if (scheme == "file") {
      if (rest.empty()) return bad("no path");
      return GitTransport::kFile;
    }
    GitTransport transport;
    if (scheme == "https") {
      transport = GitTransport::kHttps;
    } else if (scheme == "http") {
      transport = GitTransport::kHttp;
    } else if (scheme == "ssh") {
      transport = GitTransport::kSsh;
    } else if (scheme == "git") {
      transport = GitTransport::kGit;
    } else {
      return bad(fmt::format("unknown scheme \"{}\"", scheme));
    }
    std::string_view host = rest.substr(0, rest.find('/'));
    if (host.empty()) return bad("no host");
    return transport;
  }
  // scp-like: [user@]host:path, with no '/' before the first ':'.
  size_t colon = url.find(':');
  if (colon == std::string_view::npos) return bad("no scheme");
  std::string_view authority = url.substr(0, colon);
  std::string_view path = url.substr(colon + 1);
  if (authority.find('/') != std::string_view::npos) return bad("no scheme");
  std::string_view host = authority.substr(authority.find('@') + 1);
  if (host.empty()) return bad("no host");
  if (path.empty()) return bad("no path");
  return GitTransport::kSsh;
}

Result<GitRepository> GitRepository::FromJson(const nlohmann::json& json) {
  return internal::DecodeObject<GitRepository>(json, kKind);
}

nlohmann::json GitRepository::ToJson() const { return internal::EncodeObject(*this, kKind); }

Status GitRepository::Validate() const {
  using namespace internal;  // NOLINT: the check helpers
  FieldErrors errors;
  CheckRequired(errors, "spec.url", spec.url);
  if (!spec.url.empty()) {
    Result<GitTransport> transport = ClassifyGitUrl(spec.url);
    if (!transport.ok()) errors.Add("spec.url", transport.status().message());
  }
  const std::string& commit = spec.ref.commit;
  if (!commit.empty() && !((commit.size() == 40 || commit.size() == 64) && IsHex(commit))) {
    errors.Add("spec.ref.commit",
               fmt::format("must be a full commit SHA (40 or 64 lower-case hex digits), got "
                           "\"{}\"",
                           commit));
  }
  if (!spec.ref.branch.empty() && HasSpace(spec.ref.branch)) {
    errors.Add("spec.ref.branch", "must not contain whitespace");
  }
  if (!spec.ref.tag.empty() && HasSpace(spec.ref.tag)) {
    errors.Add("spec.ref.tag", "must not contain whitespace");
  }
  CheckRequired(errors, "spec.interval", spec.interval);
  CheckDuration(errors, "spec.interval", spec.interval, DurationRule::kPositive);
  CheckRequired(errors, "spec.timeout", spec.timeout);
  CheckDuration(errors, "spec.timeout", spec.timeout, DurationRule::kPositive);
  if (spec.secret_ref.has_value()) {
    CheckRequired(errors, "spec.secretRef.name", spec.secret_ref->name);
    CheckDnsSubdomain(errors, "spec.secretRef.name", spec.secret_ref->name);
  }
  if (spec.webhook_secret_ref.has_value()) {
    CheckRequired(errors, "spec.webhookSecretRef.name", spec.webhook_secret_ref->name);
    CheckDnsSubdomain(errors, "spec.webhookSecretRef.name", spec.webhook_secret_ref->name);
  }
  return errors.ToStatus(ObjectName(kKind, metadata));
}

}  // namespace gantry::api
