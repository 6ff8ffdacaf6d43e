#include "operator/reconcilers/git_repository_reconciler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "operator/api/conditions.h"
#include "operator/kube/encoding.h"

namespace gantry::reconcilers {

void ArtifactRegistry::Put(const kube::ObjectKey& repository, git::Artifact artifact) {
  std::lock_guard lock(mu_);
  artifacts_[repository] = std::move(artifact);
}

void ArtifactRegistry::Forget(const kube::ObjectKey& repository) {
  std::lock_guard lock(mu_);
  artifacts_.erase(repository);
}

std::optional<git::Artifact> ArtifactRegistry::Get(const kube::ObjectKey& repository) const {
  std::lock_guard lock(mu_);
  auto it = artifacts_.find(repository);
  if (it == artifacts_.end()) return std::nullopt;
  return it->second;
}

std::string WebhookPath(const kube::ObjectKey& key) {
  return fmt::format("/hooks/{}/{}", key.ns, key.name);
}

void GitRepositoryReconciler::Emit(const kube::Object& object, bool warning,
                                   std::string_view reason, const std::string& message) {
  if (warning) {
    spdlog::warn("GitRepository {}/{}: {}: {}", kube::NamespaceOf(object), kube::NameOf(object),
                 reason, message);
  } else {
    spdlog::info("GitRepository {}/{}: {}: {}", kube::NamespaceOf(object), kube::NameOf(object),
                 reason, message);
  }
  if (deps_.events != nullptr) {
    deps_.events->Event(object, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                        reason, message);
  }
}

Result<git::GitAuth> ReadGitAuth(kube::KubeClient& client, const api::GitRepository& repo) {
  git::GitAuth auth;
  if (!repo.spec.secret_ref) return auth;
  const std::string& secret_name = repo.spec.secret_ref->name;
  auto secret =
      client.Get(kube::ResourceRef{{"", "v1", "Secret"}, repo.metadata.namespace_, secret_name});
  if (!secret.ok()) {
    return Status(secret.status().code(),
                  fmt::format("spec.secretRef: Secret {}/{}: {}", repo.metadata.namespace_,
                              secret_name, secret.status().message()));
  }
  const kube::Object& data = secret->contains("data") && (*secret)["data"].is_object()
                                 ? (*secret)["data"]
                                 : kube::Object::object();
  auto read = [&](const char* key, std::string& out) -> Status {
    auto it = data.find(key);
    if (it == data.end() || !it->is_string()) return Status();
    auto decoded = kube::Base64Decode(it->get<std::string>());
    if (!decoded.ok()) {
      return InvalidArgument(fmt::format("Secret {}/{}: key {} is not valid base64",
                                         repo.metadata.namespace_, secret_name, key));
    }
    out = std::move(*decoded);
    return Status();
  };
  GANTRY_RETURN_IF_ERROR(read("username", auth.username));
  GANTRY_RETURN_IF_ERROR(read("password", auth.password));
  GANTRY_RETURN_IF_ERROR(read("bearerToken", auth.bearer_token));
  GANTRY_RETURN_IF_ERROR(read("identity", auth.identity));
  GANTRY_RETURN_IF_ERROR(read("known_hosts", auth.known_hosts));
  GANTRY_RETURN_IF_ERROR(read("ca.crt", auth.ca_pem));
  if (auth.username.empty() && auth.password.empty() && auth.bearer_token.empty() &&
      auth.identity.empty() && auth.ca_pem.empty()) {
    return InvalidArgument(fmt::format(
        "Secret {}/{} has none of the keys username+password, bearerToken, identity+known_hosts "
        "or ca.crt",
        repo.metadata.namespace_, secret_name));
  }
  if (!auth.identity.empty() && auth.known_hosts.empty()) {
    return InvalidArgument(fmt::format("Secret {}/{}: key identity needs key known_hosts too",
                                       repo.metadata.namespace_, secret_name));
  }
  return auth;
}

controller::ReconcileResult GitRepositoryReconciler::Reconcile(const kube::ObjectKey& key) {
  const kube::ResourceRef ref{{std::string(api::kGroup), std::string(api::kVersion),
                               std::string(api::GitRepository::kKind)},
                              key.ns,
                              key.name};
  auto live = deps_.client.Get(ref);
  if (!live.ok()) {
    if (live.status().code() == StatusCode::kNotFound) {
      deps_.artifacts.Forget(key);
      return controller::ReconcileResult::Done();
    }
    return controller::ReconcileResult::Error(live.status());
  }
  const kube::Object& object = *live;
  const api::Time now = deps_.clock.Now();

  auto decoded = api::GitRepository::FromJson(object);
  if (!decoded.ok()) {
    // Without a decodable object there is no typed status to write: say it in an Event.
    Emit(object, true, kReasonInvalidSpec, decoded.status().message());
    return controller::ReconcileResult::Stalled(decoded.status().message());
  }
  api::GitRepository repo = std::move(*decoded);
  const api::GitRepositoryStatus before = repo.status;
  const int64_t generation = repo.metadata.generation;
  repo.status.webhook_path = WebhookPath(key);

  auto write_status = [&]() -> Status {
    if (repo.status == before) return Status();
    auto updated = deps_.client.UpdateStatus(repo.ToJson());
    if (!updated.ok()) {
      return updated.status().WithContext(
          fmt::format("writing status of GitRepository {}", key.ToString()));
    }
    return Status();
  };
  auto ready_changed = [&]() {
    const api::Condition* a = api::FindCondition(before.conditions, api::kConditionReady);
    const api::Condition* b = api::FindCondition(repo.status.conditions, api::kConditionReady);
    if (a == nullptr || b == nullptr) return a != b;
    return a->status != b->status || a->reason != b->reason || a->message != b->message;
  };

  if (Status valid = repo.Validate(); !valid.ok()) {
    api::MarkStalled(repo.status.conditions, generation, kReasonInvalidSpec, valid.message(), now);
    repo.status.observed_generation = generation;
    if (ready_changed()) Emit(object, true, kReasonInvalidSpec, valid.message());
    if (Status s = write_status(); !s.ok()) return controller::ReconcileResult::Error(s);
    return controller::ReconcileResult::Stalled(valid.message());
  }

  if (auto it = repo.metadata.annotations.find(std::string(kReconcileRequestedAtAnnotation));
      it != repo.metadata.annotations.end()) {
    repo.status.last_handled_reconcile_at = it->second;
  }

  if (repo.spec.suspend) {
    // Flux keeps Ready as it was while suspended; the artifact stays what it was.
    repo.status.observed_generation = generation;
    if (Status s = write_status(); !s.ok()) return controller::ReconcileResult::Error(s);
    return controller::ReconcileResult::Done();
  }

  // The artifact this process holds, or (after a restart) the one in status: either way the
  // fetch downloads nothing when the remote has not moved and the directory is still there.
  std::string last_commit;
  if (auto held = deps_.artifacts.Get(key)) {
    last_commit = held->commit;
  } else if (repo.status.artifact) {
    last_commit = repo.status.artifact->commit;
  }

  auto fail = [&](std::string_view reason, const Status& why) {
    std::string message = why.message();
    api::MarkFailed(repo.status.conditions, generation, reason, message, now);
    repo.status.observed_generation = generation;
    if (ready_changed()) Emit(object, true, reason, message);
    if (Status s = write_status(); !s.ok()) {
      spdlog::warn("GitRepository {}: {}", key.ToString(), s.ToString());
    }
    return controller::ReconcileResult::Error(why);
  };

  auto auth = ReadGitAuth(deps_.client, repo);
  if (!auth.ok()) return fail(kReasonAuthenticationFailed, auth.status());

  git::FetchRequest request;
  request.name = key.ToString();
  request.url = repo.spec.url;
  request.ref = git::GitRef{repo.spec.ref.branch, repo.spec.ref.tag, repo.spec.ref.semver,
                            repo.spec.ref.commit};
  request.auth = std::move(*auth);
  request.timeout = repo.spec.Timeout();
  request.last_commit = last_commit;

  const auto started = std::chrono::steady_clock::now();
  auto fetched = deps_.source.Fetch(request);
  deps_.metrics.ObserveGitFetch(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!fetched.ok()) {
    return fail(kReasonGitOperationFailed,
                fetched.status().WithContext(fmt::format("fetching {}", repo.spec.url)));
  }

  git::Artifact artifact = std::move(*fetched);
  const bool moved = !repo.status.artifact || repo.status.artifact->commit != artifact.commit ||
                     repo.status.artifact->revision != artifact.revision;
  const auto held = deps_.artifacts.Get(key);
  const bool registry_moved = !held || held->commit != artifact.commit;
  if (moved) {
    api::GitArtifact status_artifact;
    status_artifact.revision = artifact.revision;
    status_artifact.commit = artifact.commit;
    status_artifact.last_update_time = now;
    repo.status.artifact = status_artifact;
  }
  deps_.artifacts.Put(key, artifact);

  std::string message = fmt::format("stored artifact for revision '{}'", artifact.revision);
  api::MarkReady(repo.status.conditions, generation, kReasonSucceeded, message, now);
  repo.status.observed_generation = generation;
  if (moved) {
    Emit(object, false, "NewArtifact", message);
  } else if (ready_changed()) {
    Emit(object, false, kReasonSucceeded, message);
  }
  if (Status s = write_status(); !s.ok()) return controller::ReconcileResult::Error(s);
  if ((moved || registry_moved) && deps_.on_artifact_changed) deps_.on_artifact_changed(key);
  return controller::ReconcileResult::Done(repo.spec.Interval());
}

}  // namespace gantry::reconcilers
