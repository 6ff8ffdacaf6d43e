#include "operator/kube/object_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <string_view>

namespace gantry::kube {
namespace {

// The namespace part of a cache key ("ns/name", or "name" for a cluster-scoped object), which
// is the object's metadata.namespace: read without looking at (or decoding) the object.
std::string_view KeyNamespace(const std::string& key) {
  size_t slash = key.find('/');
  return slash == std::string::npos ? std::string_view() : std::string_view(key).substr(0, slash);
}

}  // namespace

ObjectCache::ObjectCache(CacheStorage storage) : storage_(storage) {
  indexes_[kNamespaceIndex].func = [](const Object& o) {
    return std::vector<std::string>{NamespaceOf(o)};
  };
  indexes_[kLabelIndex].func = [](const Object& o) {
    std::vector<std::string> values;
    for (const auto& [k, v] : LabelsOf(o).items()) {
      if (v.is_string()) values.push_back(k + "=" + v.get<std::string>());
    }
    return values;
  };
}

Status ObjectCache::AddIndex(const std::string& name, IndexFunc func) {
  std::unique_lock lock(mu_);
  if (indexes_.count(name)) return InvalidArgument(fmt::format("index \"{}\" exists", name));
  if (!objects_.empty()) {
    return InvalidArgument(
        fmt::format("index \"{}\" must be added before the cache holds objects", name));
  }
  indexes_[name].func = std::move(func);
  return Status::Ok();
}

ObjectCache::Entry ObjectCache::Store(ObjectPtr object) const {
  Entry entry;
  if (storage_ == CacheStorage::kTree) {
    entry.object = std::move(object);
  } else {
    Object::to_msgpack(*object, entry.packed);
    entry.packed.shrink_to_fit();  // the buffer grew by doubling
  }
  return entry;
}

ObjectPtr ObjectCache::Load(const Entry& entry) const {
  if (storage_ == CacheStorage::kTree) return entry.object;
  // Written by Store from a valid object, so it decodes.
  return std::make_shared<const Object>(Object::from_msgpack(entry.packed));
}

void ObjectCache::IndexLocked(KeyRef key, const Object& object) {
  for (auto& [name, index] : indexes_) {
    for (const std::string& value : index.func(object)) index.keys_by_value[value].insert(key);
  }
}

void ObjectCache::UnindexLocked(KeyRef key, const Object& object) {
  for (auto& [name, index] : indexes_) {
    for (const std::string& value : index.func(object)) {
      auto it = index.keys_by_value.find(value);
      if (it == index.keys_by_value.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.keys_by_value.erase(it);
    }
  }
}

ObjectPtr ObjectCache::Upsert(ObjectPtr object) {
  std::string key = KeyOf(*object).ToString();
  Entry entry = Store(object);  // packing is the costly part: outside the lock
  std::unique_lock lock(mu_);
  auto [it, inserted] = objects_.try_emplace(std::move(key));
  ObjectPtr old;
  if (!inserted) {
    old = Load(it->second);
    UnindexLocked(&it->first, *old);
  }
  it->second = std::move(entry);
  IndexLocked(&it->first, *object);
  return old;
}

ObjectPtr ObjectCache::Remove(const ObjectKey& key) {
  std::unique_lock lock(mu_);
  auto it = objects_.find(key.ToString());
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = Load(it->second);
  UnindexLocked(&it->first, *old);
  objects_.erase(it);
  return old;
}

ObjectCache::ReplaceDelta ObjectCache::Replace(std::vector<ObjectPtr> objects) {
  ReplaceDelta delta;
  std::unordered_set<KeyRef> seen;
  std::unique_lock lock(mu_);
  for (ObjectPtr& object : objects) {
    auto [it, inserted] = objects_.try_emplace(KeyOf(*object).ToString());
    seen.insert(&it->first);
    if (inserted) {
      it->second = Store(object);
      IndexLocked(&it->first, *object);
      delta.added.push_back(std::move(object));
      continue;
    }
    ObjectPtr old = Load(it->second);
    if (ResourceVersionOf(*old) == ResourceVersionOf(*object)) continue;
    UnindexLocked(&it->first, *old);
    IndexLocked(&it->first, *object);
    it->second = Store(object);
    delta.updated.emplace_back(std::move(old), std::move(object));
  }
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (seen.count(&it->first)) {
      ++it;
      continue;
    }
    ObjectPtr old = Load(it->second);
    UnindexLocked(&it->first, *old);
    delta.deleted.push_back(std::move(old));
    it = objects_.erase(it);
  }
  return delta;
}

ObjectPtr ObjectCache::Get(const ObjectKey& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key.ToString());
  return it == objects_.end() ? nullptr : Load(it->second);
}

std::vector<ObjectPtr> ObjectCache::SortedLocked(std::vector<KeyRef> keys) const {
  std::sort(keys.begin(), keys.end(), [](KeyRef a, KeyRef b) { return *a < *b; });
  std::vector<ObjectPtr> out;
  out.reserve(keys.size());
  for (KeyRef k : keys) out.push_back(Load(objects_.at(*k)));
  return out;
}

std::vector<ObjectPtr> ObjectCache::List(const std::string& ns,
                                         const LabelSelector& selector) const {
  std::shared_lock lock(mu_);
  // The smallest candidate set among the namespace index and the selector's equalities.
  const std::unordered_set<KeyRef>* candidates = nullptr;
  auto narrow = [&](const char* index, const std::string& value) -> bool {
    const auto& by_value = indexes_.at(index).keys_by_value;
    auto it = by_value.find(value);
    if (it == by_value.end()) return false;  // nothing can match
    if (candidates == nullptr || it->second.size() < candidates->size()) {
      candidates = &it->second;
    }
    return true;
  };
  if (!ns.empty() && !narrow(kNamespaceIndex, ns)) return {};
  for (const LabelSelector::Requirement& req : selector.requirements()) {
    if (req.op == LabelSelector::Op::kEquals &&
        !narrow(kLabelIndex, req.key + "=" + req.values[0])) {
      return {};
    }
  }
  const bool everything = selector.requirements().empty();
  std::vector<std::pair<KeyRef, ObjectPtr>> matches;
  auto consider = [&](KeyRef key, const Entry& entry) {
    if (!ns.empty() && KeyNamespace(*key) != ns) return;
    ObjectPtr object = Load(entry);
    if (!everything && !selector.Matches(LabelsOf(*object))) return;
    matches.emplace_back(key, std::move(object));
  };
  if (candidates != nullptr) {
    for (KeyRef key : *candidates) consider(key, objects_.at(*key));
  } else {
    for (const auto& [key, entry] : objects_) consider(&key, entry);
  }
  std::sort(matches.begin(), matches.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::vector<ObjectPtr> out;
  out.reserve(matches.size());
  for (auto& [key, object] : matches) out.push_back(std::move(object));
  return out;
}

std::vector<ObjectPtr> ObjectCache::ByIndex(const std::string& name,
                                            const std::string& value) const {
  std::shared_lock lock(mu_);
  auto index = indexes_.find(name);
  if (index == indexes_.end()) return {};
  auto it = index->second.keys_by_value.find(value);
  if (it == index->second.keys_by_value.end()) return {};
  return SortedLocked(std::vector<KeyRef>(it->second.begin(), it->second.end()));
}

size_t ObjectCache::Size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

}  // namespace gantry::kube
