// SharedInformer: a local, always-current copy of one kind's objects, kept by list + watch,
// with event handlers that tell controllers what changed.
//
// How it stays current (client-go's Reflector):
//   1. List every page at the latest version; the cache becomes exactly that list (handlers
//      hear adds, updates and deletes relative to what it held before). HasSynced() turns
//      true after the first list.
//   2. Watch from the list's resourceVersion, with bookmarks, applying each event and
//      remembering the newest resourceVersion seen.
//   3. When the server ends the watch normally, watch again from the remembered version.
//      When the stream or the API server dies, back off (0.8s doubling to 30s, jittered) and
//      watch again from the remembered version, so nothing is missed or replayed. When the
//      server says the version is gone (410: compacted, or the API server restarted with an
//      empty watch cache), go back to 1: the relist's delta reports exactly what changed
//      while the watch was away, including deletions.
//
// Memory: objects are stored after stripping metadata.managedFields and the kubectl
// last-applied-configuration annotation (neither is read by controllers and together they
// often exceed the rest of the object), then after the caller's transform, which should keep
// only the fields its controller reads; an informer whose cache grows with what Gantry manages
// and is read about once per object per pass stores them packed (InformerOptions::storage).
//
// Threads: one background thread per informer runs the loop and calls the handlers, in
// event order; handlers must be quick (enqueue a key, not reconcile). Get/List/ByIndex are
// safe from any thread at any time and return immutable shared objects.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube/kube_client.h"
#include "operator/kube/object_cache.h"

namespace gantry::kube {

// Receives changes of the cached objects on the informer's thread. Any member may be empty.
struct EventHandler {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;
};

// Removes managedFields and the last-applied-configuration annotation (in place).
void StripForCache(Object& object);

struct InformerOptions {
  std::string ns;  // "" for all namespaces
  std::string label_selector;
  std::string field_selector;
  // Applied to each object after StripForCache, before it is cached; must keep metadata's
  // name, namespace and resourceVersion.
  std::function<void(Object&)> transform;
  // How the cache holds objects (see object_cache.h): kPacked costs a fraction of the memory
  // and a decode on every Get, List and ByIndex, each of which then returns a fresh copy.
  CacheStorage storage = CacheStorage::kTree;
  int64_t page_size = kDefaultPageSize;
  // Each watch asks the server to end it after a random time in [watch_timeout,
  // 2*watch_timeout), so that many informers do not all reconnect at once.
  std::chrono::seconds watch_timeout{300};
  // Between failed lists or watches (jittered). The cap is short because the backoff is what
  // separates the API server's return from the controllers seeing changes again: at 30 s
  // (client-go's), an informer that failed through a 30 s restart stayed blind for 20 s after
  // it. A failing attempt every 5 s costs the server nothing.
  std::chrono::milliseconds initial_backoff{800};
  std::chrono::milliseconds max_backoff{5'000};
};

// Counters for tests and metrics; a snapshot.
struct InformerStats {
  int lists = 0;    // completed (re)lists
  int watches = 0;  // watch requests started
  std::string last_error;
};

class SharedInformer {
 public:
  SharedInformer(KubeClient& client, GroupVersionKind gvk, InformerOptions options = {});
  ~SharedInformer();  // Stop()s
  SharedInformer(const SharedInformer&) = delete;
  SharedInformer& operator=(const SharedInformer&) = delete;

  // Adds a handler. If objects are already cached, the handler first hears an add for each,
  // then every later change. Safe from any thread.
  void AddEventHandler(EventHandler handler);
  // Adds a cache index (see ObjectCache); only before Start().
  Status AddIndex(const std::string& name, ObjectCache::IndexFunc func);

  // Starts the background thread. Idempotent.
  void Start();
  // Stops the thread and waits for it; in-flight handler calls finish first. Idempotent.
  void Stop();

  // True once the first list is in the cache and handlers have heard of it.
  bool HasSynced() const { return synced_.load(); }
  // Waits until HasSynced() or the timeout passes; returns HasSynced().
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  ObjectPtr Get(const ObjectKey& key) const { return cache_.Get(key); }
  std::vector<ObjectPtr> List(const std::string& ns = "",
                              const LabelSelector& selector = LabelSelector()) const {
    return cache_.List(ns, selector);
  }
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const {
    return cache_.ByIndex(index, value);
  }
  size_t Size() const { return cache_.Size(); }

  const GroupVersionKind& gvk() const { return gvk_; }
  // The newest resourceVersion applied to the cache.
  std::string LastResourceVersion() const;
  InformerStats Stats() const;

 private:
  void Run(std::stop_token stop);
  // Lists all pages and replaces the cache; sets `resource_version`.
  Status ListAndReplace(std::stop_token stop, std::string& resource_version);
  Status WatchOnce(std::stop_token stop, std::string& resource_version);
  ObjectPtr Prepare(Object object) const;
  void Dispatch(const std::function<void(const EventHandler&)>& call);
  // Sleeps for `d` unless stopped first; returns false when stopped.
  bool SleepFor(std::stop_token stop, std::chrono::milliseconds d);
  void RecordError(const Status& s);

  KubeClient& client_;
  const GroupVersionKind gvk_;
  const InformerOptions options_;
  ObjectCache cache_;

  std::mutex handlers_mu_;  // guards handlers_; held while handlers run, so they see order
  std::vector<EventHandler> handlers_;

  mutable std::mutex mu_;  // guards stats_, resource_version_, thread_
  mutable std::condition_variable_any synced_cv_;
  InformerStats stats_;
  std::string resource_version_;
  std::jthread thread_;
  std::atomic<bool> synced_{false};
};

}  // namespace gantry::kube
