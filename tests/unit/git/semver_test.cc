#include "operator/git/semver.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace gantry::git {
namespace {

SemverVersion V(std::string_view text) {
  auto v = ParseSemver(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().ToString();
  return v.ok() ? *v : SemverVersion{};
}

SemverRange R(std::string_view text) {
  auto r = ParseSemverRange(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : *ParseSemverRange("0.0.0-impossible");
}

// Expects `range` to match exactly the versions in `yes` and none in `no`.
void ExpectMatches(std::string_view range, std::vector<std::string_view> yes,
                   std::vector<std::string_view> no) {
  SemverRange r = R(range);
  for (auto v : yes) EXPECT_TRUE(r.Matches(V(v))) << range << " should match " << v;
  for (auto v : no) EXPECT_FALSE(r.Matches(V(v))) << range << " should not match " << v;
}

TEST(SemverTest, ParsesVersions) {
  SemverVersion v = V("v1.2.3-rc.1+build.5");
  EXPECT_EQ(v.major, 1u);
  EXPECT_EQ(v.minor, 2u);
  EXPECT_EQ(v.patch, 3u);
  EXPECT_EQ(v.prerelease, (std::vector<std::string>{"rc", "1"}));
  EXPECT_EQ(v.build, "build.5");
  EXPECT_EQ(v.ToString(), "1.2.3-rc.1+build.5");
  EXPECT_EQ(V("1.2").ToString(), "1.2.0");
  EXPECT_EQ(V("v7").ToString(), "7.0.0");
  EXPECT_EQ(V("18446744073709551615.0.0").major, 18446744073709551615ull);
}

TEST(SemverTest, RejectsBadVersions) {
  for (std::string_view bad :
       {"", "v", "1.2.3.4", "01.2.3", "1.02.3", "1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3-01",
        "latest", "1.2.3 ", " 1.2.3", "1.x", "V1.2.3", "1..2", "1.2.", "-1.2.3",
        "18446744073709551616.0.0", "1.2.3-rc!"}) {
    auto v = ParseSemver(bad);
    EXPECT_FALSE(v.ok()) << "\"" << bad << "\" parsed as " << (v.ok() ? v->ToString() : "");
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(SemverTest, OrdersBySemverPrecedence) {
  // The example chain from semver.org §11, plus a release.
  std::vector<std::string_view> ordered = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                           "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                           "1.0.0-rc.1",  "1.0.0",         "1.0.1",
                                           "1.1.0",       "2.0.0",         "10.0.0"};
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      int want = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(CompareSemver(V(ordered[i]), V(ordered[j])), want)
          << ordered[i] << " vs " << ordered[j];
    }
  }
  EXPECT_EQ(CompareSemver(V("1.0.0+a"), V("1.0.0+b")), 0);  // build metadata is ignored
  EXPECT_EQ(CompareSemver(V("v1.0.0"), V("1.0.0")), 0);
}

TEST(SemverTest, Comparators) {
  ExpectMatches(">=1.0.0 <2.0.0", {"1.0.0", "1.9.9", "v1.5.0"}, {"0.9.9", "2.0.0", "1.5.0-rc.1"});
  ExpectMatches(">1.2.3", {"1.2.4", "2.0.0"}, {"1.2.3", "1.0.0"});
  ExpectMatches("<1.2.3", {"1.2.2", "0.0.1"}, {"1.2.3", "2.0.0"});
  ExpectMatches("<=1.2.3", {"1.2.3", "1.0.0"}, {"1.2.4"});
  ExpectMatches("=1.2.3", {"1.2.3", "v1.2.3"}, {"1.2.4", "1.2.2"});
  ExpectMatches("1.2.3", {"1.2.3"}, {"1.2.4"});
  ExpectMatches("!=1.2.3", {"1.2.4", "1.2.2"}, {"1.2.3"});
  ExpectMatches("=>1.2, =<1.4", {"1.2.0", "1.4.9"}, {"1.1.9", "1.5.0"});
  ExpectMatches(">= 1.2.3 , < 1.3", {"1.2.3", "1.2.99"}, {"1.3.0"});
}

TEST(SemverTest, PartialVersionsAndWildcards) {
  ExpectMatches("1.x", {"1.0.0", "1.99.99"}, {"2.0.0", "0.9.0", "2.0.0-rc.1"});
  ExpectMatches("1.2.x", {"1.2.0", "1.2.9"}, {"1.3.0", "1.1.9"});
  ExpectMatches("1.2.*", {"1.2.7"}, {"1.3.0"});
  ExpectMatches("1.2", {"1.2.0", "1.2.5"}, {"1.3.0"});
  ExpectMatches("1", {"1.0.0", "1.5.5"}, {"2.0.0"});
  ExpectMatches("*", {"0.0.0", "1.0.0", "99.0.0"}, {"1.0.0-rc.1"});
  ExpectMatches("x", {"3.2.1"}, {});
  ExpectMatches(">1.2", {"1.3.0", "2.0.0"}, {"1.2.9", "1.2.0"});
  ExpectMatches(">1", {"2.0.0"}, {"1.9.9"});
  ExpectMatches(">=1.2", {"1.2.0"}, {"1.1.9"});
  ExpectMatches("<1.2", {"1.1.9"}, {"1.2.0"});
  ExpectMatches("<=1.2", {"1.2.9", "1.0.0"}, {"1.3.0"});
  ExpectMatches("<=1", {"1.9.9"}, {"2.0.0"});
  ExpectMatches("!=1.2.x", {"1.3.0", "1.1.0"}, {"1.2.0", "1.2.5"});
  ExpectMatches("<=*", {"0.0.1", "5.0.0"}, {});
  ExpectMatches(">*", {}, {"0.0.0", "5.0.0"});
}

TEST(SemverTest, TildeRanges) {
  ExpectMatches("~1.2.3", {"1.2.3", "1.2.9"}, {"1.2.2", "1.3.0"});
  ExpectMatches("~1.2", {"1.2.0", "1.2.9"}, {"1.3.0", "1.1.0"});
  ExpectMatches("~1", {"1.0.0", "1.9.0"}, {"2.0.0", "0.9.0"});
  ExpectMatches("~1.x", {"1.4.0"}, {"2.0.0"});
  ExpectMatches("~>1.2.3", {"1.2.5"}, {"1.3.0"});
  ExpectMatches("~0.0.1", {"0.0.1", "0.0.5"}, {"0.1.0", "0.0.0"});
  ExpectMatches("~*", {"0.0.0", "7.0.0"}, {});
}

TEST(SemverTest, CaretRanges) {
  ExpectMatches("^1.2.3", {"1.2.3", "1.9.0"}, {"2.0.0", "1.2.2"});
  ExpectMatches("^1.2", {"1.2.0", "1.9.0"}, {"2.0.0", "1.1.0"});
  ExpectMatches("^1", {"1.0.0", "1.9.9"}, {"2.0.0"});
  ExpectMatches("^0.2.3", {"0.2.3", "0.2.9"}, {"0.3.0", "0.2.2"});
  ExpectMatches("^0.2", {"0.2.0", "0.2.9"}, {"0.3.0"});
  ExpectMatches("^0.0.3", {"0.0.3"}, {"0.0.4", "0.0.2"});
  ExpectMatches("^0.0", {"0.0.0", "0.0.9"}, {"0.1.0"});
  ExpectMatches("^0", {"0.0.0", "0.9.9"}, {"1.0.0"});
  ExpectMatches("^1.x", {"1.5.0"}, {"2.0.0"});
  ExpectMatches("^*", {"0.0.1", "9.9.9"}, {});
}

TEST(SemverTest, HyphenRanges) {
  ExpectMatches("1.0 - 2.0", {"1.0.0", "2.0.0", "2.0.9"}, {"0.9.9", "2.1.0"});
  ExpectMatches("1.2.3 - 2.3.4", {"1.2.3", "2.3.4"}, {"1.2.2", "2.3.5"});
  ExpectMatches("1.2.3 - 2", {"2.9.9"}, {"3.0.0"});
  ExpectMatches("v1.0.0 - v1.5.0", {"1.5.0"}, {"1.5.1"});
  ExpectMatches("1 - 2 || 5 - 6", {"1.1.0", "5.5.5"}, {"3.0.0", "7.0.0"});
}

TEST(SemverTest, OrGroups) {
  ExpectMatches("^1.0 || ^3.0", {"1.2.0", "3.1.0"}, {"2.0.0", "4.0.0"});
  ExpectMatches("<1.0.0||>=2.0.0", {"0.5.0", "2.0.0"}, {"1.0.0", "1.9.9"});
  ExpectMatches("1.2.3 || 1.2.5", {"1.2.3", "1.2.5"}, {"1.2.4"});
}

TEST(SemverTest, PrereleasesOnlyWhenTheRangeMentionsOne) {
  // No prerelease in the range: prereleases never match, even inside the bounds.
  ExpectMatches(">=1.0.0", {"1.0.0", "2.0.0"}, {"1.5.0-rc.1", "2.0.0-alpha"});
  ExpectMatches("^1.0", {"1.1.0"}, {"1.1.0-beta"});
  // A prerelease in the group admits prereleases that satisfy every comparator.
  ExpectMatches(">=1.0.0-0", {"1.0.0-rc.1", "1.5.0-beta", "1.0.0"}, {"0.9.0-rc.1"});
  ExpectMatches(">=1.0.0-0 <2.0.0", {"1.5.0-rc.1", "1.5.0"}, {"2.0.0-rc.1", "2.0.0"});
  ExpectMatches("~1.2.3-beta.2", {"1.2.3-beta.2", "1.2.3-beta.10", "1.2.3", "1.2.9"},
                {"1.2.3-beta.1", "1.2.3-alpha", "1.3.0-beta"});
  ExpectMatches("^1.2.3-rc.1", {"1.2.3-rc.1", "1.2.3-rc.2", "1.9.0"}, {"1.2.3-rc.0", "2.0.0-rc"});
  ExpectMatches("1.2.3-rc.1", {"1.2.3-rc.1"}, {"1.2.3-rc.2", "1.2.3"});
  // Only the group that mentions a prerelease admits them.
  ExpectMatches(">=3.0.0-0 || ^1.0", {"3.0.0-rc.1", "1.5.0"}, {"1.5.0-rc.1"});
  // Upper bounds of partial versions exclude the next version's prereleases.
  ExpectMatches(">=1.0.0-0 1.x", {"1.9.0-rc.1"}, {"2.0.0-rc.1"});
}

TEST(SemverTest, RejectsBadRangesWithClearErrors) {
  struct Case {
    std::string_view range;
    std::string_view fragment;
  };
  for (const Case& c : std::vector<Case>{
           {"", "empty"},
           {"   ", "empty"},
           {">=1.0 <<2", "unknown operator \"<<\""},
           {"=>=1", "unknown operator"},
           {">=", "has no version"},
           {">= ,1.0", "has no version"},
           {"1.0 ||", "empty alternative"},
           {"|| 1.0", "empty alternative"},
           {"abc", "not a version"},
           {"1.2.3.4", "more than three parts"},
           {"1.x.3", "number after a wildcard"},
           {">=1.0 - 2.0", "hyphen range takes no operator"},
           {"1.0 - ", "no upper bound"},
           {"1.2.3-", "malformed prerelease"},
           {"99999999999999999999", "not a version"},
           {"1.0 & 2.0", "not a version"},
       }) {
    auto r = ParseSemverRange(c.range);
    ASSERT_FALSE(r.ok()) << "\"" << c.range << "\" parsed";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.fragment), std::string::npos)
        << "\"" << c.range << "\": " << r.status().message();
    EXPECT_NE(r.status().message().find(std::string(c.range)), std::string::npos)
        << "message should quote the range: " << r.status().message();
  }
}

