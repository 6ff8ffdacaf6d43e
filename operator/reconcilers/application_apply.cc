#include "operator/reconcilers/application_apply.h"

#include <fmt/format.h>

#include <utility>

#include "operator/kube/informer.h"
#include "operator/manifest/object_id.h"

namespace gantry::reconcilers {
namespace {

nlohmann::json Comparable(const kube::Object& object) {
  nlohmann::json out = manifest::StripServerFields(object);
  if (out.contains("metadata") && out["metadata"].is_object()) {
    nlohmann::json& meta = out["metadata"];
    meta.erase("deletionTimestamp");
    meta.erase("deletionGracePeriodSeconds");
    if (meta.contains("annotations") && meta["annotations"].is_object() &&
        meta["annotations"].empty()) {
      meta.erase("annotations");
    }
    if (meta.contains("labels") && meta["labels"].is_object() && meta["labels"].empty()) {
      meta.erase("labels");
    }
  }
  return out;
}

std::string Short(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 120) {
    // Cut at a character boundary, so the line stays valid UTF-8 (it is stored in JSON).
    size_t cut = 117;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return text;
}

}  // namespace

std::vector<manifest::IgnoreDifference> IgnoreRules(const api::Application& app) {
  std::vector<manifest::IgnoreDifference> rules;
  for (const auto& rule : app.spec.ignore_differences) {
    rules.push_back(manifest::IgnoreDifference{rule.group, rule.kind, rule.name, rule.namespace_,
                                               rule.json_pointers});
  }
  return rules;
}

Result<std::vector<DesiredObject>> PrepareDesired(const std::vector<manifest::Object>& objects,
                                                  const api::Application& app) {
  const auto rules = IgnoreRules(app);
  std::vector<DesiredObject> out;
  out.reserve(objects.size());
  for (const manifest::Object& object : objects) {
    auto id = manifest::ObjectIdOf(object.json);
    if (!id.ok()) return InvalidArgument(manifest::ObjectMessage(object, id.status().message()));
    auto gv = manifest::ParseApiVersion(object.json.value("apiVersion", ""));
    if (!gv.ok()) return InvalidArgument(manifest::ObjectMessage(object, gv.status().message()));
    auto ref = kube::ResourceRef::FromObject(object.json);
    if (!ref.ok()) return InvalidArgument(manifest::ObjectMessage(object, ref.status().message()));

    auto applied = manifest::ApplyIgnoreDifferences(object.json, rules);
    if (!applied.ok()) {
      return InvalidArgument(
          manifest::ObjectMessage(object, "spec.ignoreDifferences: " + applied.status().message()));
    }
    kube::Object& labels = (*applied)["metadata"]["labels"];
    if (!labels.is_object()) labels = kube::Object::object();
    labels[std::string(kManagedByLabel)] = kManagedByValue;
    labels[std::string(kApplicationNameLabel)] = app.metadata.name;
    labels[std::string(kApplicationNamespaceLabel)] = app.metadata.namespace_;

    out.push_back(
        DesiredObject{object, std::move(*applied), std::move(*ref), id->ToString(), gv->version});
  }
  return out;
}

std::vector<std::string> OutOfScope(
    const std::vector<DesiredObject>& desired, const std::string& scope,
    const std::function<bool(const manifest::GroupKind&)>& is_namespaced) {
  std::vector<std::string> problems;
  if (scope.empty()) return problems;
  for (const DesiredObject& d : desired) {
    const manifest::GroupKind gk{d.ref.gvk.group, d.ref.gvk.kind};
    if (!is_namespaced(gk)) {
      problems.push_back(manifest::ObjectMessage(
          d.source, fmt::format("{} is cluster-scoped, but this operator only writes in namespace "
                                "{} (--namespace); nothing applied",
                                gk.ToString(), scope)));
    } else if (!d.ref.ns.empty() && d.ref.ns != scope) {
      problems.push_back(manifest::ObjectMessage(
          d.source, fmt::format("namespace {} is outside namespace {}, the only one this "
                                "operator writes in (--namespace); nothing applied",
                                d.ref.ns, scope)));
    }
  }
  return problems;
}

bool WouldChange(const kube::Object& dry_run, const kube::Object& live) {
  if (live.is_null()) return true;
  return Comparable(dry_run) != Comparable(live);
}

std::string ContentHash(const kube::Object& live) {
  return manifest::Sha256Hex(
      Comparable(live).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::vector<std::string> DescribeChanges(const kube::Object& dry_run, const kube::Object& live,
                                         const std::vector<manifest::IgnoreDifference>& rules) {
  std::vector<std::string> lines;
  if (!live.is_null() && !WouldChange(dry_run, live)) return lines;
  nlohmann::json desired = Comparable(manifest::FoldStringData(dry_run));
  nlohmann::json current = live.is_null() ? nlohmann::json() : Comparable(live);
  if (auto d = manifest::ApplyIgnoreDifferences(desired, rules); d.ok()) desired = *d;
  if (!current.is_null()) {
    if (auto c = manifest::ApplyIgnoreDifferences(current, rules); c.ok()) current = *c;
  }
  manifest::MaskedPair masked = manifest::MaskSecretPair(desired, current);
  if (masked.live.is_null()) {
    lines.push_back("+ (new object)");
    for (const auto& [key, value] : masked.desired.items()) {
      if (key == "apiVersion" || key == "kind") continue;
      lines.push_back(fmt::format("+ /{}: {}", key, Short(value)));
    }
    return lines;
  }
  nlohmann::json patch = nlohmann::json::diff(masked.live, masked.desired);
  for (const auto& op : patch) {
    const std::string path = op.value("path", "");
    const std::string kind = op.value("op", "");
    nlohmann::json::json_pointer pointer(path);
    if (kind == "remove") {
      lines.push_back(fmt::format("- {}", path));
    } else if (kind == "add") {
      lines.push_back(fmt::format("+ {}: {}", path, Short(op["value"])));
    } else {
      std::string before = masked.live.contains(pointer) ? Short(masked.live.at(pointer)) : "";
      lines.push_back(fmt::format("~ {}: {} -> {}", path, before, Short(op["value"])));
    }
  }
  return lines;
}

std::string_view ApplyActionName(ApplyAction action) {
  switch (action) {
    case ApplyAction::kCreated:
      return "created";
    case ApplyAction::kConfigured:
      return "configured";
    case ApplyAction::kUnchanged:
      return "unchanged";
  }
  return "unknown";
}

Result<ApplyPreview> Applier::PreviewApply(const DesiredObject& object) {
  // The dry run first: when the operator's identity may not write the object (RBAC), the
  // server's refusal of the write is the message the user needs, not that of the read.
  kube::ApplyOptions options;
  options.field_manager = std::string(kFieldManager);
  options.force = true;
  options.dry_run = true;
  auto dry = client_.Apply(object.applied, options);
  if (!dry.ok()) {
    Status s(dry.status().code(),
             manifest::ObjectMessage(object.source, "dry-run failed: " + dry.status().message()));
    for (const auto& cause : dry.status().causes()) s.add_cause(cause);
    return s;
  }
  ApplyPreview preview;
  preview.dry_run = std::move(*dry);
  kube::StripForCache(preview.dry_run);
  // The dry run answers with the stored object's resourceVersion, or none when it would create
  // the object: a cached copy at that version (or its absence) is what the server holds now.
  const std::string& stored_version = kube::ResourceVersionOf(preview.dry_run);
  bool known = false;
  if (cache_) {
    if (std::optional<kube::ObjectPtr> cached = cache_(object.ref); cached.has_value()) {
      if (*cached == nullptr) {
        known = stored_version.empty();
      } else if (!stored_version.empty() && kube::ResourceVersionOf(**cached) == stored_version) {
        preview.live = **cached;
        known = true;
      }
      preview.live_from_cache = known;
    }
  }
  if (!known) {
    auto live = client_.Get(object.ref);
    if (live.ok()) {
      preview.live = std::move(*live);
      kube::StripForCache(preview.live);
    } else if (live.status().code() != StatusCode::kNotFound) {
      return Status(live.status().code(),
                    manifest::ObjectMessage(object.source,
                                            "reading the live object: " + live.status().message()));
    }
  }
  preview.changes = WouldChange(preview.dry_run, preview.live);
  return preview;
}

Result<Applied> Applier::Apply(const DesiredObject& object, const ApplyPreview& preview) {
  if (!preview.changes) return Applied{ApplyAction::kUnchanged, kube::Object()};
  kube::ApplyOptions options;
  options.field_manager = std::string(kFieldManager);
  options.force = true;
  auto applied = client_.Apply(object.applied, options);
  if (!applied.ok()) {
    return Status(
        applied.status().code(),
        manifest::ObjectMessage(object.source, "apply failed: " + applied.status().message()));
  }
  kube::StripForCache(*applied);
  return Applied{preview.live.is_null() ? ApplyAction::kCreated : ApplyAction::kConfigured,
                 std::move(*applied)};
}

}  // namespace gantry::reconcilers
