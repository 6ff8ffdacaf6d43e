// ObjectCache: the thread-safe store behind an informer, with indexes.
//
// Objects are handed out as shared_ptr<const Object>: readers get an immutable object and keep
// it valid however long they hold it, while the cache replaces its own copy on the next update
// (copy-on-write, never mutation in place). Two indexes always exist: by namespace and by label
// "key=value"; a controller may add its own (e.g. by owner uid) before the first object
// arrives. One shared_mutex guards everything: many readers, one writer.
//
// How objects are held is chosen at construction (CacheStorage):
//   kTree    the parsed objects; a read returns the cached object itself, at no cost. For the
//            caches that controllers read on every pass (their own kinds).
//   kPacked  each object as MessagePack, a fraction of the parsed tree's memory (nlohmann::json
//            spends a map node, a string and an allocation or two on every field: a small
//            ConfigMap takes ~3 KB as a tree and ~0.4 KB packed). Every read decodes a fresh
//            copy, a few microseconds for such an object, and two reads of one version return
//            equal objects but not the same pointer. For caches that grow with the number of
//            objects Gantry manages and are read about once per object per pass.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "operator/common/status.h"
#include "operator/kube/label_selector.h"
#include "operator/kube/object.h"

namespace gantry::kube {

using ObjectPtr = std::shared_ptr<const Object>;

enum class CacheStorage { kTree, kPacked };

class ObjectCache {
 public:
  // Index values of one object (empty: not indexed).
  using IndexFunc = std::function<std::vector<std::string>(const Object&)>;
  static constexpr char kNamespaceIndex[] = "namespace";
  static constexpr char kLabelIndex[] = "label";  // values "key=value"

  explicit ObjectCache(CacheStorage storage = CacheStorage::kTree);
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;

  // Registers an index. InvalidArgument if the name is taken or the cache is not empty.
  Status AddIndex(const std::string& name, IndexFunc func);

  // Inserts or replaces by the object's key; returns the previous object or null.
  ObjectPtr Upsert(ObjectPtr object);
  // Removes; returns the removed object or null.
  ObjectPtr Remove(const ObjectKey& key);

  // What Replace changed, in the order handlers should hear about it.
  struct ReplaceDelta {
    std::vector<ObjectPtr> added;
    std::vector<std::pair<ObjectPtr, ObjectPtr>> updated;  // old, new; resourceVersion differs
    std::vector<ObjectPtr> deleted;
  };
  // Makes the cache hold exactly `objects` (the result of a relist).
  ReplaceDelta Replace(std::vector<ObjectPtr> objects);

  ObjectPtr Get(const ObjectKey& key) const;
  // Objects in `ns` ("" for all) matching `selector`, sorted by key. Uses the namespace and
  // label indexes to avoid a scan where it can.
  std::vector<ObjectPtr> List(const std::string& ns = "",
                              const LabelSelector& selector = LabelSelector()) const;
  // Objects whose index `name` has `value`, sorted by key; empty for an unknown index.
  std::vector<ObjectPtr> ByIndex(const std::string& name, const std::string& value) const;
  size_t Size() const;
  CacheStorage storage() const { return storage_; }

 private:
  // One cached object: `object` with kTree, `packed` (MessagePack) with kPacked.
  struct Entry {
    ObjectPtr object;
    std::string packed;
  };
  // Index entries point at the key inside objects_, which stays put until its entry is erased
  // (unordered_map nodes never move), rather than holding a copy of the key per index value.
  using KeyRef = const std::string*;
  struct Index {
    IndexFunc func;
    std::unordered_map<std::string, std::unordered_set<KeyRef>> keys_by_value;
  };

  Entry Store(ObjectPtr object) const;
  ObjectPtr Load(const Entry& entry) const;
  void IndexLocked(KeyRef key, const Object& object);
  void UnindexLocked(KeyRef key, const Object& object);
  std::vector<ObjectPtr> SortedLocked(std::vector<KeyRef> keys) const;

  const CacheStorage storage_;
  mutable std::shared_mutex mu_;                    // guards objects_ and indexes_
  std::unordered_map<std::string, Entry> objects_;  // by ObjectKey::ToString()
  std::map<std::string, Index> indexes_;
};

}  // namespace gantry::kube