TEST(SemverTest, PicksHighestMatchingTag) {
  std::vector<std::string> tags = {"v1.0.0",     "v1.2.0", "v1.10.0", "v2.0.0",     "v2.1.0-rc.1",
                                   "not-semver", "latest", "1.9.0",   "v1.9.9-beta"};
  auto m = PickHighestMatching(R("^1.0"), tags);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->tag, "v1.10.0");  // numeric, not string, order
  m = PickHighestMatching(R("*"), tags);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->tag, "v2.0.0");
  m = PickHighestMatching(R(">=2.0.0-0"), tags);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->tag, "v2.1.0-rc.1");
  m = PickHighestMatching(R("<1.2"), tags);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->tag, "v1.0.0");
  EXPECT_FALSE(PickHighestMatching(R(">=3"), tags).has_value());
  EXPECT_FALSE(PickHighestMatching(R("*"), {}).has_value());
}

TEST(SemverTest, PickIsIndependentOfTagOrder) {
  std::vector<std::string> tags = {"1.0.0", "v1.0.0", "v0.9.0"};
  auto a = PickHighestMatching(R("1.x"), tags);
  std::reverse(tags.begin(), tags.end());
  auto b = PickHighestMatching(R("1.x"), tags);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->tag, b->tag);
  EXPECT_EQ(a->tag, "v1.0.0");
}

