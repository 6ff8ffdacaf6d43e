#include "operator/analysis/json_path.h"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace gantry::analysis {
namespace {

constexpr size_t kQuotedPathLength = 100;
constexpr size_t kQuotedNameLength = 40;

struct Segment {
  bool is_index = false;
  std::string field;  // !is_index
  int64_t index = 0;  // is_index
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '/' || static_cast<unsigned char>(c) >= 0x80;
}

bool IsPlainName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// The path so far in canonical form, for messages: $.data.items[0]['weird key'].
std::string Canonical(const std::vector<Segment>& segments, size_t count) {
  std::string out = "$";
  for (size_t i = 0; i < count; ++i) {
    const Segment& s = segments[i];
    if (s.is_index) {
      out += fmt::format("[{}]", s.index);
    } else if (IsPlainName(s.field)) {
      out += "." + PrintableText(s.field, kQuotedNameLength);
    } else {
      // QuoteText gives double quotes, which JSONPath accepts as well as single ones.
      out += "[" + QuoteText(s.field, kQuotedNameLength) + "]";
    }
  }
  return out;
}

class PathParser {
 public:
  explicit PathParser(std::string_view path) : path_(path) {}

  Result<std::vector<Segment>> Parse();

 private:
  // 1-based, counting characters rather than bytes.
  size_t Column(size_t offset) const {
    size_t column = 1;
    for (size_t i = 0; i < offset && i < path_.size(); ++i) {
      if ((static_cast<unsigned char>(path_[i]) & 0xC0) != 0x80) ++column;
    }
    return column;
  }
  Status Error(size_t offset, std::string_view message) const {
    return InvalidArgument(fmt::format("at column {}: {}", Column(offset), message));
  }
  std::string Found(size_t offset) const {
    if (offset >= end_) return "the end of the path";
    return QuoteText(path_.substr(offset, 1));
  }
  Status ParseBracket(std::vector<Segment>& segments);
  Status ParseDot(std::vector<Segment>& segments);

  std::string_view path_;
  size_t pos_ = 0;
  size_t end_ = 0;  // one past the last character inside the braces
};

Result<std::vector<Segment>> PathParser::Parse() {
  size_t begin = 0;
  size_t end = path_.size();
  while (begin < end && IsSpace(path_[begin])) ++begin;
  while (end > begin && IsSpace(path_[end - 1])) --end;
  if (begin == end) return Error(begin, "the path is empty; select the whole answer with \"$\"");
  if (path_[begin] == '{') {
    const size_t close = path_.find('}', begin);
    if (close == std::string_view::npos) {
      return Error(end,
                   fmt::format("expected \"}}\" to close the \"{{\" at column {}", Column(begin)));
    }
    if (close + 1 != end) {
      return Error(close + 1,
                   "text after \"}\" is not supported; the path must be a single {...} expression");
    }
    ++begin;
    end = close;
    while (begin < end && IsSpace(path_[begin])) ++begin;
    while (end > begin && IsSpace(path_[end - 1])) --end;
  }
  pos_ = begin;
  end_ = end;

  std::vector<Segment> segments;
  if (pos_ < end_ && path_[pos_] == '$') ++pos_;
  // "{.}" is Kubernetes' spelling of the whole document.
  if (end_ - pos_ == 1 && path_[pos_] == '.') return segments;
  while (pos_ < end_) {
    const char c = path_[pos_];
    if (c == '.') {
      GANTRY_RETURN_IF_ERROR(ParseDot(segments));
    } else if (c == '[') {
      GANTRY_RETURN_IF_ERROR(ParseBracket(segments));
    } else if (c == '{') {
      return Error(pos_,
                   "text before \"{\" is not supported; the path must be a single {...} "
                   "expression");
    } else if (c == '}') {
      return Error(pos_, "unexpected \"}\" without a \"{\" before it");
    } else {
      return Error(pos_, fmt::format("expected \".\" or \"[\" but found {}", Found(pos_)));
    }
  }
  return segments;
}

Status PathParser::ParseDot(std::vector<Segment>& segments) {
  const size_t dot = pos_++;
  if (pos_ < end_ && path_[pos_] == '.') {
    return Error(dot, "recursive descent (\"..\") is not supported; spell out the full path");
  }
  if (pos_ < end_ && path_[pos_] == '*') {
    return Error(pos_, "wildcards (\"*\") are not supported; select one element, e.g. [0]");
  }
  const size_t begin = pos_;
  while (pos_ < end_ && IsNameChar(path_[pos_])) ++pos_;
  if (pos_ == begin) {
    return Error(pos_, fmt::format("expected a field name after \".\" but found {}", Found(pos_)));
  }
  Segment segment;
  segment.field = std::string(path_.substr(begin, pos_ - begin));
  segments.push_back(std::move(segment));
  return Status::Ok();
}

Status PathParser::ParseBracket(std::vector<Segment>& segments) {
  const size_t open = pos_++;
  auto skip_spaces = [&] {
    while (pos_ < end_ && IsSpace(path_[pos_])) ++pos_;
  };
  skip_spaces();
  if (pos_ >= end_) return Error(pos_, "expected an index or a quoted name after \"[\"");
  const char c = path_[pos_];
  Segment segment;
  if (c == '\'' || c == '"') {
    const size_t quote_at = pos_++;
    while (true) {
      if (pos_ >= end_) {
        return Error(quote_at,
                     fmt::format("unterminated name: no closing {}", c == '"' ? "'\"'" : "\"'\""));
      }
      const char d = path_[pos_];
      if (d == c) {
        ++pos_;
        break;
      }
      if (d == '\\' && pos_ + 1 < end_ &&
          (path_[pos_ + 1] == c || path_[pos_ + 1] == '\\' || path_[pos_ + 1] == '\'' ||
           path_[pos_ + 1] == '"')) {
        segment.field += path_[pos_ + 1];
        pos_ += 2;
        continue;
      }
      segment.field += d;
      ++pos_;
    }
  } else if (c == '*') {
    return Error(pos_, "wildcards (\"[*]\") are not supported; select one element, e.g. [0]");
  } else if (c == '?') {
    return Error(pos_, "filters (\"[?(...)]\") are not supported");
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    const size_t begin = pos_;
    if (c == '-') ++pos_;
    while (pos_ < end_ && path_[pos_] >= '0' && path_[pos_] <= '9') ++pos_;
    const char* first = path_.data() + begin;
    const char* last = path_.data() + pos_;
    const auto [stop, error] = std::from_chars(first, last, segment.index);
    if (error != std::errc() || stop != last) {
      return Error(begin, fmt::format("the index {} is not a valid integer",
                                      QuoteText(path_.substr(begin, pos_ - begin))));
    }
    segment.is_index = true;
  } else {
    return Error(pos_, fmt::format("expected an index or a quoted name after \"[\" but found {}",
                                   Found(pos_)));
  }
  skip_spaces();
  if (pos_ < end_ && path_[pos_] == ':') {
    return Error(pos_, "slices (\"[a:b]\") are not supported; select one element, e.g. [0]");
  }
  if (pos_ < end_ && path_[pos_] == ',') {
    return Error(pos_, "unions (\"[a,b]\") are not supported; select one element");
  }
  if (pos_ >= end_ || path_[pos_] != ']') {
    return Error(pos_, fmt::format("expected \"]\" to close the \"[\" at column {} but found {}",
                                   Column(open), Found(pos_)));
  }
  ++pos_;
  segments.push_back(std::move(segment));
  return Status::Ok();
}

Result<std::vector<Segment>> ParsePath(std::string_view path) {
  Result<std::vector<Segment>> segments = PathParser(path).Parse();
  if (!segments.ok()) {
    return segments.status().WithContext(
        fmt::format("jsonPath {}", QuoteText(path, kQuotedPathLength)));
  }
  return segments;
}

// "a list", "an object", "null", ... for messages.
std::string Described(const Value& value) {
  if (value.is_null()) return "null";
  if (value.is_object()) return "an object";
  return fmt::format("a {}", ValueTypeName(value));
}

std::string FieldList(const Value& object) {
  if (object.empty()) return "the object is empty";
  std::string fields = "fields: ";
  size_t listed = 0;
  for (auto it = object.begin(); it != object.end() && listed < 5; ++it, ++listed) {
    fields += fmt::format("{}{}", listed == 0 ? "" : ", ", QuoteText(it.key(), 20));
  }
  if (object.size() > listed) fields += fmt::format(" and {} more", object.size() - listed);
  return fields;
}

}  // namespace

