#include "operator/manifest/object_id.h"

#include <fmt/format.h>

namespace gantry::manifest {
namespace {

constexpr std::string_view kFieldSeparator = "_";
// cli-utils' escape for ':' in names: RBAC names may contain ':', which the id format keeps out
// of the way of any future separator use.
constexpr std::string_view kColonEscape = "__";

std::string ReplaceAll(std::string_view in, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(in.size());
  size_t pos = 0;
  while (true) {
    size_t hit = in.find(from, pos);
    if (hit == std::string_view::npos) break;
    out.append(in.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(in.substr(pos));
  return out;
}

const nlohmann::json* Member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<std::string> RequiredString(const nlohmann::json& object, const char* key,
                                   std::string_view path) {
  const nlohmann::json* v = Member(object, key);
  if (v == nullptr) return InvalidArgument(fmt::format("{} is missing", path));
  if (!v->is_string()) return InvalidArgument(fmt::format("{} must be a string", path));
  if (v->get_ref<const std::string&>().empty()) {
    return InvalidArgument(fmt::format("{} is empty", path));
  }
  return v->get<std::string>();
}

}  // namespace

std::string GroupVersion::ToString() const {
  if (group.empty()) return version;
  return fmt::format("{}/{}", group, version);
}

Result<GroupVersion> ParseApiVersion(std::string_view api_version) {
  if (api_version.empty()) return InvalidArgument("apiVersion is empty");
  size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) return GroupVersion{"", std::string(api_version)};
  std::string_view group = api_version.substr(0, slash);
  std::string_view version = api_version.substr(slash + 1);
  if (group.empty() || version.empty() || version.find('/') != std::string_view::npos) {
    return InvalidArgument(
        fmt::format("apiVersion \"{}\" is not \"version\" or \"group/version\"", api_version));
  }
  return GroupVersion{std::string(group), std::string(version)};
}

std::string GroupKind::ToString() const {
  if (group.empty()) return kind;
  return fmt::format("{}.{}", kind, group);
}

std::string ObjectId::ToString() const {
  return fmt::format("{}{}{}{}{}{}{}", namespace_, kFieldSeparator,
                     ReplaceAll(name, ":", kColonEscape), kFieldSeparator, group, kFieldSeparator,
                     kind);
}

Result<ObjectId> ObjectId::Parse(std::string_view id) {
  // Namespace, group and kind never contain '_' (DNS labels and Go identifiers), so the first
  // and the last two separators are unambiguous; whatever lies between is the name.
  size_t first = id.find('_');
  size_t last = id.rfind('_');
  size_t second_last = last == std::string_view::npos || last == 0 ? std::string_view::npos
                                                                   : id.rfind('_', last - 1);
  if (first == std::string_view::npos || second_last == std::string_view::npos ||
      second_last <= first) {
    return InvalidArgument(
        fmt::format("inventory id \"{}\" is not \"<namespace>_<name>_<group>_<kind>\"", id));
  }
  ObjectId out;
  out.namespace_ = std::string(id.substr(0, first));
  out.name = ReplaceAll(id.substr(first + 1, second_last - first - 1), kColonEscape, ":");
  out.group = std::string(id.substr(second_last + 1, last - second_last - 1));
  out.kind = std::string(id.substr(last + 1));
  if (out.name.empty() || out.kind.empty()) {
    return InvalidArgument(
        fmt::format("inventory id \"{}\" has an empty {}", id, out.name.empty() ? "name" : "kind"));
  }
  return out;
}

Result<GroupKind> GroupKindOf(const nlohmann::json& object) {
  Result<std::string> api_version = RequiredString(object, "apiVersion", "apiVersion");
  if (!api_version.ok()) return api_version.status();
  Result<GroupVersion> gv = ParseApiVersion(*api_version);
  if (!gv.ok()) return gv.status();
  Result<std::string> kind = RequiredString(object, "kind", "kind");
  if (!kind.ok()) return kind.status();
  return GroupKind{std::move(gv->group), std::move(*kind)};
}

Result<ObjectId> ObjectIdOf(const nlohmann::json& object) {
  Result<GroupKind> gk = GroupKindOf(object);
  if (!gk.ok()) return gk.status();
  const nlohmann::json* metadata = Member(object, "metadata");
  if (metadata == nullptr || !metadata->is_object()) {
    return InvalidArgument("metadata is missing or not a mapping");
  }
  Result<std::string> name = RequiredString(*metadata, "name", "metadata.name");
  if (!name.ok()) return name.status();
  ObjectId id;
  id.name = std::move(*name);
  id.group = std::move(gk->group);
  id.kind = std::move(gk->kind);
  if (const nlohmann::json* ns = Member(*metadata, "namespace"); ns != nullptr) {
    if (!ns->is_string()) return InvalidArgument("metadata.namespace must be a string");
    id.namespace_ = ns->get<std::string>();
  }
  return id;
}

}  // namespace gantry::manifest
