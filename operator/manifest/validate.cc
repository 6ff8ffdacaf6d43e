#include "operator/manifest/validate.h"

#include <fmt/format.h>

#include "operator/manifest/object.h"
#include "operator/manifest/object_id.h"
#include "operator/manifest/order.h"

namespace gantry::manifest {
namespace {

using nlohmann::json;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsKindName(std::string_view kind) {
  if (kind.empty()) return false;
  if (!((kind[0] >= 'A' && kind[0] <= 'Z') || (kind[0] >= 'a' && kind[0] <= 'z'))) return false;
  for (char c : kind) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void CheckStringMap(const json& metadata, const char* field, std::vector<std::string>& problems) {
  auto it = metadata.find(field);
  if (it == metadata.end() || it->is_null()) return;
  if (!it->is_object()) {
    problems.push_back(fmt::format("metadata.{} must be a mapping of strings", field));
    return;
  }
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      problems.push_back(
          fmt::format("metadata.{}[\"{}\"] must be a string, not {} (quote the value: \"{}\")",
                      field, key, JsonTypePhrase(value), value.is_null() ? "" : value.dump()));
    }
  }
}

}  // namespace

bool IsDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsLowerAlnum(s.front()) || !IsLowerAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    // Subdomain labels have no 63-character limit of their own in Kubernetes' regex.
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsLowerAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

bool IsDns1035Label(std::string_view s) {
  return IsDns1123Label(s) && s.front() >= 'a' && s.front() <= 'z';
}

std::string CheckNameForKind(std::string_view group, std::string_view kind, std::string_view name) {
  if (group.empty() && kind == "Namespace") {
    if (IsDns1123Label(name)) return "";
    return fmt::format(
        "metadata.name \"{}\" is not a valid Namespace name (a DNS-1123 label: at most 63 "
        "lowercase letters, digits and '-', starting and ending with a letter or digit)",
        name);
  }
  if (group.empty() && kind == "Service") {
    if (IsDns1035Label(name)) return "";
    return fmt::format(
        "metadata.name \"{}\" is not a valid Service name (a DNS-1035 label: at most 63 "
        "lowercase letters, digits and '-', starting with a letter and ending with a letter or "
        "digit)",
        name);
  }
  if (group == "rbac.authorization.k8s.io") {
    if (name == "." || name == "..") {
      return fmt::format("metadata.name \"{}\" is not a valid {} name", name, kind);
    }
    if (name.find('/') != std::string_view::npos || name.find('%') != std::string_view::npos) {
      return fmt::format(
          "metadata.name \"{}\" is not a valid {} name (it may not contain '/' "
          "or '%')",
          name, kind);
    }
    return "";
  }
  if (IsDns1123Subdomain(name)) return "";
  return fmt::format(
      "metadata.name \"{}\" is not a valid {} name (a DNS-1123 subdomain: at most 253 "
      "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)",
      name, kind);
}

std::vector<std::string> ValidateObject(const json& object) {
  std::vector<std::string> problems;
  if (!object.is_object()) {
    problems.push_back(fmt::format("the object is {}, not a mapping", JsonTypePhrase(object)));
    return problems;
  }
  std::string group;
  auto api_version = object.find("apiVersion");
  if (api_version == object.end() || api_version->is_null()) {
    problems.push_back("apiVersion is missing");
  } else if (!api_version->is_string()) {
    problems.push_back("apiVersion must be a string");
  } else {
    Result<GroupVersion> gv = ParseApiVersion(api_version->get<std::string>());
    if (!gv.ok()) {
      problems.push_back(gv.status().message());
    } else {
      group = gv->group;
    }
  }
  std::string kind;
  auto kind_it = object.find("kind");
  if (kind_it == object.end() || kind_it->is_null()) {
    problems.push_back("kind is missing");
  } else if (!kind_it->is_string()) {
    problems.push_back("kind must be a string");
  } else if (!IsKindName(kind_it->get<std::string>())) {
    problems.push_back(
        fmt::format("kind \"{}\" is not a kind name (letters and digits, like Deployment)",
                    kind_it->get<std::string>()));
  } else {
    kind = kind_it->get<std::string>();
  }

  auto metadata = object.find("metadata");
  if (metadata == object.end() || metadata->is_null()) {
    problems.push_back("metadata is missing (every object needs metadata.name)");
    return problems;
  }
  if (!metadata->is_object()) {
    problems.push_back("metadata must be a mapping");
    return problems;
  }
  auto name = metadata->find("name");
  if (name == metadata->end() || name->is_null() ||
      (name->is_string() && name->get_ref<const std::string&>().empty())) {
    if (metadata->contains("generateName")) {
      problems.push_back(
          "metadata.generateName is not supported: Gantry tracks what it applied by name, so "
          "every object needs a fixed metadata.name");
    } else {
      problems.push_back("metadata.name is missing");
    }
  } else if (!name->is_string()) {
    problems.push_back("metadata.name must be a string");
  } else if (!kind.empty()) {
    std::string problem = CheckNameForKind(group, kind, name->get<std::string>());
    if (!problem.empty()) problems.push_back(std::move(problem));
  }

  auto ns = metadata->find("namespace");
  if (ns != metadata->end() && !ns->is_null()) {
    if (!ns->is_string()) {
      problems.push_back("metadata.namespace must be a string");
    } else if (!ns->get_ref<const std::string&>().empty() &&
               !IsDns1123Label(ns->get<std::string>())) {
      problems.push_back(
          fmt::format("metadata.namespace \"{}\" is not a valid namespace name (a DNS-1123 label)",
                      ns->get<std::string>()));
    }
  }

  CheckStringMap(*metadata, "labels", problems);
  CheckStringMap(*metadata, "annotations", problems);
  Result<int> wave = ParseSyncWave(object);
  if (!wave.ok()) problems.push_back(wave.status().message());
  return problems;
}

}  // namespace gantry::manifest