Status ValidateJsonPath(std::string_view path) {
  try {
    Result<std::vector<Segment>> segments = ParsePath(path);
    return segments.ok() ? Status::Ok() : segments.status();
  } catch (const std::exception& e) {
    return Internal(fmt::format("validating a jsonPath: {}", e.what()));
  }
}

Result<Value> EvaluateJsonPath(std::string_view path, const Value& document) {
  try {
    Result<std::vector<Segment>> parsed = ParsePath(path);
    if (!parsed.ok()) return parsed.status();
    const std::vector<Segment>& segments = *parsed;
    auto fail = [&](std::string_view message) {
      return InvalidArgument(
          fmt::format("jsonPath {}: {}", QuoteText(path, kQuotedPathLength), message));
    };
    const Value* node = &document;
    for (size_t i = 0; i < segments.size(); ++i) {
      const Segment& segment = segments[i];
      const std::string where = Canonical(segments, i);
      if (segment.is_index) {
        if (!node->is_array()) {
          return fail(fmt::format("{} is {}, not a list, so it has no [{}]", where,
                                  Described(*node), segment.index));
        }
        const auto size = static_cast<int64_t>(node->size());
        const int64_t index = segment.index < 0 ? segment.index + size : segment.index;
        if (index < 0 || index >= size) {
          return fail(fmt::format("index {} is out of range: {} has {} element{}", segment.index,
                                  where, size, size == 1 ? "" : "s"));
        }
        node = &(*node)[static_cast<size_t>(index)];
      } else {
        if (!node->is_object()) {
          return fail(fmt::format("{} is {}, not an object, so it has no field {}", where,
                                  Described(*node), QuoteText(segment.field, kQuotedNameLength)));
        }
        auto it = node->find(segment.field);
        if (it == node->end()) {
          return fail(fmt::format("no field {} in {} ({})",
                                  QuoteText(segment.field, kQuotedNameLength), where,
                                  FieldList(*node)));
        }
        node = &*it;
      }
    }
    if (NestsDeeperThan(*node, kMaxValueDepth)) {
      return fail(fmt::format("the selected value nests more than {} levels deep", kMaxValueDepth));
    }
    return Value(*node);
  } catch (const std::exception& e) {
    return Internal(fmt::format("evaluating a jsonPath: {}", e.what()));
  }
}

}  // namespace gantry::analysis
