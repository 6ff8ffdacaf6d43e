#include "operator/rollout/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <utility>

namespace gantry::rollout {
namespace {

class ApiObjectReader final : public ObjectReader {
 public:
  explicit ApiObjectReader(kube::KubeClient& client) : client_(client) {}

  // ObjectReader
  Result<kube::ObjectPtr> Get(const kube::ResourceRef& ref) override {
    Result<kube::Object> got = client_.Get(ref);
    if (!got.ok()) return got.status();
    return std::make_shared<const kube::Object>(std::move(got).value());
  }

  Result<std::vector<kube::ObjectPtr>> List(const kube::GroupVersionKind& gvk,
                                            const std::string& ns,
                                            const kube::LabelSelector& selector) override {
    kube::ListOptions options;
    options.label_selector = selector.ToString();
    Result<kube::ObjectList> list = client_.ListAll(gvk, ns, options);
    if (!list.ok()) return list.status();
    std::vector<kube::ObjectPtr> out;
    out.reserve(list->items.size());
    for (kube::Object& item : list->items) {
      out.push_back(std::make_shared<const kube::Object>(std::move(item)));
    }
    std::sort(out.begin(), out.end(), [](const kube::ObjectPtr& a, const kube::ObjectPtr& b) {
      return kube::NameOf(*a) < kube::NameOf(*b);
    });
    return out;
  }

  void Wrote(const kube::ResourceRef&, const std::string&) override {}

 private:
  kube::KubeClient& client_;
};

class InformerObjectReader final : public ObjectReader {
 public:
  InformerObjectReader(kube::KubeClient& client, Clock& clock,
                       std::vector<const kube::SharedInformer*> informers, std::string ns)
      : api_(client), clock_(clock), ns_(std::move(ns)) {
    for (const kube::SharedInformer* informer : informers) informers_[informer->gvk()] = informer;
  }

  // ObjectReader
  Result<kube::ObjectPtr> Get(const kube::ResourceRef& ref) override {
    const kube::SharedInformer* informer = CacheFor(ref.gvk, ref.ns);
    if (informer == nullptr) return api_.Get(ref);
    kube::ObjectPtr cached = informer->Get({ref.ns, ref.name});
    if (Behind(ref, cached)) return api_.Get(ref);
    if (cached == nullptr) {
      return Status(StatusCode::kNotFound,
                    fmt::format("{} {}/{} not found", ref.gvk.kind, ref.ns, ref.name));
    }
    return cached;
  }

  Result<std::vector<kube::ObjectPtr>> List(const kube::GroupVersionKind& gvk,
                                            const std::string& ns,
                                            const kube::LabelSelector& selector) override {
    const kube::SharedInformer* informer = CacheFor(gvk, ns);
    if (informer == nullptr) return api_.List(gvk, ns, selector);
    std::vector<kube::ObjectPtr> cached = informer->List(ns, selector);
    if (AnyBehind(*informer, gvk, ns)) return api_.List(gvk, ns, selector);
    return cached;  // sorted by key: within one namespace, by name
  }

  void Wrote(const kube::ResourceRef& ref, const std::string& replaced) override {
    if (CacheFor(ref.gvk, ref.ns) == nullptr) return;
    std::lock_guard lock(mu_);
    ExpireLocked();
    // Two writes in a row before the cache caught up with the first: the cache is behind as
    // long as it shows either version the writes replaced.
    Note& note = notes_[NoteKey{ref.gvk, ref.ns, ref.name}];
    note.replaced.insert(replaced);
    note.at = clock_.Now();
  }

 private:
  struct NoteKey {
    kube::GroupVersionKind gvk;
    std::string ns;
    std::string name;
    auto operator<=>(const NoteKey&) const = default;
  };
  struct Note {
    std::set<std::string> replaced;  // resourceVersions the writes replaced; "" for a create
    Clock::TimePoint at;             // of the latest write
  };

  // The informer that can answer for `gvk` in `ns`, or null.
  const kube::SharedInformer* CacheFor(const kube::GroupVersionKind& gvk,
                                       const std::string& ns) const {
    auto it = informers_.find(gvk);
    if (it == informers_.end() || !it->second->HasSynced()) return nullptr;
    if (!ns_.empty() && ns != ns_) return nullptr;
    return it->second;
  }

  // True when `cached` (null: absent from the cache) does not yet show the noted write of
  // `ref`. A note the cache has caught up with is dropped.
  bool Behind(const kube::ResourceRef& ref, const kube::ObjectPtr& cached) {
    std::lock_guard lock(mu_);
    auto it = notes_.find(NoteKey{ref.gvk, ref.ns, ref.name});
    if (it == notes_.end()) return false;
    if (Expired(it->second) || !StillBehind(it->second, cached)) {
      notes_.erase(it);
      return false;
    }
    return true;
  }

  // True when any noted write of `gvk` in `ns` is not in the cache yet.
  bool AnyBehind(const kube::SharedInformer& informer, const kube::GroupVersionKind& gvk,
                 const std::string& ns) {
    std::lock_guard lock(mu_);
    bool behind = false;
    auto it = notes_.lower_bound(NoteKey{gvk, ns, ""});
    while (it != notes_.end() && it->first.gvk == gvk && it->first.ns == ns) {
      if (Expired(it->second) ||
          !StillBehind(it->second, informer.Get({it->first.ns, it->first.name}))) {
        it = notes_.erase(it);
        continue;
      }
      behind = true;
      ++it;
    }
    return behind;
  }

  static bool StillBehind(const Note& note, const kube::ObjectPtr& cached) {
    if (cached == nullptr) return note.replaced.contains("");  // created, not delivered yet
    return note.replaced.contains(kube::ResourceVersionOf(*cached));
  }

  bool Expired(const Note& note) const { return clock_.Now() - note.at > kWriteNoteTtl; }

  void ExpireLocked() {
    for (auto it = notes_.begin(); it != notes_.end();) {
      it = Expired(it->second) ? notes_.erase(it) : std::next(it);
    }
  }

  ApiObjectReader api_;
  Clock& clock_;
  const std::string ns_;
  std::map<kube::GroupVersionKind, const kube::SharedInformer*> informers_;

  std::mutex mu_;  // guards notes_
  std::map<NoteKey, Note> notes_;
};

}  // namespace

std::unique_ptr<ObjectReader> NewApiObjectReader(kube::KubeClient& client) {
  return std::make_unique<ApiObjectReader>(client);
}

std::unique_ptr<ObjectReader> NewInformerObjectReader(
    kube::KubeClient& client, Clock& clock, std::vector<const kube::SharedInformer*> informers,
    std::string ns) {
  return std::make_unique<InformerObjectReader>(client, clock, std::move(informers), std::move(ns));
}

}  // namespace gantry::rollout
