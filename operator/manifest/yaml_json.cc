#include "operator/manifest/yaml_json.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace gantry::manifest {
namespace {

using nlohmann::json;

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// What the handler throws to stop yaml-cpp's parser; caught in YamlToJson. Never leaves this
// file.
struct ConversionError {
  int line;    // 1-based
  int column;  // 1-based
  std::string message;
};

[[noreturn]] void Fail(const YAML::Mark& mark, std::string message) {
  throw ConversionError{mark.line + 1, mark.column + 1, std::move(message)};
}

// The integer syntax of Go's strconv.ParseInt/ParseUint with base 0 (which go-yaml v2 uses):
// optional sign, then 0x/0o/0b prefixes or a leading 0 for octal. `s` has no '_' left.
std::optional<json> ParseGoInteger(std::string_view s) {
  size_t i = 0;
  bool negative = false;
  bool signed_form = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    negative = s[i] == '-';
    signed_form = true;
    ++i;
  }
  int base = 10;
  if (s.size() - i >= 2 && s[i] == '0') {
    char p = s[i + 1];
    if (p == 'x' || p == 'X') {
      base = 16;
      i += 2;
    } else if (p == 'o' || p == 'O') {
      base = 8;
      i += 2;
    } else if (p == 'b' || p == 'B') {
      base = 2;
      i += 2;
    } else {
      base = 8;
      i += 1;
    }
  }
  if (i >= s.size()) return std::nullopt;
  uint64_t value = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (digit >= base) return std::nullopt;
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / base) return std::nullopt;
    value = value * base + digit;
  }
  constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (value > kMaxInt64 + 1) return std::nullopt;
    if (value == kMaxInt64 + 1) return json(std::numeric_limits<int64_t>::min());
    return json(-static_cast<int64_t>(value));
  }
  if (value <= kMaxInt64) return json(static_cast<int64_t>(value));
  if (signed_form) return std::nullopt;  // ParseUint takes no sign
  return json(value);
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$, go-yaml's float syntax.
bool LooksLikeYamlFloat(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  } else {
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && IsDigit(s[i])) ++i;
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

// strtod in the "C" locale (Gantry never calls setlocale). nullopt on overflow, where go-yaml's
// ParseFloat fails and the scalar stays a string.
std::optional<double> ParseDouble(std::string_view s) {
  std::string copy(s);
  errno = 0;
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  if (errno == ERANGE && std::isinf(d)) return std::nullopt;
  return d;
}

enum class Special { kNone, kTrue, kFalse, kNull, kNaN, kPosInf, kNegInf };

