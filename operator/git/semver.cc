#include "operator/git/semver.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>

namespace gantry::git {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsOpChar(char c) {
  return c == '<' || c == '>' || c == '=' || c == '!' || c == '~' || c == '^';
}
bool IsWildcard(std::string_view s) { return s == "x" || s == "X" || s == "*"; }

// Parses a decimal without sign or leading zeros; nullopt on anything else or overflow.
std::optional<uint64_t> ParseNumber(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), IsDigit)) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Splits "a.b.c" on dots; every identifier must be non-empty and made of [0-9A-Za-z-].
// Numeric prerelease identifiers may not have leading zeros (SemVer 2.0.0 §9).
std::optional<std::vector<std::string>> ParseIdentifiers(std::string_view s, bool prerelease) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view id = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (id.empty() || !std::all_of(id.begin(), id.end(), IsIdentChar)) return std::nullopt;
    if (prerelease && std::all_of(id.begin(), id.end(), IsDigit) && id.size() > 1 && id[0] == '0') {
      return std::nullopt;
    }
    out.emplace_back(id);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return out;
}

// The parts of a version or partial version: up to three dotted numbers (or wildcards), then
// -prerelease and +build. Shared by ParseSemver and the range parser.
struct VersionParts {
  std::vector<std::string_view> numbers;
  std::string_view prerelease;
  bool has_prerelease = false;
  std::string_view build;
  bool has_build = false;
};

std::optional<VersionParts> SplitVersion(std::string_view s) {
  VersionParts parts;
  if (!s.empty() && s[0] == 'v') s.remove_prefix(1);
  size_t plus = s.find('+');
  if (plus != std::string_view::npos) {
    parts.build = s.substr(plus + 1);
    parts.has_build = true;
    s = s.substr(0, plus);
  }
  size_t dash = s.find('-');
  if (dash != std::string_view::npos) {
    parts.prerelease = s.substr(dash + 1);
    parts.has_prerelease = true;
    s = s.substr(0, dash);
  }
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    parts.numbers.push_back(s.substr(start, dot == std::string_view::npos ? s.npos : dot - start));
    if (dot == std::string_view::npos) break;
    if (parts.numbers.size() == 3) return std::nullopt;  // a fourth part
    start = dot + 1;
  }
  return parts;
}

Status BadVersion(std::string_view text, std::string_view why) {
  return InvalidArgument(fmt::format("invalid semantic version \"{}\": {}", text, why));
}

Status BadRange(std::string_view text, std::string_view why) {
  return InvalidArgument(fmt::format(
      "invalid semver range \"{}\": {} (want e.g. \">=1.0.0 <2.0.0\", \"^1.2\", \"~1.2.3\", "
      "\"1.x\", \"1.0 - 2.0\")",
      text, why));
}

// Fills prerelease and build of `v` from `parts`; false if they are malformed.
bool FillLabels(const VersionParts& parts, SemverVersion& v) {
  if (parts.has_prerelease) {
    auto ids = ParseIdentifiers(parts.prerelease, /*prerelease=*/true);
    if (!ids) return false;
    v.prerelease = std::move(*ids);
  }
  if (parts.has_build) {
    if (!ParseIdentifiers(parts.build, /*prerelease=*/false)) return false;
    v.build = std::string(parts.build);
  }
  return true;
}

using Op = SemverRange::Op;
using Comparator = SemverRange::Comparator;

