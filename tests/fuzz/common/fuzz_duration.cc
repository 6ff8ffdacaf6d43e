// Fuzzes Go duration parsing (operator/common/duration): any text is parsed; what parses must
// format to a string that parses back to the same duration, and errors must be
// InvalidArgument with a message. Aborts otherwise.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "operator/common/duration.h"
#include "operator/common/status.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = gantry::ParseDuration(text);
  if (!parsed.ok()) {
    Check(parsed.status().code() == gantry::StatusCode::kInvalidArgument);
    Check(!parsed.status().message().empty());
    return 0;
  }
  const std::string formatted = gantry::FormatDuration(*parsed);
  auto again = gantry::ParseDuration(formatted);
  Check(again.ok());
  Check(*again == *parsed);
  return 0;
}
