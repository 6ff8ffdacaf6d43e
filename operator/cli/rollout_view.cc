#include "operator/cli/rollout_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "operator/kube/label_selector.h"
#include "operator/rollout/analysis_run_builder.h"
#include "operator/rollout/pod_template_hash.h"
#include "operator/rollout/replicaset.h"

namespace gantry::cli {
namespace {

using nlohmann::json;

const kube::GroupVersionKind kRollout{"gantry.io", "v1alpha1", "Rollout"};
const kube::GroupVersionKind kReplicaSet{"apps", "v1", "ReplicaSet"};
const kube::GroupVersionKind kPod{"", "v1", "Pod"};
const kube::GroupVersionKind kAnalysisRun{"gantry.io", "v1alpha1", "AnalysisRun"};

json At(const json& o, std::initializer_list<const char*> path) {
  const json* at = &o;
  for (const char* key : path) {
    if (!at->is_object()) return json();
    auto it = at->find(key);
    if (it == at->end()) return json();
    at = &*it;
  }
  return *at;
}

std::string Str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

int64_t Int(const json& v) { return v.is_number_integer() ? v.get<int64_t>() : 0; }

std::string Age(const json& object, Clock::TimePoint now) {
  auto created = ParseRfc3339(Str(At(object, {"metadata", "creationTimestamp"})));
  return created ? FormatAge(now - *created) : "";
}

std::string HashOf(const json& object) {
  return Str(
      At(object, {"metadata", "labels", std::string(rollout::kPodTemplateHashLabel).c_str()}));
}

std::string PhaseIcon(const std::string& phase) {
  if (phase == "Healthy" || phase == "Successful" || phase == "Running") return "✔";
  if (phase == "Paused") return "॥";
  if (phase == "Degraded" || phase == "Failed" || phase == "Error") return "✖";
  if (phase == "Inconclusive") return "⚠";
  return "◌";
}

std::string PodStatus(const json& pod) {
  if (!At(pod, {"metadata", "deletionTimestamp"}).is_null()) return "Terminating";
  std::string phase = Str(At(pod, {"status", "phase"}));
  return phase.empty() ? "Pending" : phase;
}

std::string PodReady(const json& pod) {
  const json statuses = At(pod, {"status", "containerStatuses"});
  const json containers = At(pod, {"spec", "containers"});
  int ready = 0;
  if (statuses.is_array()) {
    for (const json& s : statuses) ready += s.value("ready", false) ? 1 : 0;
  }
  return fmt::format("ready:{}/{}", ready, containers.is_array() ? containers.size() : 0);
}

std::vector<std::string> Images(const json& rs) {
  std::vector<std::string> out;
  const json containers = At(rs, {"spec", "template", "spec", "containers"});
  if (containers.is_array()) {
    for (const json& c : containers) out.push_back(c.value("image", ""));
  }
  return out;
}

// " last: <metric>=<value>(<phase>) ...": each metric's newest measurement, so that a watch
// shows the numbers the decision is made on.
std::string LastMeasurements(const json& run) {
  const json results = At(run, {"status", "metricResults"});
  if (!results.is_array()) return "";
  std::vector<std::string> parts;
  for (const json& m : results) {
    const json measurements = m.value("measurements", json::array());
    if (!measurements.is_array() || measurements.empty()) continue;
    const json& last = measurements.back();
    std::string value = Str(last.value("value", json()));
    if (value.size() > 24) value = value.substr(0, 21) + "...";
    if (value.empty()) value = "-";
    parts.push_back(fmt::format("{}={}({})", Str(m.value("name", json())), value,
                                Str(last.value("phase", json()))));
  }
  if (parts.empty()) return "";
  return fmt::format(" last: {}", fmt::join(parts, " "));
}

struct Row {
  std::string prefix;  // tree drawing
  std::string name;
  std::string kind;
  std::string status;
  std::string age;
  std::string info;
};

}  // namespace

std::string FormatAge(Clock::Duration d) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 0) return "0s";
  if (s < 120) return fmt::format("{}s", s);
  if (s < 120 * 60) return fmt::format("{}m", s / 60);
  if (s < 48 * 3600) return fmt::format("{}h", s / 3600);
  return fmt::format("{}d", s / 86400);
}

