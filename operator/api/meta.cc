#include "operator/api/meta.h"

#include <algorithm>

namespace gantry::api {

std::string ObjectMeta::Key() const {
  if (namespace_.empty()) return name;
  return namespace_ + "/" + name;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [key, value] : match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const LabelSelectorRequirement& req : match_expressions) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    bool in_values =
        has && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    if (req.operator_ == "In") {
      if (!in_values) return false;
    } else if (req.operator_ == "NotIn") {
      if (in_values) return false;
    } else if (req.operator_ == "Exists") {
      if (!has) return false;
    } else if (req.operator_ == "DoesNotExist") {
      if (has) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::string LabelSelector::ToString() const {
  std::string out;
  auto add = [&out](const std::string& term) {
    if (!out.empty()) out += ",";
    out += term;
  };
  for (const auto& [key, value] : match_labels) add(key + "=" + value);
  for (const LabelSelectorRequirement& req : match_expressions) {
    std::string values;
    for (const std::string& v : req.values) values += (values.empty() ? "" : ",") + v;
    if (req.operator_ == "In") {
      add(req.key + " in (" + values + ")");
    } else if (req.operator_ == "NotIn") {
      add(req.key + " notin (" + values + ")");
    } else if (req.operator_ == "Exists") {
      add(req.key);
    } else if (req.operator_ == "DoesNotExist") {
      add("!" + req.key);
    }
  }
  return out;
}

}  // namespace gantry::api
