#include "operator/reconcilers/application_diff.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "operator/manifest/loader.h"
#include "operator/manifest/object_id.h"
#include "operator/reconcilers/application_apply.h"

namespace gantry::reconcilers {

std::string DiffConfigMapName(std::string_view application) {
  return "gantry-diff-" + std::string(application);
}

Result<AppDiff> DiffDesiredState(kube::KubeClient& client, const api::Application& app,
                                 const git::Artifact& artifact) {
  auto loaded = manifest::LoadManifests(artifact.directory, app.spec.path);
  if (!loaded.ok()) {
    return Status(loaded.status().code(),
                  fmt::format("revision {}: {}", artifact.revision, loaded.status().message()));
  }
  std::vector<manifest::Object> objects = std::move(loaded->objects);
  std::map<manifest::GroupKind, bool> scopes;  // what discovery said, per kind
  auto is_namespaced = [&](const manifest::GroupKind& gk) {
    if (auto it = scopes.find(gk); it != scopes.end()) return it->second;
    bool namespaced = true;  // an unknown kind: its dry run says so
    for (const auto& o : objects) {
      auto id = manifest::GroupKindOf(o.json);
      if (!id.ok() || !(*id == gk)) continue;
      auto mapping = client.Mapping(
          kube::GroupVersionKind::FromApiVersion(o.json.value("apiVersion", ""), gk.kind));
      if (mapping.ok()) namespaced = mapping->namespaced;
      break;
    }
    scopes[gk] = namespaced;
    return namespaced;
  };
  if (Status s = manifest::ApplyTargetNamespace(objects, app.spec.target_namespace, is_namespaced);
      !s.ok()) {
    return Status(s.code(), fmt::format("revision {}: {}", artifact.revision, s.message()));
  }
  auto desired = PrepareDesired(objects, app);
  if (!desired.ok()) {
    return Status(desired.status().code(),
                  fmt::format("revision {}: {}", artifact.revision, desired.status().message()));
  }

  AppDiff diff;
  diff.revision = artifact.revision;
  Applier applier(client);
  const auto rules = IgnoreRules(app);
  std::set<std::string> ids;
  for (const auto& d : *desired) {
    ids.insert(d.id);
    auto preview = applier.PreviewApply(d);
    if (!preview.ok()) {
      diff.changes = true;
      diff.text += fmt::format("! {}: {}\n", kube::Describe(d.applied), preview.status().message());
      continue;
    }
    if (!preview->changes) continue;
    diff.changes = true;
    diff.text += fmt::format("=== {} ({})\n", kube::Describe(d.applied),
                             preview->live.is_null() ? "create" : "update");
    for (const auto& line : DescribeChanges(preview->dry_run, preview->live, rules)) {
      diff.text += "  " + line + "\n";
    }
  }
  if (app.spec.prune) {
    for (const auto& entry : app.status.inventory) {
      if (ids.contains(entry.id)) continue;
      auto id = entry.Parse();
      if (!id.ok()) continue;
      diff.changes = true;
      diff.text += fmt::format("=== {} {}{} (prune)\n", id->kind,
                               id->namespace_.empty() ? "" : id->namespace_ + "/", id->name);
    }
  }
  if (!diff.changes) diff.text += "no changes\n";
  diff.text.pop_back();
  if (diff.text.size() > kMaxDiffText) {
    // Cut at a character boundary: the text must stay valid UTF-8 to be stored.
    size_t cut = kMaxDiffText;
    while (cut > 0 && (static_cast<unsigned char>(diff.text[cut]) & 0xC0) == 0x80) --cut;
    diff.text.resize(cut);
    diff.text += "\n... (cut at 512 KiB)";
  }
  return diff;
}

kube::Object DiffConfigMap(const api::Application& app, std::string_view uid,
                           std::string_view stamp, const Result<AppDiff>& diff) {
  kube::Object data = kube::Object::object();
  if (diff.ok()) {
    data["revision"] = diff->revision;
    data["diff"] = diff->text;
    data["changes"] = diff->changes ? "true" : "false";
  } else {
    data["error"] = diff.status().message();
  }
  return kube::Object{
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata",
       {{"name", DiffConfigMapName(app.metadata.name)},
        {"namespace", app.metadata.namespace_},
        {"labels", {{std::string(kDiffOfLabel), app.metadata.name}}},
        {"annotations", {{std::string(kDiffRequestedAtAnnotation), std::string(stamp)}}},
        {"ownerReferences", kube::Object::array({{{"apiVersion", "gantry.io/v1alpha1"},
                                                  {"kind", "Application"},
                                                  {"name", app.metadata.name},
                                                  {"uid", std::string(uid)}}})}}},
      {"data", std::move(data)}};
}

std::optional<Result<AppDiff>> ReadDiffAnswer(const kube::Object& config_map,
                                              std::string_view stamp) {
  const kube::Object& meta = config_map.value("metadata", kube::Object::object());
  if (!meta.is_object() || !meta.contains("annotations") || !meta["annotations"].is_object()) {
    return std::nullopt;
  }
  if (meta["annotations"].value(std::string(kDiffRequestedAtAnnotation), "") != stamp) {
    return std::nullopt;
  }
  const kube::Object& data = config_map.value("data", kube::Object::object());
  if (!data.is_object()) return Result<AppDiff>(InvalidArgument("the diff ConfigMap has no data"));
  if (data.contains("error")) {
    return Result<AppDiff>(InvalidArgument(data.value("error", std::string())));
  }
  AppDiff diff;
  diff.revision = data.value("revision", "");
  diff.text = data.value("diff", "");
  diff.changes = data.value("changes", "") == "true";
  return Result<AppDiff>(std::move(diff));
}

}  // namespace gantry::reconcilers