TEST(SemverTest, HugeNumbersDoNotOverflow) {
  const std::string max = "18446744073709551615";
  ExpectMatches("^" + max + ".0.0", {max + ".5.0"}, {"1.0.0"});
  ExpectMatches("~1." + max + ".0", {"1." + max + ".7"}, {"2.0.0"});
  ExpectMatches(">" + max, {}, {max + ".0.0"});
  ExpectMatches("<=" + max + "." + max, {max + "." + max + "." + max}, {});
}

// The parser takes user input straight from a custom resource: arbitrary bytes must yield a
// value or an error, never a crash or a hang.
TEST(SemverTest, ParserSurvivesArbitraryInput) {
  std::mt19937 rng(42);
  static const char kAlphabet[] = "0123456789.xX*vV-+ ,|<>=!~^abz\t\n\0\xff";
  const std::string alphabet(kAlphabet, sizeof(kAlphabet) - 1);
  for (int i = 0; i < 20000; ++i) {
    std::string input;
    const int len = static_cast<int>(rng() % 24);
    for (int j = 0; j < len; ++j) input += alphabet[rng() % alphabet.size()];
    auto r = ParseSemverRange(input);
    if (r.ok()) {
      (void)r->Matches(V("1.2.3"));
    } else {
      EXPECT_FALSE(r.status().message().empty());
    }
    (void)ParseSemver(input);
  }
}

}  // namespace
}  // namespace gantry::git
