#include "operator/kube/object_cache.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace gantry::kube {

ObjectCache::ObjectCache() {
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

void ObjectCache::IndexLocked(const std::string& key, const Object& object) {
  for (auto& [name, index] : indexes_) {
    for (const std::string& value : index.func(object)) index.keys_by_value[value].insert(key);
  }
}

void ObjectCache::UnindexLocked(const std::string& key, const Object& object) {
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
  std::unique_lock lock(mu_);
  ObjectPtr old;
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    old = it->second;
    UnindexLocked(key, *old);
    it->second = object;
  } else {
    objects_.emplace(key, object);
  }
  IndexLocked(key, *object);
  return old;
}

ObjectPtr ObjectCache::Remove(const ObjectKey& key) {
  std::string k = key.ToString();
  std::unique_lock lock(mu_);
  auto it = objects_.find(k);
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = it->second;
  UnindexLocked(k, *old);
  objects_.erase(it);
  return old;
}

ObjectCache::ReplaceDelta ObjectCache::Replace(std::vector<ObjectPtr> objects) {
  ReplaceDelta delta;
  std::unordered_set<std::string> seen;
  std::unique_lock lock(mu_);
  for (ObjectPtr& object : objects) {
    std::string key = KeyOf(*object).ToString();
    seen.insert(key);
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      IndexLocked(key, *object);
      objects_.emplace(key, object);
      delta.added.push_back(std::move(object));
      continue;
    }
    ObjectPtr old = it->second;
    if (ResourceVersionOf(*old) == ResourceVersionOf(*object)) continue;
    UnindexLocked(key, *old);
    IndexLocked(key, *object);
    it->second = object;
    delta.updated.emplace_back(std::move(old), std::move(object));
  }
  for (auto it = objects_.begin(); it != objects_.end();) {
    if (seen.count(it->first)) {
      ++it;
      continue;
    }
    UnindexLocked(it->first, *it->second);
    delta.deleted.push_back(it->second);
    it = objects_.erase(it);
  }
  return delta;
}

ObjectPtr ObjectCache::Get(const ObjectKey& key) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key.ToString());
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> ObjectCache::SortedLocked(const std::vector<std::string>& keys) const {
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  std::vector<ObjectPtr> out;
  out.reserve(sorted.size());
  for (const std::string& k : sorted) {
    auto it = objects_.find(k);
    if (it != objects_.end()) out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> ObjectCache::List(const std::string& ns,
                                         const LabelSelector& selector) const {
  std::shared_lock lock(mu_);
  // The smallest candidate set among the namespace index and the selector's equalities.
  const std::unordered_set<std::string>* candidates = nullptr;
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
  std::vector<std::string> keys;
  auto consider = [&](const std::string& key, const Object& object) {
    if (!ns.empty() && NamespaceOf(object) != ns) return;
    if (!selector.Matches(LabelsOf(object))) return;
    keys.push_back(key);
  };
  if (candidates != nullptr) {
    for (const std::string& key : *candidates) consider(key, *objects_.at(key));
  } else {
    for (const auto& [key, object] : objects_) consider(key, *object);
  }
  return SortedLocked(keys);
}

std::vector<ObjectPtr> ObjectCache::ByIndex(const std::string& name,
                                            const std::string& value) const {
  std::shared_lock lock(mu_);
  auto index = indexes_.find(name);
  if (index == indexes_.end()) return {};
  auto it = index->second.keys_by_value.find(value);
  if (it == index->second.keys_by_value.end()) return {};
  return SortedLocked(std::vector<std::string>(it->second.begin(), it->second.end()));
}

size_t ObjectCache::Size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

}  // namespace gantry::kube
