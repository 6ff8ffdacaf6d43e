// Normalising objects for diff and display: what the differ, `gantry app diff` and the applier
// share so that a diff shows only what the user controls, and never a secret.
//
//   StripServerFields    drops what the API server fills in (managedFields, resourceVersion,
//                        uid, creationTimestamp, generation, selfLink, status)
//   ApplyIgnoreDifferences  removes the fields an Application's spec.ignoreDifferences names
//                        (RFC 6901 JSON pointers) from a copy
//   FoldStringData / MaskSecretPair  Secret values as the server stores them, then hidden:
//                        each distinct value becomes a run of '+', so a diff shows *that* a
//                        value changed (different runs), never the value or a hash of it (a
//                        hash of a short password can be guessed)
//   HashAppliedObject    SHA-256 of the canonical JSON, to skip writing unchanged objects
//
// Pure functions on copies; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/status.h"

namespace gantry::manifest {

// A copy of `object` without metadata.managedFields, resourceVersion, uid, creationTimestamp,
// generation, selfLink, and without status.
nlohmann::json StripServerFields(const nlohmann::json& object);

// The reference tokens of an RFC 6901 pointer ("/a~1b/c~0d" -> {"a/b", "c~d"}).
// InvalidArgument when it does not start with '/', has '~' not followed by 0 or 1, or is ""
// (the whole object, which cannot be ignored).
Result<std::vector<std::string>> ParseJsonPointer(std::string_view pointer);

// A copy of `object` without the values the pointers name. A pointer that names nothing is not
// an error (the field is simply absent); array elements are named by index and removed in the
// order the pointers are given. InvalidArgument (quoting the pointer) when one is malformed.
Result<nlohmann::json> RemoveJsonPointers(const nlohmann::json& object,
                                          const std::vector<std::string>& pointers);

// One Application spec.ignoreDifferences entry. Empty group means the core API; "*" in group or
// kind matches any; empty name or namespace matches any.
struct IgnoreDifference {
  std::string group;
  std::string kind;
  std::string name;
  std::string namespace_;
  std::vector<std::string> json_pointers;
};

bool IgnoreDifferenceMatches(const IgnoreDifference& rule, const nlohmann::json& object);

// RemoveJsonPointers with the pointers of every rule that matches `object`.
Result<nlohmann::json> ApplyIgnoreDifferences(const nlohmann::json& object,
                                              const std::vector<IgnoreDifference>& rules);

// True for core v1 Secrets.
bool IsSecret(const nlohmann::json& object);

// A Secret as the API server stores it: each stringData value base64-encoded into data (over
// a data value of the same key), stringData removed. Other objects are returned unchanged.
nlohmann::json FoldStringData(const nlohmann::json& object);

// `secret` with every data and stringData value, and the
// kubectl.kubernetes.io/last-applied-configuration annotation, replaced by "++++++++".
nlohmann::json MaskSecret(const nlohmann::json& secret);

struct MaskedPair {
  nlohmann::json desired;
  nlohmann::json live;
};

// Masks two versions of the same Secret together: equal values get equal runs of '+', different
// values different runs (8, 9, 10, ... characters, in order of first appearance). Objects that
// are not Secrets pass through unchanged; either side may be null (missing).
MaskedPair MaskSecretPair(const nlohmann::json& desired, const nlohmann::json& live);

// `object` as compact JSON with keys sorted: the same value always gives the same text.
// Invalid UTF-8 is replaced (U+FFFD) rather than thrown on.
std::string CanonicalJson(const nlohmann::json& object);

// Lower-case hex SHA-256 of `data` (OpenSSL EVP).
std::string Sha256Hex(std::string_view data);

// Sha256Hex of CanonicalJson(StripServerFields(desired)): equal for equal desired objects,
// whatever their key order or formatting in Git.
std::string HashAppliedObject(const nlohmann::json& desired);

}  // namespace gantry::manifest
