// Object: one desired Kubernetes object as loaded from a Git revision, with its origin.
//
// The loader (loader.h) makes them; ordering, diff, apply and prune pass them along so that
// every message about an object can cite where it came from ("apps/web.yaml:17"). Objects
// built from live cluster state (for pruning) have no file and line 0. Plain values: copy
// and move freely, share between threads read-only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace gantry::manifest {

struct Object {
  nlohmann::json json;  // the object, always a JSON object
  std::string file;     // relative to the repository root, '/'-separated; empty for live objects
  int line = 0;         // 1-based line where the object's document (or List item) starts; 0: none
  int index = 0;        // 0-based position among the objects loaded from `file`

  // "apps/web.yaml:17", "apps/web.yaml" when there is no line, "" for live objects.
  std::string Origin() const;
};

// "Deployment web/api" (namespace/name), "Namespace web" for objects without a namespace,
// "Job web/migrate-*" for a generateName, "Deployment" when there is no name at all. Never
// throws, whatever the JSON looks like.
std::string DescribeObject(const nlohmann::json& object);

// How a JSON value reads in a message: "a mapping", "a list", "a string", "a number",
// "a boolean", "null".
std::string_view JsonTypePhrase(const nlohmann::json& value);

// "<origin>: <what> (object <DescribeObject>)", the one shape of a message about an object.
std::string ObjectMessage(const Object& object, std::string_view what);

}  // namespace gantry::manifest
