#include "operator/api/codec.h"

#include <fmt/format.h>

#include "operator/common/clock.h"

namespace gantry::api::internal {

std::string ChildPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return fmt::format("{}.{}", parent, key);
}

std::string IndexPath(std::string_view parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

void FieldErrors::Add(std::string path, std::string message) {
  errors_.push_back(StatusCause{std::move(path), "FieldValueInvalid", std::move(message)});
}

Status FieldErrors::ToStatus(std::string_view object) const {
  if (errors_.empty()) return Status::Ok();
  std::string message(object);
  message += ": ";
  for (size_t i = 0; i < errors_.size(); ++i) {
    if (i > 0) message += "; ";
    message += errors_[i].field.empty()
                   ? errors_[i].message
                   : fmt::format("{}: {}", errors_[i].field, errors_[i].message);
  }
  Status status = InvalidArgument(std::move(message));
  for (const StatusCause& cause : errors_) status.add_cause(cause);
  return status;
}

// --- Reader -------------------------------------------------------------------------------

Reader::Reader(const nlohmann::json& json, std::string path, FieldErrors& errors)
    : json_(json), path_(std::move(path)), errors_(errors), is_object_(json.is_object()) {
  if (!is_object_ && !json.is_null()) errors_.Add(path_, "must be an object");
}

bool Reader::Has(std::string_view key) const {
  if (!is_object_) return false;
  auto it = json_.find(key);
  return it != json_.end() && !it->is_null();
}

const nlohmann::json* Reader::Take(std::string_view key) {
  read_.emplace(key);
  if (!is_object_) return nullptr;
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return nullptr;
  return &*it;
}

void Reader::Field(std::string_view key, std::string& out, Emit) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  if (!v->is_string()) {
    errors_.Add(ChildPath(path_, key), fmt::format("must be a string, got {}", v->dump()));
    return;
  }
  out = v->get<std::string>();
}

void Reader::Field(std::string_view key, int64_t& out, Emit) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  if (v->is_number_integer()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX}) {
      errors_.Add(ChildPath(path_, key), "is out of range");
      return;
    }
    out = v->get<int64_t>();
    return;
  }
  errors_.Add(ChildPath(path_, key), fmt::format("must be an integer, got {}", v->dump()));
}

void Reader::Field(std::string_view key, bool& out) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  if (!v->is_boolean()) {
    errors_.Add(ChildPath(path_, key), fmt::format("must be true or false, got {}", v->dump()));
    return;
  }
  out = v->get<bool>();
}

void Reader::Field(std::string_view key, IntOrString& out) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  if (v->is_number_integer() &&
      !(v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX})) {
    out = IntOrString(v->get<int64_t>());
  } else if (v->is_string()) {
    out = IntOrString(v->get<std::string>());
  } else {
    errors_.Add(ChildPath(path_, key),
                fmt::format("must be an integer or a string, got {}", v->dump()));
  }
}

void Reader::Field(std::string_view key, std::optional<Time>& out) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  std::optional<Time> t;
  if (v->is_string()) t = ParseRfc3339(v->get<std::string>());
  if (!t.has_value()) {
    errors_.Add(
        ChildPath(path_, key),
        fmt::format("must be an RFC 3339 time like \"2024-05-01T12:00:00Z\", got {}", v->dump()));
    return;
  }
  out = t;
}

void Reader::Field(std::string_view key, std::map<std::string, std::string>& out) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  std::string path = ChildPath(path_, key);
  if (!v->is_object()) {
    errors_.Add(path, "must be a map of strings");
    return;
  }
  out.clear();
  for (const auto& [k, value] : v->items()) {
    if (!value.is_string()) {
      errors_.Add(ChildPath(path, k), fmt::format("must be a string, got {}", value.dump()));
      continue;
    }
    out.emplace(k, value.get<std::string>());
  }
}

void Reader::Field(std::string_view key, std::vector<std::string>& out) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  std::string path = ChildPath(path_, key);
  if (!v->is_array()) {
    errors_.Add(path, "must be a list of strings");
    return;
  }
  out.clear();
  for (size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      errors_.Add(IndexPath(path, i), fmt::format("must be a string, got {}", (*v)[i].dump()));
      continue;
    }
    out.push_back((*v)[i].get<std::string>());
  }
}

void Reader::Field(std::string_view key, nlohmann::json& out) {
  const nlohmann::json* v = Take(key);
  if (v == nullptr) return;
  out = *v;
}

void Reader::Extra(nlohmann::json& out) const {
  out = nlohmann::json::object();
  if (!is_object_) return;
  for (const auto& [k, v] : json_.items()) {
    if (read_.find(k) == read_.end()) out[k] = v;
  }
}

// --- Writer -------------------------------------------------------------------------------

void Writer::Field(std::string_view key, const std::string& v, Emit emit) {
  if (v.empty() && emit == Emit::kOmitEmpty) return;
  json_[std::string(key)] = v;
}

void Writer::Field(std::string_view key, const int64_t& v, Emit emit) {
  if (v == 0 && emit == Emit::kOmitEmpty) return;
  json_[std::string(key)] = v;
}

void Writer::Field(std::string_view key, const bool& v) { json_[std::string(key)] = v; }

void Writer::Field(std::string_view key, const IntOrString& v) {
  if (v.is_int()) {
    json_[std::string(key)] = v.int_value();
  } else {
    json_[std::string(key)] = v.string_value();
  }
}

void Writer::Field(std::string_view key, const std::optional<Time>& v) {
  if (v.has_value()) json_[std::string(key)] = FormatRfc3339(*v);
}

void Writer::Field(std::string_view key, const std::optional<std::string>& v) {
  if (v.has_value()) json_[std::string(key)] = *v;
}

void Writer::Field(std::string_view key, const std::map<std::string, std::string>& v) {
  if (v.empty()) return;
  json_[std::string(key)] = v;
}

void Writer::Field(std::string_view key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  json_[std::string(key)] = v;
}

void Writer::Field(std::string_view key, const nlohmann::json& v) {
  if (v.is_null()) return;
  json_[std::string(key)] = v;
}

void Writer::Extra(const nlohmann::json& extra) {
  if (!extra.is_object()) return;
  for (const auto& [k, v] : extra.items()) {
    if (!json_.contains(k)) json_[k] = v;
  }
}

std::string ObjectName(std::string_view kind, const ObjectMeta& meta) {
  if (meta.name.empty()) return fmt::format("{} (unnamed)", kind);
  return fmt::format("{} {}", kind, meta.Key());
}

}  // namespace gantry::api::internal
