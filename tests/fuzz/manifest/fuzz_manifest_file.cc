// Fuzzes the manifest loader's per-file parse (YAML and JSON, multi-document, Lists, limits,
// validation). The first byte picks the file name, so YAML, JSON and Kustomize detection are
// all reached; the rest is the content. Aborts on a crash, on an error that is not a clear
// InvalidArgument naming the file, and on an accepted object that is not an object with
// apiVersion and kind and an origin in the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "operator/common/status.h"
#include "operator/manifest/loader.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

constexpr std::string_view kFiles[] = {"apps/web.yaml", "apps/web.json", "deploy.yml",
                                       "kustomization.yaml"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view file = kFiles[data[0] % std::size(kFiles)];
  const std::string_view content(reinterpret_cast<const char*>(data + 1), size - 1);
  gantry::manifest::LoadOptions options;
  // Small limits so that the fuzzer reaches them with small inputs.
  options.max_file_bytes = 64 * 1024;
  options.max_objects = 50;
  options.yaml.max_depth = 40;
  options.yaml.max_values = 20'000;

  auto parsed = gantry::manifest::ParseManifestFile(content, file, options);
  if (!parsed.ok()) {
    Check(parsed.status().code() == gantry::StatusCode::kInvalidArgument);
    Check(parsed.status().message().find(file) != std::string::npos);
    return 0;
  }
  Check(parsed->objects.size() <= options.max_objects);
  for (const auto& object : parsed->objects) {
    Check(object.json.is_object());
    Check(object.json.contains("apiVersion") && object.json["apiVersion"].is_string());
    Check(object.json.contains("kind") && object.json["kind"].is_string());
    Check(object.file == file);
    Check(object.line >= 1);
    // What the applier will send must serialise (valid UTF-8 everywhere).
    (void)object.json.dump();
  }
  for (const auto& skipped : parsed->skipped) Check(!skipped.reason.empty());
  return 0;
}