RolloutView AssembleRolloutView(kube::Object rollout, std::vector<kube::Object> replica_sets,
                                std::vector<kube::Object> pods,
                                std::vector<kube::Object> analysis_runs) {
  RolloutView view;
  view.rollout = std::move(rollout);
  const std::string uid = kube::UidOf(view.rollout);
  for (kube::Object& rs : replica_sets) {
    if (rollout::ReadReplicaSet(rs).controller_uid == uid)
      view.replica_sets.push_back(std::move(rs));
  }
  view.pods = std::move(pods);
  view.analysis_runs = std::move(analysis_runs);
  return view;
}

Result<RolloutView> FetchRolloutView(kube::KubeClient& client, const std::string& ns,
                                     const std::string& name) {
  Result<kube::Object> r = client.Get({kRollout, ns, name});
  if (!r.ok()) return r.status().WithContext(fmt::format("Rollout {}/{}", ns, name));
  Result<kube::LabelSelector> selector =
      kube::LabelSelector::FromJson(At(*r, {"spec", "selector"}));
  kube::ListOptions options;
  if (selector.ok()) options.label_selector = selector->ToString();
  Result<kube::ObjectList> sets = client.ListAll(kReplicaSet, ns, options);
  if (!sets.ok()) return sets.status();
  Result<kube::ObjectList> pods = client.ListAll(kPod, ns, options);
  if (!pods.ok()) return pods.status();
  kube::ListOptions run_options;
  run_options.label_selector = fmt::format("{}={}", rollout::kRolloutNameLabel, name);
  Result<kube::ObjectList> runs = client.ListAll(kAnalysisRun, ns, run_options);
  // A cluster without the AnalysisRun CRD still shows the rest.
  return AssembleRolloutView(std::move(r).value(), std::move(sets->items), std::move(pods->items),
                             runs.ok() ? std::move(runs->items) : std::vector<kube::Object>{});
}

