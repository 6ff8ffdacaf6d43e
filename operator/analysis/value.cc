#include "operator/analysis/value.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

namespace gantry::analysis {
namespace {

// Length of the well-formed UTF-8 sequence that starts at text[i], or 0 when the bytes there
// are not one (stray continuation byte, truncated sequence, overlong form, surrogate).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint32_t code_point = 0;
  uint32_t smallest = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code_point = lead & 0x1F, smallest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code_point = lead & 0x0F, smallest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code_point = lead & 0x07, smallest = 0x10000;
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  if (code_point < smallest || code_point > 0x10FFFF ||
      (code_point >= 0xD800 && code_point <= 0xDFFF)) {
    return 0;
  }
  return length;
}

// Appends `text` JSON-escaped (without quotes), reading at most max_input bytes. Returns true
// when it stopped early.
bool AppendEscaped(std::string& out, std::string_view text, size_t max_input) {
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = Utf8SequenceLength(text, i);
    if (i + std::max<size_t>(length, 1) > max_input) return true;
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return false;
}

void AppendNumber(std::string& out, const Value& value) {
  auto sink = std::back_inserter(out);
  if (value.is_number_unsigned()) {
    fmt::format_to(sink, "{}", value.get<uint64_t>());
  } else if (value.is_number_integer()) {
    fmt::format_to(sink, "{}", value.get<int64_t>());
  } else {
    const double d = value.get<double>();
    if (std::isnan(d)) {
      out += "NaN";
    } else if (std::isinf(d)) {
      out += d > 0 ? "+Inf" : "-Inf";
    } else {
      fmt::format_to(sink, "{}", d);
    }
  }
}

// Recursion is bounded by kMaxValueDepth; output stops growing soon after `budget` bytes.
void AppendValue(std::string& out, const Value& value, size_t depth, size_t budget) {
  if (out.size() > budget) return;
  switch (value.type()) {
    case Value::value_t::null:
      out += "null";
      return;
    case Value::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
    case Value::value_t::number_float:
      AppendNumber(out, value);
      return;
    case Value::value_t::string:
      out += '"';
      AppendEscaped(out, value.get_ref<const std::string&>(), std::string::npos);
      out += '"';
      return;
    case Value::value_t::array: {
      if (depth >= kMaxValueDepth) {
        out += "[...]";
        return;
      }
      out += '[';
      bool first = true;
      for (const Value& element : value) {
        if (out.size() > budget) return;
        if (!first) out += ',';
        first = false;
        AppendValue(out, element, depth + 1, budget);
      }
      out += ']';
      return;
    }
    case Value::value_t::object: {
      if (depth >= kMaxValueDepth) {
        out += "{...}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& [key, element] : value.items()) {
        if (out.size() > budget) return;
        if (!first) out += ',';
        first = false;
        out += '"';
        AppendEscaped(out, key, std::string::npos);
        out += "\":";
        AppendValue(out, element, depth + 1, budget);
      }
      out += '}';
      return;
    }
    case Value::value_t::binary:
      out += "<binary>";
      return;
    case Value::value_t::discarded:
      out += "<discarded>";
      return;
  }
}

bool EqualsIgnoringCase(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

}  // namespace

std::string_view ValueTypeName(const Value& value) {
  switch (value.type()) {
    case Value::value_t::null:
      return "null";
    case Value::value_t::boolean:
      return "boolean";
    case Value::value_t::number_integer:
    case Value::value_t::number_unsigned:
    case Value::value_t::number_float:
      return "number";
    case Value::value_t::string:
      return "string";
    case Value::value_t::array:
      return "list";
    case Value::value_t::object:
      return "object";
    case Value::value_t::binary:
      return "binary";
    case Value::value_t::discarded:
      return "discarded";
  }
  return "unknown";
}

std::string FormatValue(const Value& value, size_t max_length) {
  std::string out;
  AppendValue(out, value, 0, max_length);
  if (out.size() <= max_length) return out;
  size_t cut = max_length;
  // Never split a UTF-8 sequence: back up to the start of the character at the cut.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "...";
  return out;
}

std::string QuoteText(std::string_view text, size_t max_length) {
  std::string out = "\"";
  const bool cut = AppendEscaped(out, text, max_length);
  out += '"';
  if (cut) out += "...";
  return out;
}

std::string PrintableText(std::string_view text, size_t max_length) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t length = Utf8SequenceLength(text, i);
    if (i + std::max<size_t>(length, 1) > max_length) {
      out += "...";
      break;
    }
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else if (length == 1 && (static_cast<unsigned char>(text[i]) < 0x20 || text[i] == 0x7F)) {
      out += ' ';
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

size_t CountCharacters(std::string_view text) {
  size_t count = 0;
  for (size_t i = 0; i < text.size(); ++count) {
    const size_t length = Utf8SequenceLength(text, i);
    i += length == 0 ? 1 : length;
  }
  return count;
}

bool NestsDeeperThan(const Value& value, size_t limit) {
  // Level by level, so that the walk needs no recursion however deep the document is.
  std::vector<const Value*> level;
  if (value.is_structured()) level.push_back(&value);
  size_t depth = 0;
  while (!level.empty()) {
    if (++depth > limit) return true;
    std::vector<const Value*> next;
    for (const Value* node : level) {
      for (const Value& child : *node) {
        if (child.is_structured()) next.push_back(&child);
      }
    }
    level.swap(next);
  }
  return false;
}

std::optional<double> ParseFloat(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  if (EqualsIgnoringCase(rest, "inf") || EqualsIgnoringCase(rest, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  // Go accepts NaN only without a sign.
  if (rest.size() == text.size() && EqualsIgnoringCase(rest, "nan")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  // from_chars would also take "nan(...)" and "infinity" spellings; only digits may start here.
  if (rest.empty() || !((rest.front() >= '0' && rest.front() <= '9') || rest.front() == '.')) {
    return std::nullopt;
  }
  double number = 0;
  const char* end = rest.data() + rest.size();
  const auto [stop, error] = std::from_chars(rest.data(), end, number);
  if (error != std::errc() || stop != end) return std::nullopt;
  return negative ? -number : number;
}

}  // namespace gantry::analysis
