#include "operator/manifest/object.h"

#include <fmt/format.h>

namespace gantry::manifest {
namespace {

std::string StringField(const nlohmann::json& object, const char* section, const char* field) {
  if (!object.is_object()) return "";
  auto s = object.find(section);
  if (s == object.end() || !s->is_object()) return "";
  auto f = s->find(field);
  if (f == s->end() || !f->is_string()) return "";
  return f->get<std::string>();
}

}  // namespace

std::string Object::Origin() const {
  if (file.empty()) return "";
  if (line <= 0) return file;
  return fmt::format("{}:{}", file, line);
}

std::string DescribeObject(const nlohmann::json& object) {
  std::string kind;
  if (object.is_object()) {
    auto k = object.find("kind");
    if (k != object.end() && k->is_string()) kind = k->get<std::string>();
  }
  if (kind.empty()) kind = "<no kind>";
  std::string name = StringField(object, "metadata", "name");
  if (name.empty()) {
    // generateName objects are refused, but the message should still say which one it was.
    std::string generate = StringField(object, "metadata", "generateName");
    if (generate.empty()) return kind;
    name = generate + "*";
  }
  std::string ns = StringField(object, "metadata", "namespace");
  if (ns.empty()) return fmt::format("{} {}", kind, name);
  return fmt::format("{} {}/{}", kind, ns, name);
}

std::string_view JsonTypePhrase(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object:
      return "a mapping";
    case nlohmann::json::value_t::array:
      return "a list";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::null:
      return "null";
    default:
      return "not a JSON value";
  }
}

std::string ObjectMessage(const Object& object, std::string_view what) {
  std::string origin = object.Origin();
  if (origin.empty()) return fmt::format("{} (object {})", what, DescribeObject(object.json));
  return fmt::format("{}: {} (object {})", origin, what, DescribeObject(object.json));
}

}  // namespace gantry::manifest
