#include "operator/kube/object.h"

#include <fmt/format.h>

namespace gantry::kube {
namespace {

const std::string& StringAt(const Object& object, const char* section, const char* field) {
  static const std::string kEmpty;
  if (!object.is_object()) return kEmpty;
  auto s = object.find(section);
  if (s == object.end() || !s->is_object()) return kEmpty;
  auto f = s->find(field);
  if (f == s->end() || !f->is_string()) return kEmpty;
  return f->get_ref<const std::string&>();
}

}  // namespace

std::string GroupVersionKind::ApiVersion() const {
  return group.empty() ? version : fmt::format("{}/{}", group, version);
}

std::string GroupVersionKind::ToString() const {
  return fmt::format("{}, Kind={}", ApiVersion(), kind);
}

GroupVersionKind GroupVersionKind::FromApiVersion(std::string_view api_version,
                                                  std::string_view kind) {
  GroupVersionKind gvk;
  size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) {
    gvk.version = std::string(api_version);
  } else {
    gvk.group = std::string(api_version.substr(0, slash));
    gvk.version = std::string(api_version.substr(slash + 1));
  }
  gvk.kind = std::string(kind);
  return gvk;
}

Result<GroupVersionKind> GroupVersionKind::FromObject(const Object& object) {
  if (!object.is_object()) {
    return InvalidArgument(
        fmt::format("expected a Kubernetes object, got JSON {}", object.type_name()));
  }
  auto api_version = object.find("apiVersion");
  auto kind = object.find("kind");
  if (api_version == object.end() || !api_version->is_string() ||
      api_version->get_ref<const std::string&>().empty()) {
    return InvalidArgument(fmt::format("object \"{}\" has no apiVersion", NameOf(object)));
  }
  if (kind == object.end() || !kind->is_string() || kind->get_ref<const std::string&>().empty()) {
    return InvalidArgument(fmt::format("object \"{}\" (apiVersion {}) has no kind", NameOf(object),
                                       api_version->get<std::string>()));
  }
  return FromApiVersion(api_version->get_ref<const std::string&>(),
                        kind->get_ref<const std::string&>());
}

std::string ObjectKey::ToString() const {
  return ns.empty() ? name : fmt::format("{}/{}", ns, name);
}

ObjectKey ObjectKey::Parse(std::string_view key) {
  size_t slash = key.find('/');
  if (slash == std::string_view::npos) return ObjectKey{"", std::string(key)};
  return ObjectKey{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

Result<ResourceRef> ResourceRef::FromObject(const Object& object) {
  Result<GroupVersionKind> gvk = GroupVersionKind::FromObject(object);
  if (!gvk.ok()) return gvk.status();
  return ResourceRef{std::move(gvk).value(), NamespaceOf(object), NameOf(object)};
}

std::string ResourceRef::ToString() const {
  if (name.empty()) {
    return ns.empty() ? gvk.ToString() : fmt::format("{} in namespace {}", gvk.ToString(), ns);
  }
  return fmt::format("{} {}", gvk.ToString(), ObjectKey{ns, name}.ToString());
}

const std::string& NameOf(const Object& object) { return StringAt(object, "metadata", "name"); }
const std::string& NamespaceOf(const Object& object) {
  return StringAt(object, "metadata", "namespace");
}
const std::string& ResourceVersionOf(const Object& object) {
  return StringAt(object, "metadata", "resourceVersion");
}
const std::string& UidOf(const Object& object) { return StringAt(object, "metadata", "uid"); }

int64_t GenerationOf(const Object& object) {
  if (!object.is_object()) return 0;
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return 0;
  auto g = m->find("generation");
  if (g == m->end() || !g->is_number_integer()) return 0;
  return g->get<int64_t>();
}

ObjectKey KeyOf(const Object& object) { return ObjectKey{NamespaceOf(object), NameOf(object)}; }

const Object& LabelsOf(const Object& object) {
  static const Object kEmpty = Object::object();
  if (!object.is_object()) return kEmpty;
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return kEmpty;
  auto l = m->find("labels");
  if (l == m->end() || !l->is_object()) return kEmpty;
  return *l;
}

std::string Describe(const Object& object) {
  std::string kind = object.is_object() && object.contains("kind") && object["kind"].is_string()
                         ? object["kind"].get<std::string>()
                         : std::string("object");
  return fmt::format("{} {}", kind, KeyOf(object).ToString());
}

}  // namespace gantry::kube
