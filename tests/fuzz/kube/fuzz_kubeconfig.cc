// Fuzzes kubeconfig parsing (operator/kube/rest_config): any text is parsed as a kubeconfig.
// Aborts on a crash, on an exception escaping, on an error without a message, and on an
// accepted config without a server or with an impossible throttle.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "operator/common/status.h"
#include "operator/kube/rest_config.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A relative path: file references (certificate-authority: ca.crt) resolve under a directory
  // that does not exist, so the fuzzer never reads real files.
  auto config = gantry::kube::ParseKubeconfig(text, "/nonexistent-fuzz-dir/kubeconfig");
  if (!config.ok()) {
    Check(config.status().code() != gantry::StatusCode::kOk);
    Check(config.status().code() != gantry::StatusCode::kInternal);
    Check(!config.status().message().empty());
    return 0;
  }
  Check(!config->server.empty());
  Check(!config->origin.empty());
  Check(config->burst >= 0);
  return 0;
}
