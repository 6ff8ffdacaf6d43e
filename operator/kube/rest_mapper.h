// Discovery: which REST resource serves a kind, and whether it is namespaced.
//
// The mapper asks the server for one group-version at a time (/api/v1 or /apis/<g>/<v>),
// only when a kind of it is first needed, and caches the answer. A kind missing from a cached
// group-version triggers one fresh look before NotFound, so a CRD created a moment ago (or a
// group-version that did not exist yet) is found without restarting. Thread-safe (one mutex
// guards the cache; fetches happen outside it).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::kube {

class RestMapper {
 public:
  // GETs a discovery path ("/api/v1", "/apis/apps/v1") and returns its APIResourceList.
  using Fetch = std::function<Result<Object>(const std::string& path)>;

  explicit RestMapper(Fetch fetch);
  RestMapper(const RestMapper&) = delete;
  RestMapper& operator=(const RestMapper&) = delete;

  // NotFound naming the group-version (not served) or the kind (not in it).
  Result<RestMapping> Mapping(const GroupVersionKind& gvk);
  // By plural resource name instead of kind; same caching and errors.
  Result<RestMapping> MappingForResource(const std::string& group, const std::string& version,
                                         const std::string& resource);

  // Drops everything cached, e.g. after CRDs were deleted.
  void Reset();

  // Parses an APIResourceList into mappings by kind; subresources ("deployments/status")
  // are attached to their resource. Exposed for tests.
  static Result<std::map<std::string, RestMapping>> ParseResourceList(const Object& list,
                                                                      const std::string& group,
                                                                      const std::string& version);

 private:
  Result<std::map<std::string, RestMapping>> Discover(const std::string& group,
                                                      const std::string& version);
  // Finds a mapping of group/version matching `match` in the cache, else looks again once.
  Result<RestMapping> Find(const std::string& group, const std::string& version,
                           const std::function<bool(const RestMapping&)>& match,
                           const std::string& what);

  const Fetch fetch_;
  std::mutex mu_;  // guards cache_
  // "group/version" -> kind -> mapping
  std::map<std::string, std::map<std::string, RestMapping>> cache_;
};

}  // namespace gantry::kube
