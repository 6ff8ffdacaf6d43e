#include "operator/kube/rate_limiter.h"

#include <gtest/gtest.h>

namespace gantry::kube {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucketTest, BurstThenSpacedAtQps) {
  FakeClock clock;
  TokenBucket bucket(10, 3, clock);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.Reserve(), Clock::Duration::zero()) << i;
  // Empty: the next callers wait 100ms, 200ms, ... (1/qps apart).
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(bucket.Reserve()), milliseconds(100));
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(bucket.Reserve()), milliseconds(200));
  // After the debt is paid and one more token accrued, one request goes at once.
  clock.Advance(milliseconds(300));
  EXPECT_EQ(bucket.Reserve(), Clock::Duration::zero());
  EXPECT_EQ(std::chrono::duration_cast<milliseconds>(bucket.Reserve()), milliseconds(100));
}

TEST(TokenBucketTest, RefillIsCappedAtBurst) {
  FakeClock clock;
  TokenBucket bucket(100, 2, clock);
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(bucket.Reserve(), Clock::Duration::zero());
  EXPECT_EQ(bucket.Reserve(), Clock::Duration::zero());
  EXPECT_GT(bucket.Reserve(), Clock::Duration::zero());
}

TEST(TokenBucketTest, ZeroQpsIsUnlimited) {
  FakeClock clock;
  TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(bucket.Reserve(), Clock::Duration::zero());
}

}  // namespace
}  // namespace gantry::kube
