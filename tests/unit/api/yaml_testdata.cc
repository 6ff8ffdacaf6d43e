#include "yaml_testdata.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace gantry::api::testing {
namespace {

nlohmann::json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  // yaml-cpp tags quoted, literal and folded scalars "!": those are always strings.
  if (node.Tag() == "!") return text;
  static const std::regex kInt("^[-+]?[0-9]+$");
  static const std::regex kFloat("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$");
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (std::regex_match(text, kInt)) return std::stoll(text);
  if (std::regex_match(text, kFloat)) return std::stod(text);
  return text;
}

nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.Scalar()] = ToJson(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    default:
      return nullptr;
  }
}

}  // namespace

std::string SourcePath(const std::string& relative) {
  return std::string(GANTRY_SOURCE_DIR) + "/" + relative;
}

std::vector<std::string> YamlFiles(const std::string& relative_dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(SourcePath(relative_dir))) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<nlohmann::json> LoadYamlDocuments(const std::string& path) {
  std::vector<nlohmann::json> docs;
  try {
    for (const YAML::Node& node : YAML::LoadAllFromFile(path)) {
      nlohmann::json doc = ToJson(node);
      if (!doc.is_null()) docs.push_back(std::move(doc));
    }
  } catch (const YAML::Exception& e) {
    ADD_FAILURE() << path << ": " << e.what();
  }
  return docs;
}

std::vector<std::string> HeaderValues(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::vector<std::string> values;
  std::string line;
  std::string prefix = "# " + key + ": ";
  while (std::getline(in, line) && line.rfind("#", 0) == 0) {
    if (line.rfind(prefix, 0) == 0) values.push_back(line.substr(prefix.size()));
  }
  return values;
}

namespace {

::testing::AssertionResult Contains(const nlohmann::json& actual, const nlohmann::json& expected,
                                    const std::string& path) {
  if (expected.is_object()) {
    if (!actual.is_object()) {
      return ::testing::AssertionFailure() << path << ": want an object, got " << actual.dump();
    }
    for (const auto& [key, value] : expected.items()) {
      if (!actual.contains(key)) {
        return ::testing::AssertionFailure() << path << "." << key << ": missing";
      }
      auto r = Contains(actual[key], value, path + "." + key);
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) {
      return ::testing::AssertionFailure()
             << path << ": want " << expected.dump() << ", got " << actual.dump();
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      auto r = Contains(actual[i], expected[i], path + "[" + std::to_string(i) + "]");
      if (!r) return r;
    }
    return ::testing::AssertionSuccess();
  }
  if (actual != expected) {
    return ::testing::AssertionFailure()
           << path << ": want " << expected.dump() << ", got " << actual.dump();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult JsonContains(const nlohmann::json& actual,
                                        const nlohmann::json& expected) {
  return Contains(actual, expected, "");
}

nlohmann::json At(const nlohmann::json& json, const std::string& dotted_path) {
  const nlohmann::json* node = &json;
  std::stringstream parts(dotted_path);
  std::string part;
  while (std::getline(parts, part, '.')) {
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
  }
  return *node;
}

}  // namespace gantry::api::testing
