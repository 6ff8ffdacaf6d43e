// YAML to JSON, the way kubectl reads manifests.
//
// Kubernetes tools read YAML through sigs.k8s.io/yaml, which resolves plain scalars by YAML 1.1
// rules (go-yaml v2) and then writes JSON. Gantry must send the API server the same JSON that
// `kubectl apply -f` would, so a manifest means the same thing in both. Therefore, for plain
// (unquoted) scalars:
//   - true/false, yes/no, on/off, y/n in any of their usual casings are booleans. This surprises
//     people (`value: yes` in an env var is rejected by the API server exactly as with kubectl);
//     quote the value to get a string.
//   - ~, null, Null, NULL and the empty value are null.
//   - integers are int64 (uint64 above that): decimal, 0x hex, 0o and 0-prefixed octal, 0b
//     binary, '_' separators allowed; "0777" is 511, as in YAML 1.1.
//   - floats are doubles; one with no fraction ("1.0", "1e3") becomes an integer, because Go's
//     encoding/json writes float64(3) as 3. .nan and .inf are errors: JSON has no such values.
//   - timestamps and everything else stay strings.
// Quoted and block scalars are always strings. Explicit tags !!str, !!int, !!float, !!bool,
// !!null are honoured (a value that does not fit is an error); !!binary is base64-decoded and
// must decode to UTF-8 text (as go-yaml does; put base64 in a plain string for Secret data);
// unknown tags are ignored. Anchors and aliases are expanded, merge keys (<<) are honoured with
// YAML's rule that keys written in the mapping win. Mapping keys become strings (1 -> "1",
// true -> "true"); null or collection keys are errors. Unlike go-yaml, a duplicate key is an
// error, as kubectl's strict decoding reports.
//
// Hostile input is bounded: nesting depth and the number of values after alias expansion are
// limited, and every string must be valid UTF-8. Errors are values naming file, line and column.
// Pure functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/status.h"

namespace gantry::manifest {

struct YamlLimits {
  int max_depth = 100;            // nested mappings and sequences in one document
  size_t max_values = 1'000'000;  // values in one file after alias expansion
};

// One document of a YAML stream.
struct YamlDocument {
  nlohmann::json value;  // null for an empty document
  int line = 0;          // 1-based line of the document's root node
  // For a mapping with an `items` sequence (a List): the 1-based line of each item.
  std::vector<int> item_lines;
};

// Parses every document of `text`. `file` is only used in messages:
// "<file>:<line>:<column>: <what is wrong>". InvalidArgument on a syntax error or any of the
// rules above.
Result<std::vector<YamlDocument>> YamlToJson(std::string_view text, std::string_view file,
                                             const YamlLimits& limits = {});

// The JSON value of one plain (unquoted, untagged) YAML scalar, by the rules above.
// InvalidArgument for .nan and .inf.
Result<nlohmann::json> ResolvePlainScalar(std::string_view value);

// A double as the API server will see it: an integer when it has no fraction and fits int64
// (Go's encoding/json prints float64(3) as 3; nlohmann would print 3.0, which integer fields
// reject), otherwise the double.
nlohmann::json JsonNumberFromDouble(double d);

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace gantry::manifest
