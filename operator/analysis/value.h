// Value: what a metric provider measured, and what an analysis condition computes.
//
// A Value is a JSON value (nlohmann::json) whose numbers may also be NaN or ±Inf in memory:
// Prometheus answers with them and Go's float semantics produce them, though JSON text cannot
// spell them. Providers build Values, conditions read them, and FormatValue turns one into the
// text stored in a measurement's `value`. Include <nlohmann/json.hpp> to build or inspect one.
//
// Everything here is a pure function, safe to call from any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::analysis {

using Value = nlohmann::json;

// How deeply lists and objects may nest in a Value that Gantry copies or formats. Copying and
// printing JSON recurse once per level, so a document from an outside endpoint that nests
// deeper is refused with an error rather than allowed to exhaust the stack.
inline constexpr size_t kMaxValueDepth = 256;

// "null", "boolean", "number", "string", "list" or "object".
std::string_view ValueTypeName(const Value& value);

// The text of a value, for a measurement's `value` and for messages. Numbers in the shortest
// form that reads back exactly ("0.95", "3", "1e+21"), with NaN and infinities spelled the way
// Prometheus does ("NaN", "+Inf", "-Inf"); strings JSON-quoted; lists "[1,2]"; objects
// {"a":1}. Invalid UTF-8 becomes U+FFFD so the text can go into a Kubernetes status. Output
// longer than max_length bytes is cut and ends with "..."; lists and objects nested deeper than
// kMaxValueDepth print as "[...]" / "{...}".
std::string FormatValue(const Value& value, size_t max_length = std::string::npos);

// `text` in JSON double quotes with control characters escaped and invalid UTF-8 replaced by
// U+FFFD; when longer than max_length bytes of input, cut at a character boundary and "..."
// appended after the closing quote. For quoting untrusted text in messages.
std::string QuoteText(std::string_view text, size_t max_length = std::string::npos);

// `text` made safe to embed in a message or a Kubernetes status without quoting: invalid UTF-8
// becomes U+FFFD and control characters (newlines included) become spaces. Longer than
// max_length bytes of input, it is cut at a character boundary and ends with "...".
std::string PrintableText(std::string_view text, size_t max_length = std::string::npos);

// Number of characters in UTF-8 `text`, each byte that is not part of a well-formed sequence
// counting as one (as Go's utf8.RuneCountInString does).
size_t CountCharacters(std::string_view text);

// True when lists and objects in `value` nest more than `limit` levels (a scalar is 0 levels,
// [] is 1, [[1]] is 2). Walks the document without recursion, so it is safe on any input.
bool NestsDeeperThan(const Value& value, size_t limit);

// Parses a number as Go's strconv.ParseFloat does for the text Prometheus and HTTP endpoints
// send: an optional sign, decimal digits with optional fraction and exponent, or "NaN",
// "Inf", "Infinity" in any case with an optional sign. No surrounding spaces. Returns nullopt
// for anything else, including values out of the range of a double.
std::optional<double> ParseFloat(std::string_view text);

}  // namespace gantry::analysis
