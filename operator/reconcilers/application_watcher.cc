#include "operator/reconcilers/application_watcher.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "operator/manifest/normalize.h"
#include "operator/reconcilers/application_apply.h"

namespace gantry::reconcilers {

ManagedObjectWatcher::ManagedObjectWatcher(kube::KubeClient& client,
                                           std::function<void(const kube::ObjectKey&)> enqueue,
                                           std::string ns)
    : client_(client), enqueue_(std::move(enqueue)), ns_(std::move(ns)) {}

ManagedObjectWatcher::~ManagedObjectWatcher() {
  std::map<std::string, std::unique_ptr<kube::SharedInformer>> informers;
  {
    std::lock_guard lock(mu_);
    informers.swap(informers_);
  }
  for (auto& [kind, informer] : informers) informer->Stop();
}

void ManagedObjectWatcher::SetSelfHeal(const kube::ObjectKey& app, bool enabled) {
  std::lock_guard lock(mu_);
  if (enabled) {
    self_heal_.insert(app);
  } else {
    self_heal_.erase(app);
  }
}

size_t ManagedObjectWatcher::WatchedKinds() const {
  std::lock_guard lock(mu_);
  return informers_.size();
}

bool ManagedObjectWatcher::WaitForSync(std::chrono::milliseconds timeout) const {
  std::vector<kube::SharedInformer*> informers;
  {
    std::lock_guard lock(mu_);
    for (const auto& [kind, informer] : informers_) informers.push_back(informer.get());
  }
  for (auto* informer : informers) {
    if (!informer->WaitForSync(timeout)) return false;
  }
  return true;
}

std::optional<kube::ObjectPtr> ManagedObjectWatcher::Cached(const kube::ResourceRef& ref) const {
  const kube::SharedInformer* informer = nullptr;
  {
    std::lock_guard lock(mu_);
    auto it = informers_.find(ref.gvk.group + "/" + ref.gvk.kind);
    if (it == informers_.end()) return std::nullopt;
    informer = it->second.get();
  }
  // Informers are only removed by the destructor, so the pointer stays valid after the lock.
  if (!informer->HasSynced()) return std::nullopt;
  return informer->Get(kube::ObjectKey{ref.ns, ref.name});
}

void ManagedObjectWatcher::OnChange(const kube::Object& object) {
  const kube::Object& labels = kube::LabelsOf(object);
  kube::ObjectKey app{labels.value(std::string(kApplicationNamespaceLabel), ""),
                      labels.value(std::string(kApplicationNameLabel), "")};
  if (app.name.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (!self_heal_.contains(app)) return;
  }
  spdlog::debug("self-heal: {} changed, enqueueing Application {}", kube::Describe(object),
                app.ToString());
  enqueue_(app);
}

void ManagedObjectWatcher::Watch(const kube::GroupVersionKind& gvk) {
  std::lock_guard lock(mu_);
  const std::string key = gvk.group + "/" + gvk.kind;
  if (informers_.contains(key)) return;
  kube::InformerOptions options;
  options.ns = ns_;
  options.label_selector = std::string(kManagedByLabel) + "=" + std::string(kManagedByValue);
  // Packed: this cache grows with every object Gantry manages, and is read about once per
  // object per pass.
  options.storage = kube::CacheStorage::kPacked;
  auto informer = std::make_unique<kube::SharedInformer>(client_, gvk, options);
  informer->AddEventHandler(kube::EventHandler{
      nullptr,
      [this](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
        // Status and server bookkeeping change all the time; only user-visible fields count.
        if (manifest::StripServerFields(*before) == manifest::StripServerFields(*after)) return;
        OnChange(*after);
      },
      [this](const kube::ObjectPtr& gone) { OnChange(*gone); }});
  informer->Start();
  informers_.emplace(key, std::move(informer));
}

}  // namespace gantry::reconcilers