Special LookupSpecial(std::string_view s) {
  static const std::unordered_map<std::string_view, Special> kTable = [] {
    std::unordered_map<std::string_view, Special> t;
    for (std::string_view v :
         {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
      t[v] = Special::kTrue;
    }
    for (std::string_view v :
         {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
      t[v] = Special::kFalse;
    }
    for (std::string_view v : {"", "~", "null", "Null", "NULL"}) t[v] = Special::kNull;
    for (std::string_view v : {".nan", ".NaN", ".NAN"}) t[v] = Special::kNaN;
    for (std::string_view v : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}) {
      t[v] = Special::kPosInf;
    }
    for (std::string_view v : {"-.inf", "-.Inf", "-.INF"}) t[v] = Special::kNegInf;
    return t;
  }();
  auto it = kTable.find(s);
  return it == kTable.end() ? Special::kNone : it->second;
}

// Plain-scalar resolution without the .nan/.inf check; nullopt marks those.
std::optional<json> ResolvePlain(std::string_view s) {
  switch (LookupSpecial(s)) {
    case Special::kTrue:
      return json(true);
    case Special::kFalse:
      return json(false);
    case Special::kNull:
      return json(nullptr);
    case Special::kNaN:
    case Special::kPosInf:
    case Special::kNegInf:
      return std::nullopt;
    case Special::kNone:
      break;
  }
  char first = s.front();
  if (first == '.') {
    if (LooksLikeYamlFloat(s)) {
      if (std::optional<double> d = ParseDouble(s)) return JsonNumberFromDouble(*d);
    }
    return json(std::string(s));
  }
  if (!IsDigit(first) && first != '+' && first != '-') return json(std::string(s));
  std::string plain;
  plain.reserve(s.size());
  for (char c : s) {
    if (c != '_') plain.push_back(c);
  }
  if (std::optional<json> i = ParseGoInteger(plain)) return i;
  if (LooksLikeYamlFloat(plain)) {
    if (std::optional<double> d = ParseDouble(plain)) return JsonNumberFromDouble(*d);
  }
  return json(std::string(s));
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding; whitespace (line breaks in block scalars) is ignored.
std::optional<std::string> DecodeBase64(std::string_view in) {
  std::string clean;
  for (char c : in) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (size_t i = 0; i < clean.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = clean[i + j];
      if (c == '=') {
        if (i + 4 != clean.size() || j < 2) return std::nullopt;
        v[j] = 0;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        v[j] = Base64Value(c);
        if (v[j] < 0) return std::nullopt;
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

bool IsMergeKey(const std::string& tag, const std::string& value) {
  return (tag == "?" && value == "<<") || tag == std::string(kTagPrefix) + "merge";
}

// A scalar's JSON value given its yaml-cpp tag: "?" plain, "!" quoted/block or the non-specific
// tag, otherwise the resolved explicit tag.
json ResolveScalar(const YAML::Mark& mark, const std::string& tag, const std::string& value) {
  if (!IsValidUtf8(value)) Fail(mark, "scalar is not valid UTF-8");
  if (tag == "!") return json(value);
  if (tag == "?") {
    std::optional<json> v = ResolvePlain(value);
    if (!v) {
      Fail(mark,
           fmt::format("\"{}\" is not a number JSON can represent; quote it for a string", value));
    }
    return std::move(*v);
  }
  if (tag.rfind(kTagPrefix, 0) != 0) return json(value);  // an application tag: ignored
  std::string_view type = std::string_view(tag).substr(kTagPrefix.size());
  if (type == "str") return json(value);
  if (type == "binary") {
    std::optional<std::string> decoded = DecodeBase64(value);
    if (!decoded) Fail(mark, "!!binary value is not valid base64");
    if (!IsValidUtf8(*decoded)) {
      Fail(mark,
           "!!binary value decodes to bytes that are not UTF-8 text, which JSON cannot carry; "
           "write the base64 text as a plain string instead (as Secret data expects)");
    }
    return json(std::move(*decoded));
  }
  if (type == "timestamp") {
    bool looks_like_date = value.size() >= 5 && IsDigit(value[0]) && IsDigit(value[1]) &&
                           IsDigit(value[2]) && IsDigit(value[3]) && value[4] == '-';
    if (!looks_like_date) Fail(mark, fmt::format("cannot read \"{}\" as a !!timestamp", value));
    return json(value);
  }
  if (type == "bool" || type == "int" || type == "float" || type == "null") {
    std::optional<json> v =
        value.empty() ? std::optional<json>(json(nullptr)) : ResolvePlain(value);
    bool fits = false;
    if (v) {
      if (type == "bool") fits = v->is_boolean();
      if (type == "null") fits = v->is_null();
      if (type == "float") fits = v->is_number();
      if (type == "int") {
        // Only integer syntax: "1.0" is an integer on the wire but not an !!int literal.
        std::string plain;
        for (char c : value) {
          if (c != '_') plain.push_back(c);
        }
        fits = ParseGoInteger(plain).has_value();
      }
    }
    if (!fits) Fail(mark, fmt::format("cannot read \"{}\" as a !!{}", value, type));
    return std::move(*v);
  }
  return json(value);  // !!seq, !!map and other collection tags on a scalar: keep the text
}

// A mapping key as JSON object key, the way sigs.k8s.io/yaml stringifies non-string keys.
std::string KeyString(const YAML::Mark& mark, const std::string& tag, const std::string& value) {
  if (tag == "?") {
    switch (LookupSpecial(value)) {
      case Special::kNaN:
        return ".nan";
      case Special::kPosInf:
        return ".inf";
      case Special::kNegInf:
        return "-.inf";
      default:
        break;
    }
  }
  json k = ResolveScalar(mark, tag, value);
  if (k.is_string()) return k.get<std::string>();
  if (k.is_boolean()) return k.get<bool>() ? "true" : "false";
  if (k.is_number_integer()) return std::to_string(k.get<int64_t>());
  if (k.is_number_unsigned()) return std::to_string(k.get<uint64_t>());
  if (k.is_number_float()) return fmt::format("{}", static_cast<float>(k.get<double>()));
  Fail(mark, "a mapping key is null; JSON object keys must be strings");
}

// Builds JSON from yaml-cpp's parse events. Iterative (an explicit stack), so hostile nesting
// costs no native stack beyond yaml-cpp's own, which the depth limit stops early.
class JsonBuilder : public YAML::EventHandler {
 public:
  JsonBuilder(std::string_view text, const YamlLimits& limits) : text_(text), limits_(limits) {
    // yaml-cpp's marks count from after a UTF-8 byte order mark.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
  }

  std::vector<YamlDocument>& documents() { return documents_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    stack_.clear();
    current_ = YamlDocument{};
    current_.line = mark.line + 1;
    anchors_.clear();
  }

  void OnDocumentEnd() override { documents_.push_back(std::move(current_)); }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    NodeStart(mark);
    Count(mark, 1);
    if (ExpectingKey()) Fail(mark, "a mapping key is null; JSON object keys must be strings");
    Emit(mark, json(nullptr), anchor, 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    NodeStart(mark);
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      Fail(mark, "alias refers to an anchor that is not complete yet (a recursive alias)");
    }
    Count(mark, it->second.values);
    if (ExpectingKey()) {
      const json& v = it->second.value;
      if (!v.is_string() && !v.is_number() && !v.is_boolean()) {
        Fail(mark, "an alias used as a mapping key must name a scalar");
      }
      SetKey(mark, v.is_string() ? v.get<std::string>() : v.dump(), false);
      return;
    }
    Emit(mark, it->second.value, 0, it->second.values);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    NodeStart(mark);
    Count(mark, 1);
    if (tag != "?") CheckQuoteClosed(mark);
    if (ExpectingKey()) {
      bool merge = IsMergeKey(tag, value);
      std::string key = merge ? "<<" : KeyString(mark, tag, value);
      if (anchor != 0) anchors_[anchor] = Anchored{json(key), 1};
      SetKey(mark, std::move(key), merge);
      return;
    }
    Emit(mark, ResolveScalar(mark, tag, value), anchor, 1);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    Open(mark, anchor, /*is_map=*/false);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    Open(mark, anchor, /*is_map=*/true);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Anchored {
    json value;
    size_t values;  // how many values it expands to
  };

  struct Frame {
    bool is_map = false;
    bool is_key = false;
    json value;
    YAML::anchor_t anchor = 0;
    YAML::Mark mark;
    size_t values = 1;
    // Mappings only: the key waiting for its value, and where each written key was first seen.
    bool has_key = false;
    bool key_is_merge = false;
    std::string key;
    YAML::Mark key_mark;
    std::unordered_map<std::string, int> key_lines;
    std::vector<json> merges;  // merge sources in the order written
  };

  bool ExpectingKey() const {
    return !stack_.empty() && stack_.back().is_map && !stack_.back().has_key;
  }

  // Records where each item of a top-level `items` sequence starts (List objects).
  void NodeStart(const YAML::Mark& mark) {
    if (stack_.size() == 2 && stack_[0].is_map && stack_[0].has_key && !stack_[0].key_is_merge &&
        stack_[0].key == "items" && !stack_[1].is_map) {
      current_.item_lines.push_back(mark.line + 1);
    }
  }

  void Count(const YAML::Mark& mark, size_t n) {
    total_values_ += n;
    if (total_values_ > limits_.max_values) {
      Fail(mark, fmt::format("the file expands to more than {} values (aliases that repeat "
                             "large anchors?)",
                             limits_.max_values));
    }
  }

  void SetKey(const YAML::Mark& mark, std::string key, bool merge) {
    Frame& f = stack_.back();
    if (!merge) {
      auto [it, inserted] = f.key_lines.emplace(key, mark.line + 1);
      if (!inserted) {
        Fail(mark, fmt::format("duplicate key \"{}\" (first at line {})", key, it->second));
      }
    }
    f.has_key = true;
    f.key_is_merge = merge;
    f.key = std::move(key);
    f.key_mark = mark;
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor, bool is_map) {
    NodeStart(mark);
    Count(mark, 1);
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      Fail(mark, fmt::format("nesting is deeper than {} levels", limits_.max_depth));
    }
    Frame f;
    f.is_map = is_map;
    // A collection used as a key is an error, reported when it ends, so that hostile nesting
    // inside such a key still meets the depth limit first.
    f.is_key = ExpectingKey();
    f.value = is_map ? json::object() : json::array();
    f.anchor = anchor;
    f.mark = mark;
    stack_.push_back(std::move(f));
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.is_key) {
      Fail(f.mark, fmt::format("a mapping key is a {}; JSON object keys must be strings",
                               f.is_map ? "mapping" : "sequence"));
    }
    if (f.is_map) {
      // Keys written in the mapping win over merged ones; among merge sources the first wins.
      for (json& source : f.merges) {
        for (auto& [k, v] : source.items()) {
          if (!f.value.contains(k)) f.value[k] = v;
        }
      }
    }
    Emit(f.mark, std::move(f.value), f.anchor, f.values);
  }

  void AddMergeSource(const YAML::Mark& mark, Frame& f, const json& v) {
    if (v.is_object()) {
      f.merges.push_back(v);
      return;
    }
    if (v.is_array()) {
      for (const json& item : v) {
        if (!item.is_object()) Fail(mark, "merge key << needs a mapping or a list of mappings");
        f.merges.push_back(item);
      }
      return;
    }
    Fail(mark, "merge key << needs a mapping or a list of mappings");
  }

  void Emit(const YAML::Mark& mark, json value, YAML::anchor_t anchor, size_t values) {
    if (anchor != 0) anchors_[anchor] = Anchored{value, values};
    if (stack_.empty()) {
      current_.value = std::move(value);
      current_.line = mark.line + 1;
      return;
    }
    Frame& parent = stack_.back();
    parent.values += values;
    if (!parent.is_map) {
      parent.value.push_back(std::move(value));
      return;
    }
    if (parent.key_is_merge) {
      AddMergeSource(mark, parent, value);
    } else {
      parent.value[parent.key] = std::move(value);
    }
    parent.has_key = false;
    parent.key_is_merge = false;
  }

  // yaml-cpp accepts a quoted scalar that runs to the end of the input; kubectl's parser does
  // not, and neither may we: the object would silently swallow the rest of the file.
  void CheckQuoteClosed(const YAML::Mark& mark) const {
    if (mark.pos < 0) return;
    size_t p = static_cast<size_t>(mark.pos);
    const size_t n = text_.size();
    // The mark sits on the node's properties (tag, anchor) when it has any.
    while (p < n && (text_[p] == '!' || text_[p] == '&')) {
      while (p < n && text_[p] != ' ' && text_[p] != '\t' && text_[p] != '\n') ++p;
      while (p < n &&
             (text_[p] == ' ' || text_[p] == '\t' || text_[p] == '\n' || text_[p] == '\r')) {
        ++p;
      }
    }
    if (p >= n || (text_[p] != '\'' && text_[p] != '"')) return;  // block scalar or unknown
    const char quote = text_[p++];
    while (p < n) {
      char c = text_[p];
      if (quote == '"' && c == '\\') {
        p += 2;
        continue;
      }
      if (c == quote) {
        if (quote == '\'' && p + 1 < n && text_[p + 1] == '\'') {
          p += 2;
          continue;
        }
        return;
      }
      ++p;
    }
    Fail(mark, fmt::format("unterminated quoted string: no closing {} before the end of the file",
                           quote));
  }

  std::string_view text_;
  const YamlLimits& limits_;
  std::vector<YamlDocument> documents_;
  YamlDocument current_;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, Anchored> anchors_;
  size_t total_values_ = 0;
};

}  // namespace

nlohmann::json JsonNumberFromDouble(double d) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isfinite(d) && d == std::floor(d) && d >= -kTwo63 && d < kTwo63) {
    return json(static_cast<int64_t>(d));
  }
  return json(d);
}

Result<nlohmann::json> ResolvePlainScalar(std::string_view value) {
  std::optional<json> v = ResolvePlain(value);
  if (!v) {
    return InvalidArgument(
        fmt::format("\"{}\" is not a number JSON can represent; quote it for a string", value));
  }
  return std::move(*v);
}

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n) return false;
    for (int j = 1; j <= extra; ++j) {
      unsigned char cc = static_cast<unsigned char>(text[i + j]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::array<uint32_t, 4> kMin = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

Result<std::vector<YamlDocument>> YamlToJson(std::string_view text, std::string_view file,
                                             const YamlLimits& limits) {
  std::istringstream in{std::string(text)};
  JsonBuilder builder(text, limits);
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const ConversionError& e) {
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file, e.line, e.column, e.message));
  } catch (const YAML::DeepRecursion& e) {
    return InvalidArgument(fmt::format("{}:{}:{}: nesting is deeper than {} levels", file,
                                       e.mark.line + 1, e.mark.column + 1, limits.max_depth));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return InvalidArgument(fmt::format("{}: {}", file, e.msg));
    return InvalidArgument(
        fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg));
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("{}: cannot read YAML: {}", file, e.what()));
  }
  return std::move(builder.documents());
}

}  // namespace gantry::manifest
