#include "operator/controller/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>

namespace gantry::controller {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

class ScriptedReconciler : public Reconciler {
 public:
  ReconcileResult next = ReconcileResult::Done();
  ReconcileResult Reconcile(const ObjectKey& key) override {
    std::lock_guard lock(mu_);
    seen_.push_back(key);
    cv_.notify_all();
    return next;
  }
  bool WaitForCount(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return seen_.size() >= n; });
  }
  std::vector<ObjectKey> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<ObjectKey> seen_;
};

class RunnerTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  WorkQueue queue_{clock_};
  Metrics metrics_;
  ScriptedReconciler reconciler_;
  Runner runner_{"widgets", reconciler_, queue_, 1, &metrics_};
  const ObjectKey key_{"ns", "w"};

  // Runs `key` through the reconciler `n` times, each time after the backoff it was given (a
  // queue keeps the earliest time of a key, so the failures must be taken one by one).
  void FailRepeatedly(const ObjectKey& key, int n) {
    for (int i = 0; i < n; ++i) {
      runner_.ProcessOne(key);
      clock_.Advance(std::chrono::hours(24));
      ASSERT_EQ(queue_.TryGet(), key);
      queue_.Done(key);
    }
  }
};

TEST_F(RunnerTest, DoneForgetsAndRequeuesWhenAsked) {
  queue_.AddRateLimited(key_);  // one failure before...
  clock_.Advance(std::chrono::milliseconds(5));
  ASSERT_EQ(queue_.TryGet(), key_);
  queue_.Done(key_);
  reconciler_.next = ReconcileResult::Done(seconds(300));
  runner_.ProcessOne(key_);
  EXPECT_EQ(queue_.NumRequeues(key_), 0);
  clock_.Advance(seconds(299));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  clock_.Advance(seconds(1));
  EXPECT_EQ(queue_.TryGet(), key_);
}

TEST_F(RunnerTest, DoneWithoutRequeueLeavesTheQueueEmpty) {
  reconciler_.next = ReconcileResult::Done();
  runner_.ProcessOne(key_);
  EXPECT_EQ(queue_.Waiting(), 0u);
  EXPECT_EQ(queue_.Len(), 0u);
}

TEST_F(RunnerTest, WaitingRequeuesAfterTheDuration) {
  reconciler_.next = ReconcileResult::Waiting(seconds(30), "pods not ready");
  runner_.ProcessOne(key_);
  EXPECT_EQ(queue_.Waiting(), 1u);
  clock_.Advance(seconds(30));
  EXPECT_EQ(queue_.TryGet(), key_);
}

TEST_F(RunnerTest, StalledIsNotRetried) {
  queue_.AddRateLimited(key_);
  ASSERT_EQ(queue_.Waiting(), 1u);
  clock_.Advance(seconds(1));
  ASSERT_EQ(queue_.TryGet(), key_);
  queue_.Done(key_);
  reconciler_.next = ReconcileResult::Stalled("spec.strategy has both canary and blueGreen");
  runner_.ProcessOne(key_);
  EXPECT_EQ(queue_.NumRequeues(key_), 0);
  clock_.Advance(seconds(100000));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
}

TEST_F(RunnerTest, ErrorBacksOffExponentially) {
  reconciler_.next = ReconcileResult::Error(Unavailable("apiserver down"));
  runner_.ProcessOne(key_);
  runner_.ProcessOne(key_);
  runner_.ProcessOne(key_);
  EXPECT_EQ(queue_.NumRequeues(key_), 3);
  EXPECT_EQ(queue_.NextBackoff(key_), std::chrono::milliseconds(40));
  clock_.Advance(std::chrono::milliseconds(5));
  EXPECT_EQ(queue_.TryGet(), key_);
}

TEST_F(RunnerTest, UnreachableServerBackoffStopsGrowingAtTheCap) {
  // Twenty failures while the API server is away would mean 5ms * 2^20 (87 minutes) of
  // exponential backoff; an unreachable server caps it so the key comes back soon after it.
  reconciler_.next = ReconcileResult::Error(Unavailable("connect: connection refused"));
  FailRepeatedly(key_, 20);
  EXPECT_EQ(queue_.NumRequeues(key_), 20);
  runner_.ProcessOne(key_);
  clock_.Advance(kUnreachableMaxBackoff - std::chrono::milliseconds(1));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(queue_.TryGet(), key_);
  queue_.Done(key_);

  // Other errors still back off without that cap.
  const ObjectKey other{"ns", "other"};
  reconciler_.next = ReconcileResult::Error(Internal("bug"));
  FailRepeatedly(other, 20);
  runner_.ProcessOne(other);
  clock_.Advance(std::chrono::seconds(60));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
}

TEST_F(RunnerTest, TimeoutsAreCappedLikeUnavailable) {
  reconciler_.next = ReconcileResult::Error(Status(StatusCode::kTimeout, "deadline exceeded"));
  FailRepeatedly(key_, 30);
  runner_.ProcessOne(key_);
  clock_.Advance(kUnreachableMaxBackoff);
  EXPECT_EQ(queue_.TryGet(), key_);
}

TEST_F(RunnerTest, ErrorWithRetryAfterWaitsThatLong) {
  Status throttled(StatusCode::kTooManyRequests, "slow down");
  throttled.set_retry_after(seconds(7));
  reconciler_.next = ReconcileResult::Error(throttled);
  runner_.ProcessOne(key_);
  clock_.Advance(seconds(6));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  clock_.Advance(seconds(1));
  EXPECT_EQ(queue_.TryGet(), key_);
}

TEST_F(RunnerTest, CountsEveryResultInMetrics) {
  reconciler_.next = ReconcileResult::Done();
  runner_.ProcessOne(key_);
  runner_.ProcessOne(key_);
  reconciler_.next = ReconcileResult::Error(Internal("bug"));
  runner_.ProcessOne(key_);
  std::string text = metrics_.Serialize();
  EXPECT_THAT(text, HasSubstr("gantry_reconcile_total{controller=\"widgets\",result=\"done\"} 2"));
  EXPECT_THAT(text, HasSubstr("gantry_reconcile_total{controller=\"widgets\",result=\"error\"} 1"));
  EXPECT_THAT(text, HasSubstr("gantry_reconcile_duration_seconds_count{controller=\"widgets\"} 3"));
  EXPECT_THAT(text, HasSubstr("gantry_build_info{"));
}

TEST(RunnerWorkersTest, WorkersDrainTheQueueAndStop) {
  WorkQueue queue(RealClock());
  ScriptedReconciler reconciler;
  Runner runner("many", reconciler, queue, 4, nullptr);
  runner.Start();
  for (int i = 0; i < 50; ++i) queue.Add({"ns", std::to_string(i)});
  ASSERT_TRUE(reconciler.WaitForCount(50));
  runner.Stop();
  std::vector<ObjectKey> seen = reconciler.seen();
  EXPECT_EQ(std::set<ObjectKey>(seen.begin(), seen.end()).size(), 50u);
  EXPECT_TRUE(queue.ShuttingDown());
}

}  // namespace
}  // namespace gantry::controller
