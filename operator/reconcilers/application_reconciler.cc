#include "operator/reconcilers/application_reconciler.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "operator/api/conditions.h"
#include "operator/manifest/health.h"
#include "operator/manifest/loader.h"
#include "operator/manifest/order.h"
#include "operator/reconcilers/application_apply.h"
#include "operator/reconcilers/application_diff.h"
#include "operator/reconcilers/application_parallel.h"
#include "operator/reconcilers/application_prune.h"
#include "operator/reconcilers/application_sync_memo.h"

namespace gantry::reconcilers {
namespace {

using controller::ReconcileResult;

const kube::GroupVersionKind kApplicationGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kGitRepositoryGvk{"gantry.io", "v1alpha1", "GitRepository"};
const kube::GroupVersionKind kConfigMapGvk{"", "v1", "ConfigMap"};

api::HealthStatusCode ToApiHealth(manifest::Health h) {
  switch (h) {
    case manifest::Health::kHealthy:
      return api::HealthStatusCode::kHealthy;
    case manifest::Health::kProgressing:
      return api::HealthStatusCode::kProgressing;
    case manifest::Health::kDegraded:
      return api::HealthStatusCode::kDegraded;
    case manifest::Health::kSuspended:
      return api::HealthStatusCode::kSuspended;
    case manifest::Health::kMissing:
      return api::HealthStatusCode::kMissing;
    case manifest::Health::kUnknown:
      return api::HealthStatusCode::kUnknown;
  }
  return api::HealthStatusCode::kUnknown;
}

bool IsCrd(const kube::Object& o) {
  return o.value("kind", "") == "CustomResourceDefinition" &&
         o.value("apiVersion", "").starts_with("apiextensions.k8s.io/");
}

// Group/kind -> scope of the CRDs among the desired objects.
std::map<manifest::GroupKind, bool> CrdScopes(const std::vector<manifest::Object>& objects) {
  std::map<manifest::GroupKind, bool> scopes;
  for (const auto& o : objects) {
    if (!IsCrd(o.json)) continue;
    const kube::Object spec = o.json.value("spec", kube::Object::object());
    if (!spec.is_object()) continue;
    std::string group = spec.value("group", "");
    std::string kind;
    if (spec.contains("names") && spec["names"].is_object()) {
      kind = spec["names"].value("kind", "");
    }
    scopes[manifest::GroupKind{group, kind}] = spec.value("scope", "Namespaced") != "Cluster";
  }
  return scopes;
}

std::string JoinLines(const std::vector<std::string>& lines, size_t max = 20) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < max; ++i) {
    if (!out.empty()) out += "\n";
    out += lines[i];
  }
  if (lines.size() > max) out += fmt::format("\n... and {} more", lines.size() - max);
  return out;
}

}  // namespace

std::vector<kube::ObjectKey> ApplicationsUsingSource(const std::vector<kube::Object>& applications,
                                                     const kube::ObjectKey& repository) {
  std::vector<kube::ObjectKey> keys;
  for (const auto& app : applications) {
    if (!app.contains("spec") || !app["spec"].is_object()) continue;
    const kube::Object& spec = app["spec"];
    if (!spec.contains("sourceRef") || !spec["sourceRef"].is_object()) continue;
    const kube::Object& ref = spec["sourceRef"];
    if (ref.value("kind", "GitRepository") != "GitRepository") continue;
    std::string ns = ref.value("namespace", "");
    if (ns.empty()) ns = kube::NamespaceOf(app);
    if (ns == repository.ns && ref.value("name", "") == repository.name) {
      keys.push_back(kube::KeyOf(app));
    }
  }
  return keys;
}

