#include "operator/common/duration.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Millis MustParse(std::string_view s) {
  auto r = ParseDuration(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : Millis(-1);
}

TEST(DurationTest, ParsesGoDurations) {
  EXPECT_EQ(MustParse("30s"), seconds(30));
  EXPECT_EQ(MustParse("5m"), minutes(5));
  EXPECT_EQ(MustParse("1h30m"), minutes(90));
  EXPECT_EQ(MustParse("1.5h"), minutes(90));
  EXPECT_EQ(MustParse("250ms"), milliseconds(250));
  EXPECT_EQ(MustParse("0"), Millis(0));
  EXPECT_EQ(MustParse("-2s"), seconds(-2));
  EXPECT_EQ(MustParse("1500us"), milliseconds(1));
  EXPECT_EQ(MustParse("2h45m30.5s"), hours(2) + minutes(45) + milliseconds(30500));
}

// Fractions are exact: summing 0.4 + 0.04 + 0.006 in floating point once made "8.446s" 8445ms,
// so a formatted duration did not parse back to itself (found by tests/fuzz/common).
TEST(DurationTest, FractionsAreExact) {
  EXPECT_EQ(MustParse("8.446s"), milliseconds(8446));
  EXPECT_EQ(MustParse("1.1s"), milliseconds(1100));
  EXPECT_EQ(MustParse("0.3s"), milliseconds(300));
  EXPECT_EQ(MustParse("8446744\u00b5s11614ns"), milliseconds(8446));
  for (int64_t ms : {1001, 8446, 59999, 3'599'999, 86'399'999}) {
    EXPECT_EQ(MustParse(FormatDuration(Millis(ms))), Millis(ms)) << FormatDuration(Millis(ms));
  }
  EXPECT_EQ(MustParse("2562047h47m16.854775807s"), Millis(9'223'372'036'854));
  EXPECT_FALSE(ParseDuration("2562047h47m16.854775808s").ok());
  EXPECT_FALSE(ParseDuration("2562048h").ok());
}

TEST(DurationTest, RejectsWithReason) {
  for (const char* bad : {"", "10", "s", "5x", "1h-5m", "..s", "1e3s", "9999999999999999h"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("invalid duration"), std::string::npos);
  }
}

TEST(DurationTest, FormatsLikeGo) {
  EXPECT_EQ(FormatDuration(Millis(0)), "0s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(hours(1)), "1h0m0s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.5s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(seconds(-5)), "-5s");
}

}  // namespace
}  // namespace gantry
