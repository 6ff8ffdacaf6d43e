// Checks a desired object must pass before Gantry sends anything to the API server.
//
// These are the checks the loader can make without a cluster: the fields every object needs,
// names the API server would reject, and Gantry's own annotations. The API server's dry run
// (later, in the applier) checks the rest. Pure functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace gantry::manifest {

// Everything wrong with `object`, each a sentence without location ("metadata.name is
// missing"); empty when it is fine. Checks: apiVersion and kind present strings of the right
// shape; metadata a mapping with a name (generateName is refused: Gantry tracks objects by
// name); the name valid for the kind (IsValidNameForKind); metadata.namespace a DNS-1123 label;
// labels and annotations mappings of strings; annotation gantry.io/sync-wave an integer.
std::vector<std::string> ValidateObject(const nlohmann::json& object);

// The name rule the API server applies to `kind` in `group`, as a sentence when `name` breaks
// it: Namespaces are DNS-1123 labels, Services DNS-1035 labels, RBAC objects path segments
// (they may hold ':'), everything else (including custom resources) DNS-1123 subdomains.
// Empty when the name is fine.
std::string CheckNameForKind(std::string_view group, std::string_view kind, std::string_view name);

// RFC 1123 label: at most 63 of [a-z0-9-], starting and ending alphanumeric.
bool IsDns1123Label(std::string_view s);
// RFC 1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels.
bool IsDns1123Subdomain(std::string_view s);
// RFC 1035 label: a DNS-1123 label that starts with a letter.
bool IsDns1035Label(std::string_view s);

}  // namespace gantry::manifest
