#include "operator/manifest/json_text.h"

#include <fmt/format.h>

#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

namespace gantry::manifest {
namespace {

using nlohmann::json;

// How far nlohmann's lexer has read, so parse callbacks can tell where they are.
struct ReadPosition {
  const char* begin = nullptr;
  const char* furthest = nullptr;
  // Lines are counted incrementally: positions only move forward.
  const char* counted_to = nullptr;
  int line = 1;

  // 1-based line of the last character read.
  int LineOfLastRead() {
    const char* target = furthest > begin ? furthest - 1 : begin;
    for (; counted_to < target; ++counted_to) {
      if (*counted_to == '\n') ++line;
    }
    return line;
  }
};

// A char iterator that reports how far it got; nlohmann copies it into its input adapter.
class TrackingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator(const char* p, ReadPosition* position) : p_(p), position_(position) {}

  reference operator*() const { return *p_; }
  TrackingIterator& operator++() {
    ++p_;
    if (p_ > position_->furthest) position_->furthest = p_;
    return *this;
  }
  TrackingIterator operator++(int) {
    TrackingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const TrackingIterator& other) const { return p_ == other.p_; }
  bool operator!=(const TrackingIterator& other) const { return p_ != other.p_; }

 private:
  const char* p_;
  ReadPosition* position_;
};

struct JsonError {
  int line;
  std::string message;
};

std::pair<int, int> LineAndColumn(std::string_view text, size_t byte) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// nlohmann's what() reads "[json.exception.parse_error.101] parse error at line 1, column 5:
// syntax error while parsing ..."; the location is printed by us, so keep what follows it.
std::string ParseErrorText(const std::string& what) {
  size_t column = what.find("column ");
  if (column != std::string::npos) {
    size_t colon = what.find(": ", column);
    if (colon != std::string::npos) return what.substr(colon + 2);
  }
  size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

}  // namespace

Result<YamlDocument> ParseJsonText(std::string_view text, std::string_view file,
                                   const YamlLimits& limits) {
  ReadPosition position;
  position.begin = text.data();
  position.furthest = text.data();
  position.counted_to = text.data();

  YamlDocument doc;
  std::vector<std::unordered_set<std::string>> keys_by_depth;
  std::string root_key;
  bool in_items = false;

  auto callback = [&](int depth, json::parse_event_t event, json& parsed) -> bool {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth >= limits.max_depth) {
          throw JsonError{position.LineOfLastRead(),
                          fmt::format("nesting is deeper than {} levels", limits.max_depth)};
        }
        if (depth == 0) doc.line = position.LineOfLastRead();
        if (depth == 2 && in_items) doc.item_lines.push_back(position.LineOfLastRead());
        if (event == json::parse_event_t::object_start) {
          if (keys_by_depth.size() <= static_cast<size_t>(depth)) keys_by_depth.resize(depth + 1);
          keys_by_depth[depth].clear();
        } else if (depth == 1 && root_key == "items") {
          in_items = true;
        }
        break;
      case json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (depth >= 1 && static_cast<size_t>(depth - 1) < keys_by_depth.size() &&
            !keys_by_depth[depth - 1].insert(key).second) {
          throw JsonError{position.LineOfLastRead(), fmt::format("duplicate key \"{}\"", key)};
        }
        if (depth == 1) root_key = key;
        break;
      }
      case json::parse_event_t::array_end:
        if (depth == 1) in_items = false;
        break;
      case json::parse_event_t::value:
        if (depth == 0) doc.line = position.LineOfLastRead();
        if (depth == 2 && in_items) doc.item_lines.push_back(position.LineOfLastRead());
        if (parsed.is_number_float()) parsed = JsonNumberFromDouble(parsed.get<double>());
        break;
      case json::parse_event_t::object_end:
        break;
    }
    return true;
  };

  try {
    doc.value = json::parse(TrackingIterator(text.data(), &position),
                            TrackingIterator(text.data() + text.size(), &position), callback);
  } catch (const JsonError& e) {
    return InvalidArgument(fmt::format("{}:{}: {}", file, e.line, e.message));
  } catch (const json::parse_error& e) {
    auto [line, column] = LineAndColumn(text, e.byte);
    return InvalidArgument(
        fmt::format("{}:{}:{}: {}", file, line, column, ParseErrorText(e.what())));
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("{}: cannot read JSON: {}", file, e.what()));
  }
  return doc;
}

}  // namespace gantry::manifest
