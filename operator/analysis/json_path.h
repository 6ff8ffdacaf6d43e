// The JSONPath subset that the web metric provider's `jsonPath` accepts.
//
// Argo Rollouts evaluates `jsonPath` with Kubernetes' JSONPath templates; in practice users
// select one value from a JSON answer, and that is the subset Gantry supports:
//
//   {$.data.ok}   $.data.ok   {.data.ok}   .data.ok   field access (names may contain
//                                                     letters, digits, _ - / and non-ASCII)
//   $.items[0].value   $.items[-1]                    list index (negative counts from the end)
//   $['weird key']   $["a.b"]                         quoted field name (\' \" \\ escapes)
//   $   {$}   {.}                                     the whole document
//
// Surrounding braces and spaces are optional. Wildcards, recursive descent, filters, slices,
// unions and text around the braces are refused with an error that names them.
//
// Pure functions, safe from any thread.
#pragma once

#include <string_view>

#include "operator/analysis/value.h"
#include "operator/common/status.h"

namespace gantry::analysis {

// Checks that `path` is in the supported subset, for validating a spec before it is used.
// Errors: InvalidArgument `jsonPath "<path>": at column N: <what is wrong>`.
Status ValidateJsonPath(std::string_view path);

// The value at `path` in `document`, copied out. Errors (InvalidArgument, each starting
// `jsonPath "<path>": `): the path is invalid, as ValidateJsonPath; a field that does not exist
// ("no field \"ok\" in $.data (fields: ...)"); an index out of range; a field of something
// that is not an object or an index into something that is not a list; a selected value nested
// deeper than kMaxValueDepth.
Result<Value> EvaluateJsonPath(std::string_view path, const Value& document);

}  // namespace gantry::analysis
