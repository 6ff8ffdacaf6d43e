// ManagedObjectWatcher: the watch behind an Application's selfHeal, and the cache its sync
// compares with. One informer per kind that any Application's inventory holds, restricted to
// objects labelled app.kubernetes.io/managed-by=gantry; when such an object changes (anything
// but status and server-filled metadata) or is deleted, the Application named by its
// gantry.io/application-* labels is enqueued at once, if that Application has selfHeal on, so a
// hand edit is reverted without waiting for spec.interval.
//
// The same informers hold every managed object as the watch last delivered it (status
// included, managedFields and kubectl's last-applied annotation stripped). The sync reads live
// objects from there instead of GETting each one (Argo CD compares against its cluster cache
// the same way); Cached() says when the cache cannot answer, so the caller reads the server.
//
// Thread-safe: one mutex guards the informer map and the self-heal set; handlers run on the
// informers' threads and only enqueue.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "operator/kube/informer.h"
#include "operator/kube/kube_client.h"

namespace gantry::reconcilers {

class ManagedObjectWatcher {
 public:
  // `enqueue` is called with the Application's key, from informer threads. `ns` limits the
  // watches to one namespace (the operator's --namespace; "" for all), so that a namespaced
  // installation needs no cluster-wide list permission.
  ManagedObjectWatcher(kube::KubeClient& client,
                       std::function<void(const kube::ObjectKey& app)> enqueue,
                       std::string ns = "");
  ~ManagedObjectWatcher();  // stops every informer
  ManagedObjectWatcher(const ManagedObjectWatcher&) = delete;
  ManagedObjectWatcher& operator=(const ManagedObjectWatcher&) = delete;

  // Makes sure objects of `gvk` are watched (starts an informer the first time).
  void Watch(const kube::GroupVersionKind& gvk);
  // Whether changes to the objects of `app` should enqueue it.
  void SetSelfHeal(const kube::ObjectKey& app, bool enabled);
  size_t WatchedKinds() const;
  // True when every informer started so far has listed once.
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // The cached copy of a managed object. nullopt when the cache cannot answer: its kind is not
  // watched yet, or its informer has not listed once. A null pointer when the kind's cache is
  // synced but holds no such object (absent, not labelled as managed, or its creation not yet
  // delivered by the watch). The object may lag the server by the watch's latency: callers
  // compare its metadata.resourceVersion with one the server just returned before trusting it.
  std::optional<kube::ObjectPtr> Cached(const kube::ResourceRef& ref) const;

 private:
  void OnChange(const kube::Object& object);

  kube::KubeClient& client_;
  const std::function<void(const kube::ObjectKey&)> enqueue_;
  const std::string ns_;
  mutable std::mutex mu_;  // guards informers_ and self_heal_
  std::map<std::string, std::unique_ptr<kube::SharedInformer>> informers_;  // by group/kind
  std::set<kube::ObjectKey> self_heal_;
};

}  // namespace gantry::reconcilers
