// JSON manifest files: parsed strictly, with the line of each object for messages.
//
// kubectl reads .json files with Go's encoding/json; so does Gantry, with the same numbers
// (a float with no fraction becomes an integer, as yaml_json.h explains) and two extra checks
// kubectl's strict mode also makes: a duplicate key is an error, and strings must be UTF-8.
// Pure function; safe from any thread.
#pragma once

#include <string_view>

#include "operator/common/status.h"
#include "operator/manifest/yaml_json.h"

namespace gantry::manifest {

// Parses `text` as one JSON value, returned as a single YamlDocument (line of the first '{' or
// '[', and for an object with an `items` array the line of each item). `file` is used in
// messages: "<file>:<line>:<column>: <what is wrong>". InvalidArgument on a syntax error,
// a duplicate key, or nesting deeper than limits.max_depth.
Result<YamlDocument> ParseJsonText(std::string_view text, std::string_view file,
                                   const YamlLimits& limits = {});

}  // namespace gantry::manifest
