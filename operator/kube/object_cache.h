// ObjectCache: the thread-safe store behind an informer, with indexes.
//
// Objects are held as shared_ptr<const Object>: readers get a pointer to an immutable object
// and keep it valid however long they hold it, while the cache replaces its own pointer on the
// next update (copy-on-write, never mutation in place). Two indexes always exist: by
// namespace and by label "key=value"; a controller may add its own (e.g. by owner uid) before
// the first object arrives. One shared_mutex guards everything: many readers, one writer.
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

class ObjectCache {
 public:
  // Index values of one object (empty: not indexed).
  using IndexFunc = std::function<std::vector<std::string>(const Object&)>;
  static constexpr char kNamespaceIndex[] = "namespace";
  static constexpr char kLabelIndex[] = "label";  // values "key=value"

  ObjectCache();
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

 private:
  struct Index {
    IndexFunc func;
    std::unordered_map<std::string, std::unordered_set<std::string>> keys_by_value;
  };
  void IndexLocked(const std::string& key, const Object& object);
  void UnindexLocked(const std::string& key, const Object& object);
  std::vector<ObjectPtr> SortedLocked(const std::vector<std::string>& keys) const;

  mutable std::shared_mutex mu_;                        // guards objects_ and indexes_
  std::unordered_map<std::string, ObjectPtr> objects_;  // by ObjectKey::ToString()
  std::map<std::string, Index> indexes_;
};

}  // namespace gantry::kube
