// Fuzzes semver versions and ranges (operator/git/semver): the first line is a range, every
// further line a tag. Checks that a parsed version prints to text that parses back to an equal
// version, that comparison is antisymmetric, and that the tag PickHighestMatching returns
// matches the range and is not lower than any other matching tag. Aborts otherwise.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/status.h"
#include "operator/git/semver.h"

namespace {

using gantry::git::CompareSemver;
using gantry::git::ParseSemver;
using gantry::git::SemverVersion;

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }

  std::vector<std::string> tags;
  std::vector<SemverVersion> versions;
  for (size_t i = 1; i < lines.size() && i <= 16; ++i) {
    tags.emplace_back(lines[i]);
    auto version = ParseSemver(lines[i]);
    if (!version.ok()) {
      Check(version.status().code() == gantry::StatusCode::kInvalidArgument);
      continue;
    }
    auto again = ParseSemver(version->ToString());
    Check(again.ok());
    Check(CompareSemver(*again, *version) == 0);
    Check(again->ToString() == version->ToString());
    for (const auto& other : versions) {
      const int a = CompareSemver(*version, other);
      const int b = CompareSemver(other, *version);
      Check((a < 0 && b > 0) || (a > 0 && b < 0) || (a == 0 && b == 0));
    }
    versions.push_back(*version);
  }

  auto range = gantry::git::ParseSemverRange(lines[0]);
  if (!range.ok()) {
    Check(range.status().code() == gantry::StatusCode::kInvalidArgument);
    Check(!range.status().message().empty());
    return 0;
  }
  Check(range->text() == lines[0]);
  std::optional<gantry::git::SemverMatch> best = gantry::git::PickHighestMatching(*range, tags);
  if (best) Check(range->Matches(best->version));
  for (const auto& version : versions) {
    if (!range->Matches(version)) continue;
    Check(best.has_value());
    Check(CompareSemver(best->version, version) >= 0);
  }
  return 0;
}
