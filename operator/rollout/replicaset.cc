#include "operator/rollout/replicaset.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "operator/rollout/pod_template_hash.h"

namespace gantry::rollout {
namespace {

using nlohmann::json;

const json& At(const json& object, std::string_view key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string StringOf(const json& v) { return v.is_string() ? v.get<std::string>() : ""; }

int64_t IntOf(const json& v, int64_t fallback = 0) {
  return v.is_number_integer() ? v.get<int64_t>() : fallback;
}

int32_t CountOf(const json& v, int32_t fallback = 0) {
  return static_cast<int32_t>(std::clamp<int64_t>(IntOf(v, fallback), 0, INT32_MAX));
}

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// `want` is contained in `have`: objects key by key, arrays element by element with equal
// length, scalars equal. Numbers compare by value (1 == 1.0).
bool Contains(const json& want, const json& have) {
  if (want.is_object()) {
    if (!have.is_object()) return false;
    for (const auto& [k, v] : want.items()) {
      auto it = have.find(k);
      if (it == have.end()) {
        // An empty value the server may drop ({} or []) or null counts as absent.
        if (v.is_null() || ((v.is_object() || v.is_array()) && v.empty())) continue;
        return false;
      }
      if (!Contains(v, *it)) return false;
    }
    return true;
  }
  if (want.is_array()) {
    if (!have.is_array() || have.size() != want.size()) return false;
    for (size_t i = 0; i < want.size(); ++i) {
      if (!Contains(want[i], have[i])) return false;
    }
    return true;
  }
  if (want.is_number() && have.is_number()) return want.get<double>() == have.get<double>();
  return want == have;
}

json WithoutHashLabel(json pod_template) {
  if (pod_template.is_object() && pod_template.contains("metadata") &&
      pod_template["metadata"].is_object() && pod_template["metadata"].contains("labels") &&
      pod_template["metadata"]["labels"].is_object()) {
    pod_template["metadata"]["labels"].erase(std::string(kPodTemplateHashLabel));
  }
  return pod_template;
}

}  // namespace

ReplicaSetInfo ReadReplicaSet(json object) {
  ReplicaSetInfo rs;
  const json& meta = At(object, "metadata");
  const json& spec = At(object, "spec");
  const json& status = At(object, "status");
  rs.name = StringOf(At(meta, "name"));
  rs.hash = StringOf(At(At(meta, "labels"), kPodTemplateHashLabel));
  const json& annotations = At(meta, "annotations");
  if (auto rev = ParseInt(StringOf(At(annotations, kRevisionAnnotation)))) rs.revision = *rev;
  const std::string deadline = StringOf(At(annotations, kScaleDownDeadlineAnnotation));
  if (!deadline.empty()) rs.scale_down_deadline = ParseRfc3339(deadline);
  rs.desired = CountOf(At(spec, "replicas"), 1);
  rs.replicas = CountOf(At(status, "replicas"));
  rs.ready = CountOf(At(status, "readyReplicas"));
  rs.available = CountOf(At(status, "availableReplicas"));
  rs.observed_generation = IntOf(At(status, "observedGeneration"));
  rs.generation = IntOf(At(meta, "generation"));
  rs.being_deleted = !At(meta, "deletionTimestamp").is_null();
  const json& owners = At(meta, "ownerReferences");
  if (owners.is_array()) {
    for (const json& ref : owners) {
      if (At(ref, "controller") == true) rs.controller_uid = StringOf(At(ref, "uid"));
    }
  }
  rs.object = std::move(object);
  return rs;
}

json ControllerReference(const OwnerInfo& owner) {
  return json{{"apiVersion", owner.api_version},
              {"kind", owner.kind},
              {"name", owner.name},
              {"uid", owner.uid},
              {"controller", true},
              {"blockOwnerDeletion", true}};
}

std::string ReplicaSetName(std::string_view rollout, std::string_view hash) {
  const size_t max_prefix = 253 - 1 - hash.size();
  std::string prefix(rollout.substr(0, std::min(rollout.size(), max_prefix)));
  while (!prefix.empty() && (prefix.back() == '-' || prefix.back() == '.')) prefix.pop_back();
  return fmt::format("{}-{}", prefix, hash);
}

json NewReplicaSet(const NewReplicaSetParams& p) {
  const std::string hash_label(kPodTemplateHashLabel);
  json pod_template = p.pod_template.is_object() ? p.pod_template : json::object();
  json& pod_meta = pod_template["metadata"];
  if (!pod_meta.is_object()) pod_meta = json::object();
  if (!pod_meta["labels"].is_object()) pod_meta["labels"] = json::object();
  pod_meta["labels"][hash_label] = p.hash;

  json selector = p.selector.is_object() ? p.selector : json::object();
  if (!selector["matchLabels"].is_object()) selector["matchLabels"] = json::object();
  selector["matchLabels"][hash_label] = p.hash;

  json labels = pod_meta["labels"];
  json meta = {{"name", ReplicaSetName(p.owner.name, p.hash)},
               {"namespace", p.ns},
               {"labels", labels},
               {"annotations", {{std::string(kRevisionAnnotation), std::to_string(p.revision)}}},
               {"ownerReferences", json::array({ControllerReference(p.owner)})}};
  json spec = {{"replicas", p.replicas},
               {"minReadySeconds", p.min_ready_seconds},
               {"selector", std::move(selector)},
               {"template", std::move(pod_template)}};
  return json{{"apiVersion", "apps/v1"},
              {"kind", "ReplicaSet"},
              {"metadata", std::move(meta)},
              {"spec", std::move(spec)}};
}

bool TemplateMatches(const json& rollout_template, const json& rs_template) {
  return Contains(WithoutHashLabel(rollout_template), WithoutHashLabel(rs_template));
}

bool SameTemplate(const json& a, const json& b) {
  const json x = WithoutHashLabel(a), y = WithoutHashLabel(b);
  return Contains(x, y) && Contains(y, x);
}

int64_t MaxRevision(const std::vector<ReplicaSetInfo>& sets) {
  int64_t max = 0;
  for (const ReplicaSetInfo& rs : sets) max = std::max(max, rs.revision);
  return max;
}

std::vector<std::string> ReplicaSetsToPrune(const std::vector<ReplicaSetInfo>& sets,
                                            const std::set<std::string>& keep,
                                            int32_t history_limit) {
  std::vector<const ReplicaSetInfo*> old;
  for (const ReplicaSetInfo& rs : sets) {
    if (!keep.contains(rs.name) && !rs.being_deleted) old.push_back(&rs);
  }
  const size_t limit = static_cast<size_t>(std::max(history_limit, 0));
  if (old.size() <= limit) return {};
  std::sort(old.begin(), old.end(), [](const ReplicaSetInfo* a, const ReplicaSetInfo* b) {
    return a->revision != b->revision ? a->revision < b->revision : a->name < b->name;
  });
  std::vector<std::string> out;
  size_t excess = old.size() - limit;
  for (const ReplicaSetInfo* rs : old) {
    if (excess == 0) break;
    // A ReplicaSet that still has pods is not history yet; it is being scaled down.
    if (rs->desired != 0 || rs->replicas != 0) continue;
    out.push_back(rs->name);
    --excess;
  }
  return out;
}

json ScalePatch(int32_t replicas, std::optional<Clock::TimePoint> deadline) {
  json annotations = json::object();
  annotations[std::string(kScaleDownDeadlineAnnotation)] =
      deadline ? json(FormatRfc3339(*deadline)) : json(nullptr);
  return json{{"metadata", {{"annotations", std::move(annotations)}}},
              {"spec", {{"replicas", replicas}}}};
}

}  // namespace gantry::rollout