// Parses one bound of a comparator: "1", "1.2", "1.x", "v1.2.*", "1.2.3-rc.1", "*".
Result<Comparator> ParseBound(std::string_view range_text, std::string_view token, Op op) {
  auto parts = SplitVersion(token);
  if (!parts) return BadRange(range_text, fmt::format("\"{}\" has more than three parts", token));
  Comparator c;
  c.op = op;
  c.given_parts = 0;
  uint64_t* fields[] = {&c.version.major, &c.version.minor, &c.version.patch};
  bool wildcard_seen = false;
  for (size_t i = 0; i < parts->numbers.size(); ++i) {
    std::string_view n = parts->numbers[i];
    if (IsWildcard(n)) {
      wildcard_seen = true;
      continue;
    }
    if (wildcard_seen) {
      return BadRange(range_text, fmt::format("\"{}\" has a number after a wildcard", token));
    }
    auto value = ParseNumber(n);
    if (!value) {
      return BadRange(range_text,
                      fmt::format("\"{}\" is not a version (bad part \"{}\")", token, n));
    }
    *fields[i] = *value;
    c.given_parts = static_cast<int>(i) + 1;
  }
  if (!FillLabels(*parts, c.version)) {
    return BadRange(range_text,
                    fmt::format("\"{}\" has a malformed prerelease or build label", token));
  }
  return c;
}

Result<Op> ParseOp(std::string_view range_text, std::string_view op) {
  if (op.empty() || op == "=") return Op::kEqual;
  if (op == "!=") return Op::kNotEqual;
  if (op == ">") return Op::kGreater;
  if (op == ">=" || op == "=>") return Op::kGreaterEqual;
  if (op == "<") return Op::kLess;
  if (op == "<=" || op == "=<") return Op::kLessEqual;
  if (op == "~" || op == "~>") return Op::kTilde;
  if (op == "^") return Op::kCaret;
  return BadRange(range_text, fmt::format("unknown operator \"{}\"", op));
}

// Parses one AND group (the text between "||"). Comparators are separated by whitespace or
// commas; "A - B" is a hyphen range.
Result<std::vector<Comparator>> ParseGroup(std::string_view range_text, std::string_view s) {
  std::vector<Comparator> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && IsSpace(s[i])) ++i;
  };
  auto read_version = [&] {
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i]) && s[i] != ',' && !IsOpChar(s[i])) ++i;
    return s.substr(start, i - start);
  };
  while (true) {
    while (i < s.size() && (IsSpace(s[i]) || s[i] == ',')) ++i;
    if (i >= s.size()) break;
    size_t op_start = i;
    while (i < s.size() && IsOpChar(s[i])) ++i;
    std::string_view op_text = s.substr(op_start, i - op_start);
    auto op = ParseOp(range_text, op_text);
    if (!op.ok()) return op.status();
    skip_space();
    std::string_view version = read_version();
    if (version.empty()) {
      if (i < s.size() && s[i] == ',') {
        return BadRange(range_text, fmt::format("operator \"{}\" has no version", op_text));
      }
      if (i < s.size()) {
        return BadRange(range_text, fmt::format("unexpected \"{}\"", s.substr(i, 1)));
      }
      return BadRange(range_text, op_text.empty()
                                      ? std::string("missing version")
                                      : fmt::format("operator \"{}\" has no version", op_text));
    }
    // A hyphen range "A - B": the dash must stand alone between spaces.
    size_t after = i;
    skip_space();
    if (i > after && i + 1 < s.size() && s[i] == '-' && IsSpace(s[i + 1])) {
      if (!op_text.empty()) {
        return BadRange(range_text, "a hyphen range takes no operator");
      }
      ++i;
      skip_space();
      std::string_view upper = read_version();
      if (upper.empty()) return BadRange(range_text, "hyphen range has no upper bound");
      auto lo = ParseBound(range_text, version, Op::kGreaterEqual);
      if (!lo.ok()) return lo.status();
      auto hi = ParseBound(range_text, upper, Op::kLessEqual);
      if (!hi.ok()) return hi.status();
      out.push_back(std::move(*lo));
      out.push_back(std::move(*hi));
      continue;
    }
    auto c = ParseBound(range_text, version, *op);
    if (!c.ok()) return c.status();
    out.push_back(std::move(*c));
  }
  if (out.empty()) return BadRange(range_text, "empty alternative");
  return out;
}

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// The smallest version above every version whose first `parts` parts equal `v`'s
// (1: next major, 2: next minor, 3: next patch), as "X.Y.Z-0" so that prereleases of the next
// version are above it too. A part at its maximum carries into the one before; nullopt when
// nothing is above (the major is at its maximum).
std::optional<SemverVersion> NextAfter(const SemverVersion& v, int parts) {
  SemverVersion next;
  next.prerelease = {"0"};
  if (parts >= 3 && v.patch != kMax) {
    next.major = v.major;
    next.minor = v.minor;
    next.patch = v.patch + 1;
    return next;
  }
  if (parts >= 2 && v.minor != kMax) {
    next.major = v.major;
    next.minor = v.minor + 1;
    return next;
  }
  if (v.major == kMax) return std::nullopt;
  next.major = v.major + 1;
  return next;
}

