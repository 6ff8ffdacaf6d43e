// Loading the desired objects of an Application from a checked-out Git revision.
//
// LoadManifests reads every .yaml, .yml and .json file under a path of the checkout, in a fixed
// order (names sorted, directories in place), converts YAML the way kubectl does (yaml_json.h),
// flattens List objects and validates each object (validate.h). It is all or nothing: a
// revision with any invalid object, unreadable file or broken limit loads nothing, and the
// Status lists the problems, each as "<file>:<line>: <what is wrong> (object <Kind ns/name>)",
// so the Application's condition can tell the user exactly what to fix. Files that are not
// manifests (README.md, kustomization.yaml, values.yaml without apiVersion/kind, hidden files)
// are skipped, each with its reason.
//
// Safety: the checkout is outside input. Paths and symlinks may not lead out of the root; a
// symlink inside it is followed, a loop is an error; files over 4 MiB, more than 10,000
// objects, and YAML nested deeper than 100 levels are errors.
//
// Functions only; they read the filesystem and keep no state, so any thread may call them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/status.h"
#include "operator/manifest/object.h"
#include "operator/manifest/object_id.h"
#include "operator/manifest/yaml_json.h"

namespace gantry::manifest {

struct LoadOptions {
  uint64_t max_file_bytes = 4 * 1024 * 1024;
  size_t max_objects = 10'000;
  // Problems listed in the Status message; the count of the rest is given.
  size_t max_reported_errors = 20;
  YamlLimits yaml;
};

struct SkippedFile {
  std::string path;  // relative to the root, '/'-separated; "file:line" for a skipped document
  std::string reason;

  // "README.md: not a .yaml/.yml/.json file"
  std::string ToString() const;
};

struct LoadResult {
  std::vector<Object> objects;  // in load order: files by path, documents in file order
  std::vector<SkippedFile> skipped;
};

// Loads every manifest under `path` (relative to `root`; "", "." and "./" mean the root; a
// leading '/' is taken relative to the root, as Flux does). `path` may name a directory or one
// file. Errors: NotFound when root or path does not exist; InvalidArgument for a path or
// symlink leaving the root, and for every problem with the files (all listed, see above).
Result<LoadResult> LoadManifests(const std::filesystem::path& root, std::string_view path = "./",
                                 const LoadOptions& options = {});

// One file's content: what LoadManifests does per file, for content that does not come from a
// checkout (and for fuzzing). `file` names it in messages; its extension picks YAML or JSON
// and its base name detects Kustomize files. The result holds the objects and what was skipped
// (the whole file when it is not a manifest, or single documents); InvalidArgument lists every
// problem. Duplicates across files are LoadManifests' check.
struct ParsedFile {
  std::vector<Object> objects;
  std::vector<SkippedFile> skipped;  // the file itself, or single documents in it
};
Result<ParsedFile> ParseManifestFile(std::string_view content, std::string_view file,
                                     const LoadOptions& options = {});

// Whether objects of a kind live in namespaces; only API discovery (or a CRD's spec.scope)
// knows.
using IsNamespacedFn = std::function<bool(const GroupKind&)>;

// Gives every object of a namespaced kind without metadata.namespace the `target_namespace`
// (Application spec.targetNamespace), and drops metadata.namespace from objects of
// cluster-scoped kinds (kubectl ignores it there; keeping it would give the object a wrong
// inventory id). InvalidArgument when target_namespace is not a DNS-1123 label, or when two
// objects become the same object (naming both origins); `objects` may then be partly updated.
Status ApplyTargetNamespace(std::vector<Object>& objects, std::string_view target_namespace,
                            const IsNamespacedFn& is_namespaced);

}  // namespace gantry::manifest
