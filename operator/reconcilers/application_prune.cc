#include "operator/reconcilers/application_prune.h"

#include <fmt/format.h>

#include <map>
#include <utility>

#include "operator/manifest/object.h"
#include "operator/manifest/order.h"
#include "operator/reconcilers/application_apply.h"

namespace gantry::reconcilers {

Status PruneStale(kube::KubeClient& client, const kube::ObjectKey& app,
                  const std::vector<api::InventoryEntry>& previous,
                  const std::set<std::string>& current_ids, PruneResult& result) {
  Status first_error;
  auto remember = [&](Status s) {
    if (first_error.ok()) first_error = std::move(s);
  };
  std::vector<manifest::Object> candidates;
  std::map<std::string, api::InventoryEntry> entry_by_id;
  for (const api::InventoryEntry& entry : previous) {
    if (current_ids.contains(entry.id)) continue;
    auto id = entry.Parse();
    if (!id.ok()) {
      result.kept.push_back(fmt::format("{}: {}", entry.id, id.status().message()));
      continue;
    }
    kube::ResourceRef ref{{id->group, entry.v, id->kind}, id->namespace_, id->name};
    auto live = client.Get(ref);
    if (!live.ok()) {
      if (live.status().code() == StatusCode::kNotFound) continue;  // already gone
      remember(live.status().WithContext("prune: reading " + ref.ToString()));
      result.remaining.push_back(entry);
      continue;
    }
    const kube::Object& labels = kube::LabelsOf(*live);
    if (labels.value(std::string(kApplicationNameLabel), "") != app.name ||
        labels.value(std::string(kApplicationNamespaceLabel), "") != app.ns) {
      result.kept.push_back(fmt::format("{}: no longer labelled as owned by this Application",
                                        kube::Describe(*live)));
      continue;
    }
    const kube::Object& meta = (*live)["metadata"];
    if (meta.contains("annotations") && meta["annotations"].is_object() &&
        meta["annotations"].value(std::string(kPruneAnnotation), "") == "disabled") {
      result.kept.push_back(fmt::format("{}: gantry.io/prune: disabled", kube::Describe(*live)));
      result.remaining.push_back(entry);
      continue;
    }
    entry_by_id[entry.id] = entry;
    manifest::Object candidate;
    candidate.json = std::move(*live);
    candidate.json["apiVersion"] = ref.gvk.ApiVersion();
    candidate.json["kind"] = ref.gvk.kind;
    candidates.push_back(std::move(candidate));
  }

  for (const manifest::Wave& wave : manifest::GroupIntoPruneWaves(std::move(candidates))) {
    for (const manifest::Object& object : wave.objects) {
      auto ref = kube::ResourceRef::FromObject(object.json);
      if (!ref.ok()) continue;
      kube::DeleteOptions options;
      options.propagation_policy = kube::PropagationPolicy::kBackground;
      options.precondition_uid = kube::UidOf(object.json);
      Status s = client.Delete(*ref, options);
      if (s.ok() || s.code() == StatusCode::kNotFound) {
        result.deleted.push_back(kube::Describe(object.json));
        continue;
      }
      remember(s.WithContext("prune: deleting " + ref->ToString()));
      for (const auto& [id, entry] : entry_by_id) {
        if (entry.Parse().ok() && entry.Parse()->name == ref->name &&
            entry.Parse()->kind == ref->gvk.kind && entry.Parse()->namespace_ == ref->ns) {
          result.remaining.push_back(entry);
        }
      }
    }
  }
  return first_error;
}

}  // namespace gantry::reconcilers
