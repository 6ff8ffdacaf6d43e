#include "operator/manifest/normalize.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <map>
#include <new>

namespace gantry::manifest {
namespace {

using nlohmann::json;

constexpr std::string_view kLastAppliedAnnotation =
    "kubectl.kubernetes.io/last-applied-configuration";

bool ParseArrayIndex(const std::string& token, size_t size, size_t& index) {
  // RFC 6901: "0" or digits without a leading zero; "-" (past the end) names nothing here.
  if (token.empty() || token.size() > 18) return false;
  if (token.size() > 1 && token[0] == '0') return false;
  size_t value = 0;
  for (char c : token) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  if (value >= size) return false;
  index = value;
  return true;
}

void RemoveAt(json& root, const std::vector<std::string>& tokens) {
  json* at = &root;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (at->is_object()) {
      auto it = at->find(tokens[i]);
      if (it == at->end()) return;
      at = &*it;
    } else if (at->is_array()) {
      size_t index;
      if (!ParseArrayIndex(tokens[i], at->size(), index)) return;
      at = &(*at)[index];
    } else {
      return;
    }
  }
  const std::string& last = tokens.back();
  if (at->is_object()) {
    at->erase(last);
  } else if (at->is_array()) {
    size_t index;
    if (ParseArrayIndex(last, at->size(), index)) at->erase(index);
  }
}

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

std::string Plusses(size_t n) { return std::string(n, '+'); }

// Gives each distinct secret value its run of '+'.
class Masker {
 public:
  // uniform: every value gets the same run (nothing to compare against).
  explicit Masker(bool uniform) : uniform_(uniform) {}

  void Mask(json& secret) {
    if (!IsSecret(secret)) return;
    for (const char* field : {"data", "stringData"}) {
      auto it = secret.find(field);
      if (it == secret.end() || !it->is_object()) continue;
      for (auto& [key, value] : it->items()) {
        if (!value.is_null()) value = MarkerFor(value.dump());
      }
    }
    auto metadata = secret.find("metadata");
    if (metadata == secret.end() || !metadata->is_object()) return;
    auto annotations = metadata->find("annotations");
    if (annotations == metadata->end() || !annotations->is_object()) return;
    auto last_applied = annotations->find(std::string(kLastAppliedAnnotation));
    // kubectl keeps the whole Secret, values included, in this annotation.
    if (last_applied != annotations->end()) *last_applied = MarkerFor(last_applied->dump());
  }

 private:
  std::string MarkerFor(const std::string& value) {
    if (uniform_) return Plusses(8);
    auto [it, inserted] = markers_.emplace(value, Plusses(8 + markers_.size()));
    return it->second;
  }

  bool uniform_;
  std::map<std::string, std::string> markers_;
};

}  // namespace

json StripServerFields(const json& object) {
  json out = object;
  if (!out.is_object()) return out;
  out.erase("status");
  auto metadata = out.find("metadata");
  if (metadata != out.end() && metadata->is_object()) {
    for (const char* field : {"managedFields", "resourceVersion", "uid", "creationTimestamp",
                              "generation", "selfLink"}) {
      metadata->erase(field);
    }
  }
  return out;
}

Result<std::vector<std::string>> ParseJsonPointer(std::string_view pointer) {
  if (pointer.empty()) {
    return InvalidArgument("JSON pointer \"\" names the whole object, which cannot be ignored");
  }
  if (pointer.front() != '/') {
    return InvalidArgument(
        fmt::format("JSON pointer \"{}\" must start with '/' (like /spec/replicas)", pointer));
  }
  std::vector<std::string> tokens(1);
  for (size_t i = 1; i < pointer.size(); ++i) {
    char c = pointer[i];
    if (c == '/') {
      tokens.emplace_back();
    } else if (c == '~') {
      char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
      if (next != '0' && next != '1') {
        return InvalidArgument(fmt::format(
            "JSON pointer \"{}\" has '~' not followed by 0 or 1 (write ~0 for '~', ~1 for '/')",
            pointer));
      }
      tokens.back().push_back(next == '0' ? '~' : '/');
      ++i;
    } else {
      tokens.back().push_back(c);
    }
  }
  return tokens;
}

Result<json> RemoveJsonPointers(const json& object, const std::vector<std::string>& pointers) {
  json out = object;
  for (const std::string& pointer : pointers) {
    Result<std::vector<std::string>> tokens = ParseJsonPointer(pointer);
    if (!tokens.ok()) return tokens.status();
    RemoveAt(out, *tokens);
  }
  return out;
}

bool IgnoreDifferenceMatches(const IgnoreDifference& rule, const json& object) {
  if (!object.is_object()) return false;
  auto str = [&](const json& j, const char* key) -> std::string {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : "";
  };
  std::string api_version = str(object, "apiVersion");
  size_t slash = api_version.find('/');
  std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  if (rule.group != "*" && rule.group != group) return false;
  if (rule.kind != "*" && rule.kind != str(object, "kind")) return false;
  auto metadata = object.find("metadata");
  json empty = json::object();
  const json& meta = metadata != object.end() && metadata->is_object() ? *metadata : empty;
  if (!rule.name.empty() && rule.name != str(meta, "name")) return false;
  if (!rule.namespace_.empty() && rule.namespace_ != str(meta, "namespace")) return false;
  return true;
}

Result<json> ApplyIgnoreDifferences(const json& object,
                                    const std::vector<IgnoreDifference>& rules) {
  std::vector<std::string> pointers;
  for (const IgnoreDifference& rule : rules) {
    if (!IgnoreDifferenceMatches(rule, object)) continue;
    pointers.insert(pointers.end(), rule.json_pointers.begin(), rule.json_pointers.end());
  }
  return RemoveJsonPointers(object, pointers);
}

bool IsSecret(const json& object) {
  if (!object.is_object()) return false;
  auto api_version = object.find("apiVersion");
  auto kind = object.find("kind");
  return api_version != object.end() && *api_version == "v1" && kind != object.end() &&
         *kind == "Secret";
}

json FoldStringData(const json& object) {
  if (!IsSecret(object)) return object;
  json out = object;
  auto string_data = out.find("stringData");
  if (string_data == out.end()) return out;
  if (string_data->is_object()) {
    json& data = out["data"];
    if (!data.is_object()) data = json::object();
    for (const auto& [key, value] : string_data->items()) {
      if (value.is_string()) data[key] = Base64(value.get_ref<const std::string&>());
    }
  }
  out.erase("stringData");
  return out;
}

json MaskSecret(const json& secret) {
  json out = secret;
  Masker(/*uniform=*/true).Mask(out);
  return out;
}

MaskedPair MaskSecretPair(const json& desired, const json& live) {
  MaskedPair out{desired, live};
  Masker masker(/*uniform=*/false);
  masker.Mask(out.desired);
  masker.Mask(out.live);
  return out;
}

std::string CanonicalJson(const json& object) {
  // nlohmann keeps object keys in a std::map, so dump() is already sorted and compact.
  return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    // SHA-256 fails only when OpenSSL cannot allocate; an empty or fixed answer would make
    // different objects look equal, so fail like any allocation.
    throw std::bad_alloc();
  }
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string HashAppliedObject(const json& desired) {
  return Sha256Hex(CanonicalJson(StripServerFields(desired)));
}

}  // namespace gantry::manifest