std::string RenderRolloutView(const RolloutView& view, Clock::TimePoint now) {
  const json& ro = view.rollout;
  const json status = ro.value("status", json::object());
  const json spec = ro.value("spec", json::object());
  const bool blue_green = At(spec, {"strategy", "blueGreen"}).is_object();
  const std::string phase = status.value("phase", "Progressing");
  const std::string stable = status.value("stableRS", "");
  const std::string current = status.value("currentPodHash", "");
  const std::string active = Str(At(status, {"blueGreen", "activeSelector"}));
  const std::string preview = Str(At(status, {"blueGreen", "previewSelector"}));

  std::string out;
  const auto line = [&](const std::string& k, const std::string& v) {
    out += fmt::format("{:<16}{}\n", k + ":", v);
  };
  line("Name", Str(At(ro, {"metadata", "name"})));
  line("Namespace", Str(At(ro, {"metadata", "namespace"})));
  line("Status", fmt::format("{} {}", PhaseIcon(phase), phase));
  if (!status.value("message", std::string()).empty()) line("Message", status["message"]);
  line("Strategy", blue_green ? "BlueGreen" : "Canary");
  if (!blue_green) {
    const json steps = At(spec, {"strategy", "canary", "steps"});
    const size_t count = steps.is_array() ? steps.size() : 0;
    if (count > 0) {
      out += fmt::format("  {:<14}{}/{}\n", "Step:", Int(status.value("currentStepIndex", json(0))),
                         count);
    }
    if (count > 0) {
      // What the steps ask for: the last setWeight at or before the current step.
      const int64_t index = std::min<int64_t>(Int(status.value("currentStepIndex", json(0))),
                                              static_cast<int64_t>(count));
      int64_t set_weight = index >= static_cast<int64_t>(count) ? 100 : 0;
      for (int64_t i = std::min<int64_t>(index, static_cast<int64_t>(count) - 1);
           i >= 0 && index < static_cast<int64_t>(count); --i) {
        if (steps[i].contains("setWeight")) {
          set_weight = Int(steps[i]["setWeight"]);
          break;
        }
      }
      out += fmt::format("  {:<14}{}\n", "SetWeight:", set_weight);
    }
    const json weights = At(status, {"canary", "weights"});
    if (weights.is_object()) {
      out += fmt::format("  {:<14}{}\n", "ActualWeight:", Int(At(weights, {"canary", "weight"})));
    }
  } else {
    if (!active.empty()) out += fmt::format("  {:<14}{}\n", "Active:", active);
    if (!preview.empty()) out += fmt::format("  {:<14}{}\n", "Preview:", preview);
  }

  // Images by role.
  std::vector<std::string> images;
  for (const json& rs : view.replica_sets) {
    if (Int(At(rs, {"spec", "replicas"})) == 0) continue;
    const std::string h = HashOf(rs);
    std::vector<std::string> roles;
    if (h == stable) roles.push_back("stable");
    if (!blue_green && h == current && h != stable) roles.push_back("canary");
    if (blue_green && h == active) roles.push_back("active");
    if (blue_green && h == preview && h != active) roles.push_back("preview");
    for (const std::string& img : Images(rs)) {
      images.push_back(roles.empty() ? img : fmt::format("{} ({})", img, fmt::join(roles, ", ")));
    }
  }
  for (size_t i = 0; i < images.size(); ++i) {
    out += fmt::format("{:<16}{}\n", i == 0 ? "Images:" : "", images[i]);
  }
  out += "Replicas:\n";
  out += fmt::format("  {:<14}{}\n", "Desired:", Int(spec.value("replicas", json(1))));
  out += fmt::format("  {:<14}{}\n", "Current:", Int(status.value("replicas", json(0))));
  out += fmt::format("  {:<14}{}\n", "Updated:", Int(status.value("updatedReplicas", json(0))));
  out += fmt::format("  {:<14}{}\n", "Ready:", Int(status.value("readyReplicas", json(0))));
  out += fmt::format("  {:<14}{}\n", "Available:", Int(status.value("availableReplicas", json(0))));
  out += "\n";

  // Group by revision, newest first.
  struct Revision {
    const json* rs = nullptr;
    std::vector<const json*> runs;
  };
  std::map<int64_t, Revision, std::greater<>> revisions;
  std::map<std::string, int64_t> revision_of_hash;
  for (const json& rs : view.replica_sets) {
    const rollout::ReplicaSetInfo info = rollout::ReadReplicaSet(rs);
    revisions[info.revision].rs = &rs;
    revision_of_hash[info.hash] = info.revision;
  }
  for (const json& run : view.analysis_runs) {
    auto rev = revision_of_hash.find(HashOf(run));
    const int64_t revision =
        rev != revision_of_hash.end()
            ? rev->second
            : std::atoll(Str(At(run, {"metadata", "annotations",
                                      std::string(rollout::kRevisionAnnotation).c_str()}))
                             .c_str());
    revisions[revision].runs.push_back(&run);
  }

  std::vector<Row> rows;
  rows.push_back({"⟳ ", Str(At(ro, {"metadata", "name"})), "Rollout",
                  fmt::format("{} {}", PhaseIcon(phase), phase), Age(ro, now), ""});
  size_t rev_i = 0;
  for (const auto& [revision, rev] : revisions) {
    const bool last_rev = ++rev_i == revisions.size();
    rows.push_back(
        {last_rev ? "└──" : "├──", fmt::format("# revision:{}", revision), "", "", "", ""});
    const std::string indent = last_rev ? "   " : "│  ";
    std::vector<Row> children;
    std::vector<std::vector<Row>> grandchildren;
    if (rev.rs != nullptr) {
      const rollout::ReplicaSetInfo info = rollout::ReadReplicaSet(*rev.rs);
      std::vector<std::string> roles;
      if (info.hash == stable) roles.push_back("stable");
      if (!blue_green && info.hash == current && info.hash != stable) roles.push_back("canary");
      if (blue_green && info.hash == active) roles.push_back("active");
      if (blue_green && info.hash == preview && info.hash != active) roles.push_back("preview");
      if (info.scale_down_deadline) {
        roles.push_back(fmt::format("delay:{}", FormatAge(*info.scale_down_deadline - now)));
      }
      std::string rs_status = info.desired == 0                ? "• ScaledDown"
                              : info.available >= info.desired ? "✔ Healthy"
                                                               : "◌ Progressing";
      children.push_back({"", info.name, "ReplicaSet", rs_status, Age(*rev.rs, now),
                          fmt::format("{}", fmt::join(roles, ","))});
      std::vector<Row> pods;
      for (const json& pod : view.pods) {
        if (HashOf(pod) != info.hash) continue;
        pods.push_back(
            {"", Str(At(pod, {"metadata", "name"})), "Pod",
             fmt::format("{} {}", PodStatus(pod) == "Running" ? "✔" : "◌", PodStatus(pod)),
             Age(pod, now), PodReady(pod)});
      }
      grandchildren.push_back(std::move(pods));
    }
    for (const json* run : rev.runs) {
      const std::string run_phase = Str(At(*run, {"status", "phase"}));
      const std::string p = run_phase.empty() ? "Pending" : run_phase;
      int64_t ok = 0, bad = 0;
      const json results = At(*run, {"status", "metricResults"});
      if (results.is_array()) {
        for (const json& m : results) {
          ok += Int(m.value("successful", json(0)));
          bad += Int(m.value("failed", json(0))) + Int(m.value("error", json(0)));
        }
      }
      children.push_back({"", Str(At(*run, {"metadata", "name"})), "AnalysisRun",
                          fmt::format("{} {}", PhaseIcon(p), p), Age(*run, now),
                          fmt::format("✔ {},✖ {}{}", ok, bad, LastMeasurements(*run))});
      grandchildren.emplace_back();
    }
    for (size_t i = 0; i < children.size(); ++i) {
      const bool last = i + 1 == children.size();
      Row c = children[i];
      c.prefix = indent + (last ? "└──" : "├──") + (c.kind == "ReplicaSet" ? "⧉ " : "α ");
      rows.push_back(c);
      const std::string sub = indent + (last ? "   " : "│  ");
      for (size_t j = 0; j < grandchildren[i].size(); ++j) {
        Row g = grandchildren[i][j];
        g.prefix = sub + (j + 1 == grandchildren[i].size() ? "└──" : "├──") + "□ ";
        rows.push_back(g);
      }
    }
  }

  // Column widths count characters, not bytes (the tree is UTF-8).
  const auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  size_t name_w = 4, kind_w = 4, status_w = 6, age_w = 3;
  for (const Row& r : rows) {
    name_w = std::max(name_w, width(r.prefix) + width(r.name));
    kind_w = std::max(kind_w, width(r.kind));
    status_w = std::max(status_w, width(r.status));
    age_w = std::max(age_w, width(r.age));
  }
  const auto pad = [&](const std::string& s, size_t w) {
    return s + std::string(w > width(s) ? w - width(s) : 0, ' ');
  };
  std::string header = pad("NAME", name_w) + "  " + pad("KIND", kind_w) + "  " +
                       pad("STATUS", status_w) + "  " + pad("AGE", age_w) + "  INFO";
  out += header + "\n";
  for (const Row& r : rows) {
    std::string l = pad(r.prefix + r.name, name_w) + "  " + pad(r.kind, kind_w) + "  " +
                    pad(r.status, status_w) + "  " + pad(r.age, age_w) + "  " + r.info;
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  }
  return out;
}

}  // namespace gantry::cli