// `v` with the lowest prerelease, "X.Y.Z-0": below every prerelease of X.Y.Z.
SemverVersion LowestPrereleaseOf(const SemverVersion& v) {
  SemverVersion low = v;
  low.prerelease = {"0"};
  low.build.clear();
  return low;
}

// v < upper, where a missing upper bound means "no bound".
bool Below(const SemverVersion& v, const std::optional<SemverVersion>& upper) {
  return !upper || CompareSemver(v, *upper) < 0;
}

// "=" with a partial version: the versions that start with the given parts.
bool InPrefix(const SemverVersion& v, const Comparator& c) {
  if (c.given_parts == 3) return CompareSemver(v, c.version) == 0;
  if (c.given_parts == 0) return true;
  return CompareSemver(v, c.version) >= 0 && Below(v, NextAfter(c.version, c.given_parts));
}

bool Satisfies(const SemverVersion& v, const Comparator& c) {
  const int cmp = CompareSemver(v, c.version);
  switch (c.op) {
    case Op::kEqual:
      return InPrefix(v, c);
    case Op::kNotEqual:
      return !InPrefix(v, c);
    case Op::kGreater:
      if (c.given_parts == 3) return cmp > 0;
      if (c.given_parts == 0) return false;  // nothing is above every version
      {
        auto next = NextAfter(c.version, c.given_parts);
        return next && CompareSemver(v, *next) >= 0;
      }
    case Op::kGreaterEqual:
      return cmp >= 0;
    case Op::kLess:
      // "<2.0.0" means before the 2.0.0 line, so it excludes 2.0.0's prereleases as well.
      if (!c.version.IsPrerelease()) return CompareSemver(v, LowestPrereleaseOf(c.version)) < 0;
      return cmp < 0;
    case Op::kLessEqual:
      if (c.given_parts == 3) return cmp <= 0;
      if (c.given_parts == 0) return true;
      return Below(v, NextAfter(c.version, c.given_parts));
    case Op::kTilde:
      // ~1.2.3 and ~1.2: same minor; ~1: same major; ~*: anything.
      if (cmp < 0) return false;
      if (c.given_parts == 0) return true;
      return Below(v, NextAfter(c.version, c.given_parts >= 2 ? 2 : 1));
    case Op::kCaret:
      // ^1.2.3: same major; ^0.2.3: same minor; ^0.0.3: same patch; missing parts widen.
      if (cmp < 0) return false;
      if (c.given_parts == 0) return true;
      if (c.version.major > 0 || c.given_parts == 1) return Below(v, NextAfter(c.version, 1));
      if (c.version.minor > 0 || c.given_parts == 2) return Below(v, NextAfter(c.version, 2));
      return Below(v, NextAfter(c.version, 3));
  }
  return false;
}

int CompareIdentifiers(const std::string& a, const std::string& b) {
  const bool a_num = std::all_of(a.begin(), a.end(), IsDigit);
  const bool b_num = std::all_of(b.begin(), b.end(), IsDigit);
  if (a_num && b_num) {
    // Numeric identifiers have no leading zeros, so the longer one is larger.
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  }
  if (a_num != b_num) return a_num ? -1 : 1;  // numeric identifiers sort first
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

}  // namespace

