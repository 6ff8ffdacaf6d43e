#include "operator/common/clock.h"

#include <gtest/gtest.h>

namespace gantry {
namespace {

using std::chrono::seconds;

TEST(FakeClockTest, MovesOnlyWhenTold) {
  FakeClock clock;
  auto t0 = clock.Now();
  EXPECT_EQ(clock.Now(), t0);
  clock.Advance(seconds(30));
  EXPECT_EQ(clock.Now() - t0, seconds(30));
}

TEST(Rfc3339Test, RoundTrips) {
  auto t = Clock::TimePoint(seconds(1'764'440'652));
  EXPECT_EQ(FormatRfc3339(t), "2025-11-29T18:24:12Z");
  auto parsed = ParseRfc3339("2025-11-29T18:24:12Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, t);
}

TEST(Rfc3339Test, AcceptsFractionAndOffset) {
  auto a = ParseRfc3339("2025-11-29T20:24:12.5+02:00");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, Clock::TimePoint(seconds(1'764'440'652)) + std::chrono::milliseconds(500));
}

TEST(Rfc3339Test, RejectsGarbage) {
  EXPECT_FALSE(ParseRfc3339("").has_value());
  EXPECT_FALSE(ParseRfc3339("2025-11-29").has_value());
  EXPECT_FALSE(ParseRfc3339("2025-13-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2025-11-29T00:00:00Zjunk").has_value());
  EXPECT_FALSE(ParseRfc3339("2025-11-29T00:00:00").has_value());
}

}  // namespace
}  // namespace gantry
