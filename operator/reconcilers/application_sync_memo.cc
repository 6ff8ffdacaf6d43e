#include "operator/reconcilers/application_sync_memo.h"

#include <utility>

#include "operator/manifest/normalize.h"
#include "operator/reconcilers/application_apply.h"

namespace gantry::reconcilers {

std::string DesiredHash(const kube::Object& applied) {
  // nlohmann::json keeps object keys sorted, so equal objects dump to equal text.
  return manifest::Sha256Hex(
      applied.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::optional<SyncMemo::Entry> SyncMemo::InSync(const kube::ObjectKey& app,
                                                const std::string& revision, int64_t generation,
                                                const std::string& id,
                                                const std::string& desired_hash,
                                                const kube::Object& cached) const {
  return Check(app, revision, generation, id, &desired_hash, cached);
}

std::optional<SyncMemo::Entry> SyncMemo::RenderedInSync(const kube::ObjectKey& app,
                                                        const std::string& revision,
                                                        int64_t generation, const std::string& id,
                                                        const kube::Object& cached) const {
  return Check(app, revision, generation, id, nullptr, cached);
}

std::optional<SyncMemo::Entry> SyncMemo::Check(const kube::ObjectKey& app,
                                               const std::string& revision, int64_t generation,
                                               const std::string& id,
                                               const std::string* desired_hash,
                                               const kube::Object& cached) const {
  Entry entry;
  {
    std::lock_guard lock(mu_);
    auto a = apps_.find(app);
    if (a == apps_.end() || a->second.revision != revision || a->second.generation != generation) {
      return std::nullopt;
    }
    auto o = a->second.objects.find(id);
    if (o == a->second.objects.end() ||
        (desired_hash != nullptr && o->second.desired_hash != *desired_hash)) {
      return std::nullopt;
    }
    entry = Entry{id, o->second.desired_hash, o->second.resource_version, o->second.content_hash};
  }
  const std::string& version = kube::ResourceVersionOf(cached);
  if (version.empty()) return std::nullopt;
  if (version == entry.resource_version) return entry;
  // Someone wrote the object since: in sync only if what a dry run compares is unchanged.
  // Hashed outside the lock, so that other Applications' passes need not wait for it.
  if (entry.content_hash.empty() || ContentHash(cached) != entry.content_hash) return std::nullopt;
  entry.resource_version = version;
  return entry;
}

void SyncMemo::Remember(const kube::ObjectKey& app, const std::string& revision, int64_t generation,
                        std::vector<Entry> entries, std::shared_ptr<const Render> render) {
  AppState state;
  state.render = std::move(render);
  state.revision = revision;
  state.generation = generation;
  state.objects.reserve(entries.size());
  for (Entry& e : entries) {
    state.objects[e.id] = ObjectState{std::move(e.desired_hash), std::move(e.resource_version),
                                      std::move(e.content_hash)};
  }
  std::lock_guard lock(mu_);
  apps_[app] = std::move(state);
}

std::shared_ptr<const SyncMemo::Render> SyncMemo::Recall(const kube::ObjectKey& app,
                                                         const std::string& revision,
                                                         int64_t generation) const {
  std::lock_guard lock(mu_);
  auto a = apps_.find(app);
  if (a == apps_.end() || a->second.revision != revision || a->second.generation != generation) {
    return nullptr;
  }
  return a->second.render;
}

void SyncMemo::Forget(const kube::ObjectKey& app) {
  std::lock_guard lock(mu_);
  apps_.erase(app);
}

size_t SyncMemo::Size(const kube::ObjectKey& app) const {
  std::lock_guard lock(mu_);
  auto a = apps_.find(app);
  return a == apps_.end() ? 0 : a->second.objects.size();
}

}  // namespace gantry::reconcilers