std::string SemverVersion::ToString() const {
  std::string out = fmt::format("{}.{}.{}", major, minor, patch);
  if (!prerelease.empty()) out += "-" + fmt::format("{}", fmt::join(prerelease, "."));
  if (!build.empty()) out += "+" + build;
  return out;
}

Result<SemverVersion> ParseSemver(std::string_view text) {
  if (text.empty()) return BadVersion(text, "empty");
  auto parts = SplitVersion(text);
  if (!parts) return BadVersion(text, "more than three numbers");
  SemverVersion v;
  uint64_t* fields[] = {&v.major, &v.minor, &v.patch};
  for (size_t i = 0; i < parts->numbers.size(); ++i) {
    auto value = ParseNumber(parts->numbers[i]);
    if (!value) {
      return BadVersion(
          text, fmt::format("\"{}\" is not a number without leading zeros", parts->numbers[i]));
    }
    *fields[i] = *value;
  }
  if (!FillLabels(*parts, v)) return BadVersion(text, "malformed prerelease or build label");
  return v;
}

int CompareSemver(const SemverVersion& a, const SemverVersion& b) {
  if (a.major != b.major) return a.major < b.major ? -1 : 1;
  if (a.minor != b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch != b.patch) return a.patch < b.patch ? -1 : 1;
  // A release is above its prereleases.
  if (a.prerelease.empty() || b.prerelease.empty()) {
    if (a.prerelease.empty() && b.prerelease.empty()) return 0;
    return a.prerelease.empty() ? 1 : -1;
  }
  const size_t n = std::min(a.prerelease.size(), b.prerelease.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = CompareIdentifiers(a.prerelease[i], b.prerelease[i]); c != 0) return c;
  }
  if (a.prerelease.size() == b.prerelease.size()) return 0;
  return a.prerelease.size() < b.prerelease.size() ? -1 : 1;
}

Result<SemverRange> ParseSemverRange(std::string_view text) {
  SemverRange range;
  range.text_ = std::string(text);
  if (std::all_of(text.begin(), text.end(), IsSpace)) return BadRange(text, "empty");
  size_t start = 0;
  while (true) {
    size_t bar = text.find("||", start);
    std::string_view group =
        text.substr(start, bar == std::string_view::npos ? text.npos : bar - start);
    auto parsed = ParseGroup(text, group);
    if (!parsed.ok()) return parsed.status();
    range.groups_.push_back(std::move(*parsed));
    if (bar == std::string_view::npos) break;
    start = bar + 2;
  }
  return range;
}

bool SemverRange::Matches(const SemverVersion& version) const {
  for (const auto& group : groups_) {
    if (version.IsPrerelease()) {
      bool mentions_prerelease = std::any_of(
          group.begin(), group.end(), [](const Comparator& c) { return c.version.IsPrerelease(); });
      if (!mentions_prerelease) continue;
    }
    if (std::all_of(group.begin(), group.end(),
                    [&](const Comparator& c) { return Satisfies(version, c); })) {
      return true;
    }
  }
  return false;
}

std::optional<SemverMatch> PickHighestMatching(const SemverRange& range,
                                               const std::vector<std::string>& tags) {
  std::optional<SemverMatch> best;
  for (const auto& tag : tags) {
    auto v = ParseSemver(tag);
    if (!v.ok() || !range.Matches(*v)) continue;
    if (!best) {
      best = SemverMatch{tag, std::move(*v)};
      continue;
    }
    int c = CompareSemver(*v, best->version);
    if (c > 0 || (c == 0 && tag > best->tag)) best = SemverMatch{tag, std::move(*v)};
  }
  return best;
}

}  // namespace gantry::git
