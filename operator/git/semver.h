// Semantic versions and version ranges for GitRepository `spec.ref.semver`.
//
// The range syntax is the one Flux users write (Masterminds/semver v3): comparators
// `= != > < >= <= ~ ~> ^` (and `=>`, `=<`), partial versions and wildcards (`1`, `1.2`, `1.x`,
// `1.2.*`, `*`), AND by spaces or commas, OR by `||`, hyphen ranges `1.0 - 2.0`. Versions may
// carry a leading "v" (tags usually do). One deliberate difference: Masterminds drops a
// prerelease version as soon as one comparator of an AND group lacks a prerelease, so
// `>=1.0.0-0 <2.0.0` never matches `1.5.0-rc.1`; here a prerelease version is considered when
// any comparator of its AND group mentions a prerelease, which is what a user who wrote one
// means. Ranges without a prerelease never match prerelease versions, and an upper bound
// excludes the prereleases of the bound itself (`<2.0.0` and `1.x` both exclude
// `2.0.0-rc.1`).
//
// Everything here is pure and safe from any thread. The parsers accept arbitrary bytes and
// never crash or throw (they are fuzz targets).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/status.h"

namespace gantry::git {

struct SemverVersion {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::vector<std::string> prerelease;  // dot-separated identifiers after '-'; empty: release
  std::string build;                    // after '+'; ignored by comparisons

  bool IsPrerelease() const { return !prerelease.empty(); }
  // Canonical form without the "v": "1.2.3", "1.2.3-rc.1+build.5".
  std::string ToString() const;
};

// Parses a version as Masterminds' NewVersion does: an optional "v", MAJOR with optional
// .MINOR and .PATCH (missing parts are 0), then optional -PRERELEASE and +BUILD. Numbers are
// decimal without leading zeros. InvalidArgument names the text and the problem.
Result<SemverVersion> ParseSemver(std::string_view text);

// Semantic Versioning 2.0.0 precedence: <0, 0, >0. Build metadata is ignored.
int CompareSemver(const SemverVersion& a, const SemverVersion& b);

// A parsed range. Cheap to copy.
class SemverRange {
 public:
  // True if `version` satisfies any OR group of the range.
  bool Matches(const SemverVersion& version) const;

  // The text the range was parsed from.
  const std::string& text() const { return text_; }

  // One comparator, already normalised: the bound version with wildcards filled in, and how
  // many leading parts were given (3: exact; 2: "1.2" / "1.2.x"; 1: "1" / "1.x"; 0: "*").
  enum class Op { kEqual, kNotEqual, kGreater, kGreaterEqual, kLess, kLessEqual, kTilde, kCaret };
  struct Comparator {
    Op op = Op::kEqual;
    SemverVersion version;
    int given_parts = 3;
  };

 private:
  friend Result<SemverRange> ParseSemverRange(std::string_view text);
  std::string text_;
  std::vector<std::vector<Comparator>> groups_;  // OR of ANDs
};

// Parses a range (see the top of this file). InvalidArgument names the text and the offending
// part, e.g. `invalid semver range ">=1.0 <<2": unknown operator "<<"`. Never crashes.
Result<SemverRange> ParseSemverRange(std::string_view text);

// A tag that satisfied a range.
struct SemverMatch {
  std::string tag;  // as given, e.g. "v1.2.3"
  SemverVersion version;
};

// Picks the highest version among `tags` that `range` matches; tags that are not versions are
// ignored. When two tags name the same version ("1.0.0" and "v1.0.0") the one that sorts last
// as a string wins, so the answer does not depend on the order of `tags`.
std::optional<SemverMatch> PickHighestMatching(const SemverRange& range,
                                               const std::vector<std::string>& tags);

}  // namespace gantry::git
