#include "operator/controller/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace gantry::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const ObjectKey kA{"ns", "a"};
const ObjectKey kB{"ns", "b"};

class WorkQueueTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  WorkQueue queue_{clock_};
};

TEST_F(WorkQueueTest, AddRateLimitedWithACapCountsFailuresButWaitsAtMostTheCap) {
  for (int i = 0; i < 12; ++i) {
    queue_.AddRateLimited(kA, seconds(2));
    clock_.Advance(seconds(2));
    ASSERT_EQ(queue_.TryGet(), kA);
    queue_.Done(kA);
  }
  EXPECT_EQ(queue_.NumRequeues(kA), 12);
  EXPECT_EQ(queue_.NextBackoff(kA), milliseconds(5 * 4096));  // uncapped: 20.48s
  queue_.AddRateLimited(kA, seconds(2));
  clock_.Advance(milliseconds(1999));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  clock_.Advance(milliseconds(1));
  EXPECT_EQ(queue_.TryGet(), kA);
}

TEST_F(WorkQueueTest, DedupesQueuedKeys) {
  queue_.Add(kA);
  queue_.Add(kA);
  queue_.Add(kB);
  EXPECT_EQ(queue_.Len(), 2u);
  EXPECT_EQ(queue_.TryGet(), kA);
  EXPECT_EQ(queue_.TryGet(), kB);
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
}

TEST_F(WorkQueueTest, KeyAddedWhileProcessingIsQueuedAgainOnDone) {
  queue_.Add(kA);
  ASSERT_EQ(queue_.TryGet(), kA);
  queue_.Add(kA);  // changed while a worker reconciles it
  queue_.Add(kA);
  EXPECT_EQ(queue_.Len(), 0u);  // never handed to a second worker meanwhile
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  queue_.Done(kA);
  EXPECT_EQ(queue_.Len(), 1u);
  EXPECT_EQ(queue_.TryGet(), kA);
  queue_.Done(kA);
  EXPECT_EQ(queue_.Len(), 0u);
}

TEST_F(WorkQueueTest, AddAfterWaitsForTheClockAndKeepsTheEarliest) {
  queue_.AddAfter(kA, seconds(10));
  queue_.AddAfter(kA, seconds(30));  // later: ignored
  EXPECT_EQ(queue_.Waiting(), 1u);
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  clock_.Advance(seconds(9));
  EXPECT_EQ(queue_.TryGet(), std::nullopt);
  queue_.AddAfter(kA, seconds(1));  // earlier: wins
  clock_.Advance(seconds(1));
  EXPECT_EQ(queue_.TryGet(), kA);
  EXPECT_EQ(queue_.Waiting(), 0u);
  queue_.Done(kA);
  queue_.AddAfter(kB, seconds(0));  // no delay: at once
  EXPECT_EQ(queue_.TryGet(), kB);
}

TEST_F(WorkQueueTest, ExponentialBackoffPerKeyUntilForget) {
  EXPECT_EQ(queue_.NextBackoff(kA), milliseconds(5));
  std::vector<milliseconds> waits;
  for (int i = 0; i < 4; ++i) {
    waits.push_back(std::chrono::duration_cast<milliseconds>(queue_.NextBackoff(kA)));
    queue_.AddRateLimited(kA);
  }
  EXPECT_EQ(waits, (std::vector<milliseconds>{milliseconds(5), milliseconds(10), milliseconds(20),
                                              milliseconds(40)}));
  EXPECT_EQ(queue_.NumRequeues(kA), 4);
  EXPECT_EQ(queue_.NumRequeues(kB), 0);
  // The first AddRateLimited (5ms) is what counts: AddAfter keeps the earliest time.
  clock_.Advance(milliseconds(5));
  EXPECT_EQ(queue_.TryGet(), kA);
  queue_.Done(kA);
  queue_.Forget(kA);
  EXPECT_EQ(queue_.NumRequeues(kA), 0);
  EXPECT_EQ(queue_.NextBackoff(kA), milliseconds(5));
}

TEST_F(WorkQueueTest, BackoffIsCappedAt1000Seconds) {
  for (int i = 0; i < 100; ++i) queue_.AddRateLimited(kA);
  EXPECT_EQ(queue_.NextBackoff(kA), seconds(1000));
}

TEST_F(WorkQueueTest, ShutDownWakesGetAndRefusesNewKeys) {
  std::optional<ObjectKey> got = kA;
  std::thread worker([&] { got = queue_.Get(); });
  queue_.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  EXPECT_TRUE(queue_.ShuttingDown());
  queue_.Add(kB);
  EXPECT_EQ(queue_.Len(), 0u);
}

TEST_F(WorkQueueTest, BlockedGetSeesADelayedKeyAfterTheClockMoves) {
  queue_.AddAfter(kA, seconds(60));
  std::optional<ObjectKey> got;
  std::thread worker([&] { got = queue_.Get(); });
  clock_.Advance(seconds(60));
  queue_.Wake();
  worker.join();
  EXPECT_EQ(got, kA);
}

TEST_F(WorkQueueTest, NoKeyIsHeldByTwoWorkersAtOnce) {
  WorkQueue queue(RealClock());
  constexpr int kKeys = 20;
  std::mutex mu;
  std::set<ObjectKey> held;
  std::atomic<int> processed{0};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (std::optional<ObjectKey> key = queue.Get()) {
        {
          std::lock_guard lock(mu);
          if (!held.insert(*key).second) overlap = true;
        }
        std::this_thread::yield();
        {
          std::lock_guard lock(mu);
          held.erase(*key);
        }
        ++processed;
        queue.Done(*key);
      }
    });
  }
  for (int round = 0; round < 200; ++round) {
    for (int k = 0; k < kKeys; ++k) queue.Add({"ns", std::to_string(k)});
  }
  while (queue.Len() > 0) std::this_thread::yield();
  queue.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GE(processed.load(), kKeys);
}

}  // namespace
}  // namespace gantry::controller