ReconcileResult ApplicationReconciler::Reconcile(const kube::ObjectKey& key) {
  auto live = deps_.client.Get(kube::ResourceRef{kApplicationGvk, key.ns, key.name});
  if (!live.ok()) {
    if (live.status().code() == StatusCode::kNotFound) {
      deps_.metrics.ForgetApplication(key.ns, key.name);
      memo_.Forget(key);
      if (deps_.watcher != nullptr) deps_.watcher->SetSelfHeal(key, false);
      return ReconcileResult::Done();
    }
    return ReconcileResult::Error(live.status());
  }
  const kube::Object& object = *live;
  const api::Time now = deps_.clock.Now();
  auto emit = [&](bool warning, std::string_view reason, const std::string& message) {
    if (warning) {
      spdlog::warn("Application {}: {}: {}", key.ToString(), reason, message);
    } else {
      spdlog::info("Application {}: {}: {}", key.ToString(), reason, message);
    }
    if (deps_.events != nullptr) {
      deps_.events->Event(object, warning ? kube::EventType::kWarning : kube::EventType::kNormal,
                          reason, message);
    }
  };

  auto decoded = api::Application::FromJson(object);
  if (!decoded.ok()) {
    emit(true, kReasonInvalidSpec, decoded.status().message());
    return ReconcileResult::Stalled(decoded.status().message());
  }
  api::Application app = std::move(*decoded);
  const api::ApplicationStatus before = app.status;
  const int64_t generation = app.metadata.generation;
  app.status.observed_generation = generation;
  if (auto it = app.metadata.annotations.find(std::string(kReconcileRequestedAtAnnotation));
      it != app.metadata.annotations.end()) {
    app.status.last_handled_reconcile_at = it->second;
  }

  auto ready_changed = [&]() {
    const api::Condition* a = api::FindCondition(before.conditions, api::kConditionReady);
    const api::Condition* b = api::FindCondition(app.status.conditions, api::kConditionReady);
    if (a == nullptr || b == nullptr) return a != b;
    return a->status != b->status || a->reason != b->reason || a->message != b->message;
  };
  auto write_status = [&]() -> Status {
    deps_.metrics.RecordApplication(key.ns, key.name, api::ToString(app.status.sync.status),
                                    api::ToString(app.status.health.status));
    if (app.status == before) return Status();
    auto updated = deps_.client.UpdateStatus(app.ToJson());
    if (!updated.ok()) {
      return updated.status().WithContext(
          fmt::format("writing status of Application {}", key.ToString()));
    }
    return Status();
  };
  // A failure the next commit or a retry may fix: Ready=False, look again after retryInterval.
  auto fail = [&](std::string_view reason, const std::string& message) {
    api::MarkFailed(app.status.conditions, generation, reason, message, now);
    if (app.status.sync.status == api::SyncStatusCode::kSynced &&
        app.status.last_attempted_revision != app.status.last_applied_revision) {
      app.status.sync.status = api::SyncStatusCode::kOutOfSync;
    }
    if (ready_changed()) emit(true, reason, message);
    if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
    return ReconcileResult::Waiting(app.spec.RetryInterval(), message);
  };

  if (Status valid = app.Validate(); !valid.ok()) {
    api::MarkStalled(app.status.conditions, generation, kReasonInvalidSpec, valid.message(), now);
    if (ready_changed()) emit(true, kReasonInvalidSpec, valid.message());
    if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
    return ReconcileResult::Stalled(valid.message());
  }
  if (!deps_.scope_namespace.empty() && !app.spec.target_namespace.empty() &&
      app.spec.target_namespace != deps_.scope_namespace) {
    std::string message = fmt::format(
        "spec.targetNamespace {} is outside namespace {}, the only one this operator writes in "
        "(--namespace)",
        app.spec.target_namespace, deps_.scope_namespace);
    api::MarkStalled(app.status.conditions, generation, kReasonInvalidSpec, message, now);
    if (ready_changed()) emit(true, kReasonInvalidSpec, message);
    if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
    return ReconcileResult::Stalled(message);
  }
  if (deps_.watcher != nullptr) deps_.watcher->SetSelfHeal(key, app.spec.self_heal);

  const kube::ObjectKey source_key{
      app.spec.source_ref.namespace_.empty() ? key.ns : app.spec.source_ref.namespace_,
      app.spec.source_ref.name};
  // The source's artifact as fetched by this process, if it is the one the GitRepository's
  // status names (nullopt: not yet); the GitRepository's read error (NotFound) otherwise.
  auto current_artifact = [&]() -> Result<std::optional<git::Artifact>> {
    auto source =
        deps_.client.Get(kube::ResourceRef{kGitRepositoryGvk, source_key.ns, source_key.name});
    if (!source.ok()) return source.status();
    std::optional<git::Artifact> artifact = deps_.artifacts.Get(source_key);
    std::string status_commit;
    if (source->contains("status") && (*source)["status"].contains("artifact") &&
        (*source)["status"]["artifact"].is_object()) {
      status_commit = (*source)["status"]["artifact"].value("commit", "");
    }
    if (!artifact || (!status_commit.empty() && artifact->commit != status_commit)) {
      return std::optional<git::Artifact>();
    }
    return artifact;
  };

  // `gantry app diff`: answered from this process's artifact, before anything is applied.
  bool diff_answered = false;
  if (auto it = app.metadata.annotations.find(std::string(kDiffRequestedAtAnnotation));
      it != app.metadata.annotations.end() && !it->second.empty()) {
    const std::string& stamp = it->second;
    const kube::ResourceRef answer_ref{kConfigMapGvk, key.ns, DiffConfigMapName(key.name)};
    auto answered = deps_.client.Get(answer_ref);
    if (!answered.ok() || !ReadDiffAnswer(*answered, stamp).has_value()) {
      Result<AppDiff> diff = Status(StatusCode::kUnavailable, "");
      auto artifact = current_artifact();
      if (!artifact.ok()) {
        diff = artifact.status().WithContext("GitRepository " + source_key.ToString());
      } else if (!artifact->has_value()) {
        diff = Status(StatusCode::kUnavailable,
                      fmt::format("GitRepository {} has no artifact in the operator yet",
                                  source_key.ToString()));
      } else {
        diff = DiffDesiredState(deps_.client, app, **artifact);
      }
      kube::ApplyOptions options;
      options.field_manager = std::string(kFieldManager);
      options.force = true;
      const std::string uid = object["metadata"].value("uid", "");
      auto written = deps_.client.Apply(DiffConfigMap(app, uid, stamp, diff), options);
      if (!written.ok()) {
        emit(true, "DiffFailed",
             fmt::format("writing ConfigMap {}/{}: {}", key.ns, answer_ref.name,
                         written.status().message()));
      } else {
        diff_answered = true;
        emit(false, "DiffComputed",
             fmt::format("diff requested at {} written to ConfigMap {}", stamp, answer_ref.name));
      }
    }
  }

  if (app.spec.suspend) {
    if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
    return ReconcileResult::Done();
  }
  if (diff_answered) {
    // A diff must not sync: when this pass was for the diff only (nothing new since the last
    // successful sync), stop here.
    const api::Condition* ready = api::FindCondition(before.conditions, api::kConditionReady);
    auto artifact = current_artifact();
    const bool up_to_date =
        ready != nullptr && ready->status == api::kConditionTrue &&
        ready->observed_generation == generation && before.observed_generation == generation &&
        before.last_handled_reconcile_at == app.status.last_handled_reconcile_at && artifact.ok() &&
        artifact->has_value() && (*artifact)->revision == before.last_applied_revision;
    if (up_to_date) {
      if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
      return ReconcileResult::Done(app.spec.Interval());
    }
  }

  // 2. dependsOn.
  for (const auto& dep : app.spec.depends_on) {
    const std::string ns = dep.namespace_.empty() ? key.ns : dep.namespace_;
    auto other = deps_.client.Get(kube::ResourceRef{kApplicationGvk, ns, dep.name});
    bool ready = false;
    if (other.ok()) {
      auto parsed = api::Application::FromJson(*other);
      ready = parsed.ok() &&
              api::IsConditionTrue(parsed->status.conditions, api::kConditionReady) &&
              parsed->status.observed_generation == parsed->metadata.generation;
    }
    if (!ready) {
      std::string message = fmt::format("dependency Application {}/{} is not ready", ns, dep.name);
      if (api::MarkReconciling(app.status.conditions, generation, kReasonDependencyNotReady,
                               message, now) &&
          ready_changed()) {
        emit(false, kReasonDependencyNotReady, message);
      }
      if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
      return ReconcileResult::Waiting(deps_.poll_interval, message);
    }
  }

  // 3. The source's artifact.
  auto source_artifact = current_artifact();
  if (!source_artifact.ok()) {
    if (source_artifact.status().code() != StatusCode::kNotFound)
      return ReconcileResult::Error(source_artifact.status());
    return fail(kReasonArtifactNotReady,
                fmt::format("GitRepository {} does not exist", source_key.ToString()));
  }
  const std::optional<git::Artifact>& artifact = *source_artifact;
  if (!artifact) {
    std::string message =
        fmt::format("waiting for an artifact of GitRepository {}", source_key.ToString());
    api::MarkReconciling(app.status.conditions, generation, kReasonArtifactNotReady, message, now);
    if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
    return ReconcileResult::Waiting(deps_.poll_interval, message);
  }
  const std::string revision = artifact->revision;
  app.status.last_attempted_revision = revision;

  // 4. Load and prepare; or, when the last successful pass rendered this revision and generation
  // and every object it rendered is known in sync, stand in what it remembered for the render
  // (SyncMemo::Render): a no-op resync then neither reads nor parses nor hashes the manifests.
  std::map<manifest::GroupKind, bool> crd_scopes;
  std::map<manifest::GroupKind, std::string> versions;
  std::map<manifest::GroupKind, bool> served;  // kind -> namespaced, for kinds the server knows
  std::set<manifest::GroupKind> unserved;
  auto lookup = [&](const manifest::GroupKind& gk) -> std::optional<bool> {
    if (auto it = served.find(gk); it != served.end()) return it->second;
    if (unserved.contains(gk)) return std::nullopt;
    auto mapping = deps_.client.Mapping(kube::GroupVersionKind{gk.group, versions[gk], gk.kind});
    if (!mapping.ok()) {
      unserved.insert(gk);
      return std::nullopt;
    }
    served[gk] = mapping->namespaced;
    return mapping->namespaced;
  };
  // The placement of each kind as first decided in this pass: what the render depends on
  // besides the revision and the spec, remembered with it.
  std::map<manifest::GroupKind, bool> placed;
  auto is_namespaced = [&](const manifest::GroupKind& gk) {
    bool namespaced = true;
    if (auto it = crd_scopes.find(gk); it != crd_scopes.end()) {
      namespaced = it->second;
    } else {
      namespaced = lookup(gk).value_or(true);
    }
    placed.emplace(gk, namespaced);
    return namespaced;
  };
  // Per object: known in sync from the memo and the watch cache (no request at all), or the
  // server's preview; after the apply, the write's answer. Health is judged from these.
  struct ObjectPass {
    std::string desired_hash;
    std::optional<SyncMemo::Entry> known;
    kube::ObjectPtr cached;  // the cache's copy, when known
    std::optional<ApplyPreview> preview;
    kube::Object written;  // null when nothing was written
  };
  CachedObjectLookup cache;
  if (deps_.watcher != nullptr) {
    cache = [watcher = deps_.watcher](const kube::ResourceRef& ref) {
      return watcher->Cached(ref);
    };
  }
  std::vector<DesiredObject> desired;
  std::vector<ObjectPass> pass;
  // Stands in the remembered render for the render: true only when every kind is placed as it
  // was and every object is known in sync (else the caller clears what it filled and renders).
  auto recall = [&](const SyncMemo::Render& render) {
    for (const auto& s : render.scopes) {
      versions[s.kind] = s.version;
      if (s.from_crd) crd_scopes[s.kind] = s.namespaced;
    }
    for (const auto& s : render.scopes) {
      // A kind from discovery must still be served, with the same scope.
      if (!s.from_crd) {
        std::optional<bool> namespaced = lookup(s.kind);
        if (!namespaced.has_value() || *namespaced != s.namespaced) return false;
      }
      placed.emplace(s.kind, s.namespaced);
    }
    std::vector<ObjectPass> known(render.objects.size());
    desired.resize(render.objects.size());
    for (size_t i = 0; i < render.objects.size(); ++i) {
      const SyncMemo::RenderedObject& r = render.objects[i];
      DesiredObject& d = desired[i];
      d.ref = kube::ResourceRef{render.kinds[r.kind], r.ns, r.name};
      d.id = manifest::ObjectId{r.ns, r.name, d.ref.gvk.group, d.ref.gvk.kind}.ToString();
      d.version = d.ref.gvk.version;
      std::optional<kube::ObjectPtr> cached = cache(d.ref);
      if (!cached.has_value() || *cached == nullptr) return false;
      known[i].known = memo_.RenderedInSync(key, revision, generation, d.id, **cached);
      if (!known[i].known) return false;
      known[i].desired_hash = known[i].known->desired_hash;
      known[i].cached = std::move(*cached);
    }
    for (size_t i = 0; i < render.objects.size(); ++i) {
      // What the rest of the pass reads of a known object: identity, kind and sync wave (order,
      // definitions, messages).
      const SyncMemo::RenderedObject& r = render.objects[i];
      DesiredObject& d = desired[i];
      const kube::GroupVersionKind& gvk = d.ref.gvk;
      kube::Object o = {
          {"apiVersion", gvk.ApiVersion()}, {"kind", gvk.kind}, {"metadata", {{"name", r.name}}}};
      if (!r.ns.empty()) o["metadata"]["namespace"] = r.ns;
      if (r.sync_wave != 0) {
        o["metadata"]["annotations"][std::string(manifest::kSyncWaveAnnotation)] =
            std::to_string(r.sync_wave);
      }
      // `applied` stays null: only a dry run or a write reads it, and neither happens.
      d.source.json = std::move(o);
    }
    pass = std::move(known);
    return true;
  };
  bool recalled = false;
  if (cache) {
    if (auto render = memo_.Recall(key, revision, generation); render != nullptr) {
      recalled = recall(*render);
      if (!recalled) {
        desired.clear();
        crd_scopes.clear();
        versions.clear();
        placed.clear();
      }
    }
  }
  if (!recalled) {
    auto loaded = manifest::LoadManifests(artifact->directory, app.spec.path);
    if (!loaded.ok()) {
      return fail(kReasonBuildFailed,
                  fmt::format("revision {}: {}", revision, loaded.status().message()));
    }
    std::vector<manifest::Object> objects = std::move(loaded->objects);
    crd_scopes = CrdScopes(objects);
    for (const auto& o : objects) {
      if (auto gk = manifest::GroupKindOf(o.json); gk.ok()) {
        if (auto gv = manifest::ParseApiVersion(o.json.value("apiVersion", "")); gv.ok()) {
          versions[*gk] = gv->version;
        }
      }
    }
    if (Status s =
            manifest::ApplyTargetNamespace(objects, app.spec.target_namespace, is_namespaced);
        !s.ok()) {
      return fail(kReasonBuildFailed, fmt::format("revision {}: {}", revision, s.message()));
    }
    auto prepared = PrepareDesired(objects, app);
    if (!prepared.ok()) {
      return fail(kReasonBuildFailed,
                  fmt::format("revision {}: {}", revision, prepared.status().message()));
    }
    desired = std::move(*prepared);
    std::stable_sort(desired.begin(), desired.end(),
                     [](const DesiredObject& a, const DesiredObject& b) {
                       return manifest::AppliesBefore(a.source.json, b.source.json);
                     });
    pass.resize(desired.size());
  }

  // 5. Validate: the operator's namespace restriction, then a dry run of everything that can be
  // dry-run now.
  if (auto outside = OutOfScope(desired, deps_.scope_namespace, is_namespaced); !outside.empty()) {
    return fail(kReasonValidationFailed,
                fmt::format("revision {}: nothing applied: {}", revision, JoinLines(outside)));
  }
  // The kinds of the desired objects, each once: thousands of objects are of a few kinds.
  std::vector<kube::GroupVersionKind> kinds;
  for (const auto& d : desired) {
    if (std::find(kinds.begin(), kinds.end(), d.ref.gvk) == kinds.end()) kinds.push_back(d.ref.gvk);
  }
  // Watch the served kinds before the dry runs, not only after the first apply: a first sync
  // then finds new objects absent from a synced cache instead of reading each one.
  if (deps_.watcher != nullptr) {
    for (const auto& gvk : kinds) {
      const manifest::GroupKind gk{gvk.group, gvk.kind};
      if (!crd_scopes.contains(gk) || lookup(gk).has_value()) deps_.watcher->Watch(gvk);
    }
  }
  std::set<std::string> new_namespaces;  // Namespaces in the commit that do not exist yet
  for (const auto& d : desired) {
    if (d.ref.gvk.group.empty() && d.ref.gvk.kind == "Namespace") {
      auto ns = deps_.client.Get(d.ref);
      if (!ns.ok() && ns.status().code() == StatusCode::kNotFound) {
        new_namespaces.insert(d.ref.name);
      }
    }
  }
  auto deferred = [&](const DesiredObject& d) {
    if (manifest::IsDefinition(d.source.json)) return false;
    manifest::GroupKind gk{d.ref.gvk.group, d.ref.gvk.kind};
    if (crd_scopes.contains(gk) && !lookup(gk).has_value()) return true;
    return !d.ref.ns.empty() && new_namespaces.contains(d.ref.ns);
  };
  Applier applier(deps_.client, cache);
  auto known_in_sync = [&](size_t i) {
    if (pass[i].known) return true;
    if (!cache) return false;
    std::optional<kube::ObjectPtr> cached = cache(desired[i].ref);
    if (!cached.has_value() || *cached == nullptr) return false;
    pass[i].known =
        memo_.InSync(key, revision, generation, desired[i].id, pass[i].desired_hash, **cached);
    if (!pass[i].known) return false;
    pass[i].cached = std::move(*cached);
    return true;
  };
  // Dry-runs the objects `indices` names, several at once; their failures in object order.
  auto preview_all = [&](const std::vector<size_t>& all) {
    // Objects already known in sync (a recalled render) need no helper thread.
    std::vector<size_t> indices;
    for (size_t i : all) {
      if (!pass[i].known) indices.push_back(i);
    }
    std::vector<std::string> errors(indices.size());
    ForEachParallel(indices.size(), deps_.parallel_requests, [&](size_t k) {
      const size_t i = indices[k];
      if (known_in_sync(i)) return;
      auto p = applier.PreviewApply(desired[i]);
      if (!p.ok()) {
        errors[k] = p.status().message();
        return;
      }
      pass[i].preview = std::move(*p);
    });
    std::vector<std::string> problems;
    for (std::string& e : errors) {
      if (!e.empty()) problems.push_back(std::move(e));
    }
    return problems;
  };
  bool any_deferred = false;
  std::vector<size_t> now_indices;
  for (size_t i = 0; i < desired.size(); ++i) {
    if (deferred(desired[i])) {
      any_deferred = true;
    } else {
      now_indices.push_back(i);
    }
  }
  if (!recalled) {
    ForEachParallel(desired.size(), deps_.parallel_requests,
                    [&](size_t i) { pass[i].desired_hash = DesiredHash(desired[i].applied); });
  }
  if (auto problems = preview_all(now_indices); !problems.empty()) {
    return fail(kReasonValidationFailed,
                fmt::format("revision {}: nothing applied: {}", revision, JoinLines(problems)));
  }

  // 6. Apply in order; the definitions first, then what had to wait for them. Objects of the
  // same rank (definition or not, sync wave, kind order) do not depend on each other: they are
  // written several at once, and a rank starts only when the one before it is done.
  std::vector<std::string> changes;
  auto rank = [&](size_t i) {
    const kube::Object& o = desired[i].source.json;
    const bool definition = manifest::IsDefinition(o);
    return std::tuple(definition ? 0 : 1, definition ? 0 : manifest::SyncWaveOrDefault(o),
                      manifest::KindOrder(desired[i].ref.gvk.kind));
  };
  std::vector<ApplyAction> actions(desired.size(), ApplyAction::kUnchanged);
  std::vector<Status> apply_errors(desired.size());
  auto apply_group = [&](const std::vector<size_t>& group) -> Status {
    std::vector<size_t> writes;
    for (size_t i : group) {
      if (!pass[i].known) writes.push_back(i);
    }
    ForEachParallel(writes.size(), deps_.parallel_requests, [&](size_t k) {
      const size_t i = writes[k];
      auto applied = applier.Apply(desired[i], *pass[i].preview);
      if (!applied.ok()) {
        apply_errors[i] = applied.status();
        return;
      }
      actions[i] = applied->action;
      pass[i].written = std::move(applied->object);
    });
    Status first_error;
    // One metric update per action, not per object: a no-op resync counts thousands.
    std::map<ApplyAction, int> counts;
    for (size_t i : group) {
      if (!apply_errors[i].ok()) {
        if (first_error.ok()) first_error = apply_errors[i];
        continue;
      }
      ++counts[actions[i]];
      if (actions[i] != ApplyAction::kUnchanged) {
        changes.push_back(fmt::format("{} {}", kube::Describe(desired[i].source.json),
                                      ApplyActionName(actions[i])));
      }
    }
    for (const auto& [action, n] : counts) deps_.metrics.CountApply(ApplyActionName(action), n);
    return first_error;
  };
  // Applies the objects `include` selects, rank by rank, in order.
  auto apply_in_order = [&](const std::function<bool(size_t)>& include) -> Status {
    std::vector<size_t> group;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!include(i)) continue;
      if (!group.empty() && rank(group.front()) != rank(i)) {
        GANTRY_RETURN_IF_ERROR(apply_group(group));
        group.clear();
      }
      group.push_back(i);
    }
    return group.empty() ? Status() : apply_group(group);
  };
  // The object as the server holds it after this pass, as far as the pass has seen it.
  auto current = [&](size_t i) -> const kube::Object& {
    if (pass[i].known) return *pass[i].cached;
    if (!pass[i].written.is_null()) return pass[i].written;
    return pass[i].preview->live;
  };
  auto is_definition = [&](size_t i) { return manifest::IsDefinition(desired[i].source.json); };
  if (any_deferred) {
    if (Status s = apply_in_order(is_definition); !s.ok()) {
      if (!changes.empty()) emit(false, "Progressing", JoinLines(changes));
      return fail(kReasonApplyFailed, fmt::format("revision {}: {}", revision, s.message()));
    }
    unserved.clear();
    std::vector<size_t> later;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (pass[i].preview || pass[i].known) continue;
      manifest::GroupKind gk{desired[i].ref.gvk.group, desired[i].ref.gvk.kind};
      if (crd_scopes.contains(gk) && !lookup(gk).has_value()) {
        std::string message = fmt::format(
            "revision {}: waiting for the API server to serve {} (its CRD was just applied)",
            revision, gk.ToString());
        if (!changes.empty()) emit(false, "Progressing", JoinLines(changes));
        api::MarkReconciling(app.status.conditions, generation, api::kReasonProgressing, message,
                             now);
        if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
        return ReconcileResult::Waiting(std::chrono::seconds(1), message);
      }
      later.push_back(i);
    }
    if (auto problems = preview_all(later); !problems.empty()) {
      return fail(kReasonValidationFailed,
                  fmt::format("revision {}: only Namespaces and CRDs applied: {}", revision,
                              JoinLines(problems)));
    }
  }
  if (Status s = apply_in_order([&](size_t i) { return !any_deferred || !is_definition(i); });
      !s.ok()) {
    if (!changes.empty()) emit(false, "Progressing", JoinLines(changes));
    return fail(kReasonApplyFailed, fmt::format("revision {}: {}", revision, s.message()));
  }

  // Remember what every object is now, for the next pass of this revision and generation.
  {
    std::vector<SyncMemo::Entry> entries;
    entries.reserve(desired.size());
    for (size_t i = 0; i < desired.size(); ++i) {
      if (pass[i].known) {
        entries.push_back(std::move(*pass[i].known));
        continue;
      }
      const kube::Object& now_live = current(i);
      if (now_live.is_null()) continue;
      entries.push_back(SyncMemo::Entry{desired[i].id, pass[i].desired_hash,
                                        kube::ResourceVersionOf(now_live), ContentHash(now_live)});
    }
    auto render = std::make_shared<SyncMemo::Render>();
    render->objects.reserve(desired.size());
    for (const DesiredObject& d : desired) {
      auto kind = std::find(render->kinds.begin(), render->kinds.end(), d.ref.gvk);
      if (kind == render->kinds.end()) kind = render->kinds.insert(kind, d.ref.gvk);
      // The recall derives the id and version from the reference; an object for which that
      // would not give back the same is never recalled.
      if (d.version != d.ref.gvk.version ||
          d.id != manifest::ObjectId{d.ref.ns, d.ref.name, d.ref.gvk.group, d.ref.gvk.kind}
                      .ToString()) {
        render = nullptr;
        break;
      }
      render->objects.push_back(SyncMemo::RenderedObject{
          static_cast<uint32_t>(kind - render->kinds.begin()),
          manifest::SyncWaveOrDefault(d.source.json), d.ref.ns, d.ref.name});
    }
    if (render != nullptr) {
      for (const auto& [gk, namespaced] : placed) {
        render->scopes.push_back(
            SyncMemo::KindScope{gk, versions[gk], crd_scopes.contains(gk), namespaced});
      }
    }
    memo_.Remember(key, revision, generation, std::move(entries), std::move(render));
  }

  // The inventory is what is applied now; entries kept by prune stay.
  std::vector<api::InventoryEntry> inventory;
  std::set<std::string> ids;
  for (const auto& d : desired) {
    if (ids.insert(d.id).second) inventory.push_back(api::InventoryEntry{d.id, d.version, {}});
  }

  // 7. Prune.
  std::vector<std::string> prune_notes;
  if (app.spec.prune) {
    PruneResult pruned;
    Status s = PruneStale(deps_.client, key, before.inventory, ids, pruned);
    deps_.metrics.CountApply("pruned", static_cast<int>(pruned.deleted.size()));
    for (const auto& d : pruned.deleted) changes.push_back(d + " pruned");
    for (const auto& e : pruned.remaining) {
      if (ids.insert(e.id).second) inventory.push_back(e);
    }
    if (!s.ok()) {
      app.status.inventory = inventory;
      if (!changes.empty()) emit(false, "Progressing", JoinLines(changes));
      return fail(kReasonPruneFailed, fmt::format("revision {}: {}", revision, s.message()));
    }
  }
  app.status.inventory = inventory;

  // 8. Health.
  manifest::Health worst = manifest::Health::kHealthy;
  std::string worst_message;
  std::vector<api::ResourceStatus> resources;
  // From what the pass already holds (the write's answer, the live object it compared with, or
  // the watch cache's copy), all carrying status: no second read of every object.
  for (size_t i = 0; i < desired.size(); ++i) {
    const DesiredObject& d = desired[i];
    manifest::HealthStatus health = manifest::ComputeHealth(current(i));
    if (manifest::IsWorse(health.status, worst)) {
      worst = health.status;
      worst_message = fmt::format(
          "{}: {}", kube::Describe(d.source.json),
          health.message.empty() ? manifest::HealthName(health.status) : health.message);
    }
    api::ResourceStatus r;
    r.group = d.ref.gvk.group;
    r.version = d.ref.gvk.version;
    r.kind = d.ref.gvk.kind;
    r.namespace_ = d.ref.ns;
    r.name = d.ref.name;
    r.status = api::SyncStatusCode::kSynced;
    r.health = api::HealthInfo{ToApiHealth(health.status), health.message, {}};
    resources.push_back(std::move(r));
  }
  app.status.resources = std::move(resources);
  app.status.health = api::HealthInfo{ToApiHealth(worst), worst_message, {}};
  app.status.last_applied_revision = revision;
  app.status.sync = api::SyncInfo{api::SyncStatusCode::kSynced, revision, {}};

  if (!changes.empty()) emit(false, "ApplySucceeded", JoinLines(changes));

  // 9. Ready, or waiting for health.
  // Watched with or without selfHeal: the watch cache is also what the next pass compares with.
  if (deps_.watcher != nullptr) {
    for (const auto& gvk : kinds) deps_.watcher->Watch(gvk);
  }
  if (app.spec.wait && worst != manifest::Health::kHealthy) {
    // The wait for health starts when a revision (or generation) is first applied; its start is
    // the lastTransitionTime of Reconciling=True HealthCheckPending. Once timed out, Ready stays
    // False HealthCheckFailed for that revision and generation until the objects are healthy:
    // going back to pending would restart the timer and make Ready flip between the two.
    const bool same_target =
        before.last_applied_revision == revision && before.observed_generation == generation;
    const api::Condition* ready_before =
        api::FindCondition(before.conditions, api::kConditionReady);
    const api::Condition* reconciling =
        api::FindCondition(before.conditions, api::kConditionReconciling);
    bool timed_out = false;
    if (same_target && ready_before != nullptr && ready_before->status == api::kConditionFalse &&
        ready_before->reason == kReasonHealthCheckFailed) {
      timed_out = true;
    } else if (same_target && reconciling != nullptr &&
               reconciling->reason == kReasonHealthCheckPending &&
               reconciling->last_transition_time) {
      timed_out = now - *reconciling->last_transition_time >= app.spec.Timeout();
    } else {
      // A new wait: MarkReconciling below stamps `now` as its start.
      api::RemoveCondition(app.status.conditions, api::kConditionReconciling);
    }
    if (timed_out) {
      std::string message = fmt::format("revision {}: not healthy after {}: {}", revision,
                                        FormatDuration(app.spec.Timeout()), worst_message);
      api::MarkFailed(app.status.conditions, generation, kReasonHealthCheckFailed, message, now);
      if (ready_changed()) emit(true, kReasonHealthCheckFailed, message);
      if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
      return ReconcileResult::Waiting(deps_.poll_interval, message);
    }
    api::MarkReconciling(
        app.status.conditions, generation, kReasonHealthCheckPending,
        fmt::format("revision {} applied; waiting for health: {}", revision, worst_message), now);
    if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
    return ReconcileResult::Waiting(deps_.poll_interval, worst_message);
  }
  api::MarkReady(app.status.conditions, generation, kReasonReconciliationSucceeded,
                 fmt::format("Applied revision: {}", revision), now);
  if (ready_changed() && changes.empty()) {
    emit(false, kReasonReconciliationSucceeded, fmt::format("Applied revision: {}", revision));
  }
  if (Status s = write_status(); !s.ok()) return ReconcileResult::Error(s);
  return ReconcileResult::Done(app.spec.Interval());
}

}  // namespace gantry::reconcilers
