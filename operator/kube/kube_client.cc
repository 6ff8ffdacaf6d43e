#include "operator/kube/kube_client.h"

namespace gantry::kube {

std::string_view WatchEventTypeName(WatchEvent::Type type) {
  switch (type) {
    case WatchEvent::Type::kAdded:
      return "ADDED";
    case WatchEvent::Type::kModified:
      return "MODIFIED";
    case WatchEvent::Type::kDeleted:
      return "DELETED";
    case WatchEvent::Type::kBookmark:
      return "BOOKMARK";
  }
  return "UNKNOWN";
}

Result<ObjectList> KubeClient::ListAll(const GroupVersionKind& gvk, const std::string& ns,
                                       ListOptions options) {
  if (options.limit <= 0) options.limit = kDefaultPageSize;
  ObjectList all;
  bool first = true;
  do {
    Result<ObjectList> page = List(gvk, ns, options);
    if (!page.ok()) return page.status();
    if (first) {
      all.resource_version = page->resource_version;
      // Later pages are read at the first page's version through the continue token; a
      // resourceVersion beside it is rejected by the server.
      options.resource_version.clear();
      first = false;
    }
    all.items.reserve(all.items.size() + page->items.size());
    for (Object& item : page->items) all.items.push_back(std::move(item));
    options.continue_token = page->continue_token;
  } while (!options.continue_token.empty());
  return all;
}

}  // namespace gantry::kube
