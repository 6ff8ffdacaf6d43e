#include "operator/controller/handlers.h"

namespace gantry::controller {
namespace {

std::string GroupOf(const std::string& api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

}  // namespace

kube::EventHandler EnqueueObject(WorkQueue& queue) {
  auto add = [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); };
  return kube::EventHandler{
      add, [add](const kube::ObjectPtr&, const kube::ObjectPtr& o) { add(o); }, add};
}

kube::EventHandler EnqueueOwner(WorkQueue& queue, std::string owner_kind, std::string owner_group,
                                bool controller_only) {
  auto add = [&queue, owner_kind = std::move(owner_kind), owner_group = std::move(owner_group),
              controller_only](const kube::ObjectPtr& o) {
    const kube::Object& meta = (*o)["metadata"];
    if (!meta.is_object()) return;
    auto refs = meta.find("ownerReferences");
    if (refs == meta.end() || !refs->is_array()) return;
    for (const kube::Object& ref : *refs) {
      if (!ref.is_object()) continue;
      if (controller_only && !ref.value("controller", false)) continue;
      if (ref.value("kind", "") != owner_kind) continue;
      if (GroupOf(ref.value("apiVersion", "")) != owner_group) continue;
      queue.Add(kube::ObjectKey{kube::NamespaceOf(*o), ref.value("name", "")});
    }
  };
  // An update may move the object to another owner: tell both.
  return kube::EventHandler{add,
                            [add](const kube::ObjectPtr& old_object, const kube::ObjectPtr& o) {
                              add(old_object);
                              add(o);
                            },
                            add};
}

}  // namespace gantry::controller
