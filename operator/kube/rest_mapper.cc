#include "operator/kube/rest_mapper.h"

#include <fmt/format.h>

namespace gantry::kube {

RestMapper::RestMapper(Fetch fetch) : fetch_(std::move(fetch)) {}

Result<std::map<std::string, RestMapping>> RestMapper::ParseResourceList(
    const Object& list, const std::string& group, const std::string& version) {
  std::string gv = group.empty() ? version : group + "/" + version;
  if (!list.is_object() || !list.contains("resources") || !list["resources"].is_array()) {
    return Internal(fmt::format("discovery of {}: answer has no resources list", gv));
  }
  std::map<std::string, RestMapping> by_kind;
  std::map<std::string, std::string> kind_of_resource;
  std::vector<std::pair<std::string, std::string>> subresources;  // resource, subresource
  for (const Object& r : list["resources"]) {
    if (!r.is_object()) continue;
    std::string name = r.value("name", "");
    std::string kind = r.value("kind", "");
    if (name.empty() || kind.empty()) continue;
    size_t slash = name.find('/');
    if (slash != std::string::npos) {
      subresources.emplace_back(name.substr(0, slash), name.substr(slash + 1));
      continue;
    }
    if (by_kind.count(kind)) continue;
    RestMapping m;
    // A resource may be served under another group/version than the list's (rare; the
    // fields are optional and default to the list's).
    m.gvk = GroupVersionKind{r.value("group", group), r.value("version", version), kind};
    m.resource = name;
    m.namespaced = r.value("namespaced", false);
    if (auto verbs = r.find("verbs"); verbs != r.end() && verbs->is_array()) {
      for (const Object& v : *verbs) {
        if (v.is_string()) m.verbs.push_back(v.get<std::string>());
      }
    }
    kind_of_resource[name] = kind;
    by_kind.emplace(kind, std::move(m));
  }
  for (const auto& [resource, sub] : subresources) {
    auto kind = kind_of_resource.find(resource);
    if (kind != kind_of_resource.end()) by_kind[kind->second].subresources.push_back(sub);
  }
  return by_kind;
}

Result<std::map<std::string, RestMapping>> RestMapper::Discover(const std::string& group,
                                                                const std::string& version) {
  std::string path =
      group.empty() ? fmt::format("/api/{}", version) : fmt::format("/apis/{}/{}", group, version);
  Result<Object> list = fetch_(path);
  if (!list.ok()) {
    std::string gv = group.empty() ? version : group + "/" + version;
    if (list.status().code() == StatusCode::kNotFound) {
      return NotFound(
          fmt::format("the server does not serve API group/version {} (is its CRD "
                      "installed?)",
                      gv));
    }
    return list.status().WithContext(fmt::format("discovery of {}", gv));
  }
  return ParseResourceList(*list, group, version);
}

Result<RestMapping> RestMapper::Find(const std::string& group, const std::string& version,
                                     const std::function<bool(const RestMapping&)>& match,
                                     const std::string& what) {
  std::string gv = group.empty() ? version : group + "/" + version;
  auto search = [&](const std::map<std::string, RestMapping>& by_kind) -> const RestMapping* {
    for (const auto& [kind, m] : by_kind) {
      if (match(m)) return &m;
    }
    return nullptr;
  };
  {
    std::lock_guard lock(mu_);
    auto cached = cache_.find(gv);
    if (cached != cache_.end()) {
      if (const RestMapping* m = search(cached->second)) return *m;
    }
  }
  // Unknown group-version, or a kind it did not have: look again.
  Result<std::map<std::string, RestMapping>> fresh = Discover(group, version);
  if (!fresh.ok()) return fresh.status();
  std::lock_guard lock(mu_);
  auto& entry = cache_[gv];
  entry = std::move(fresh).value();
  if (const RestMapping* m = search(entry)) return *m;
  return NotFound(fmt::format("no {} is served in {}", what, gv));
}

Result<RestMapping> RestMapper::Mapping(const GroupVersionKind& gvk) {
  if (gvk.version.empty() || gvk.kind.empty()) {
    return InvalidArgument(fmt::format("\"{}\" needs an apiVersion and a kind", gvk.ToString()));
  }
  return Find(
      gvk.group, gvk.version, [&](const RestMapping& m) { return m.gvk.kind == gvk.kind; },
      fmt::format("kind \"{}\"", gvk.kind));
}

Result<RestMapping> RestMapper::MappingForResource(const std::string& group,
                                                   const std::string& version,
                                                   const std::string& resource) {
  if (version.empty() || resource.empty()) {
    return InvalidArgument(fmt::format("resource \"{}\" needs a group version", resource));
  }
  return Find(
      group, version, [&](const RestMapping& m) { return m.resource == resource; },
      fmt::format("resource \"{}\"", resource));
}

void RestMapper::Reset() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

}  // namespace gantry::kube
