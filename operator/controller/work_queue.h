// WorkQueue: the keys a controller still has to reconcile, as client-go's rate-limited
// delaying work queue.
//
// Guarantees: a key is never handed to two workers at once; a key added while queued is
// queued once (dedupe); a key added while a worker holds it is queued again when the worker
// calls Done, so no change is lost. AddAfter delays a key (the earliest pending time wins);
// AddRateLimited delays it by the key's exponential backoff, base_delay * 2^failures capped at
// max_delay (client-go: 5ms .. 1000s), until Forget resets it.
//
// Time comes from the injected Clock. Get() sleeps in real time until the next delayed key
// is due; with a FakeClock, call Wake() after Advance() (or use TryGet()) so waiting workers
// look at the clock again. Thread-safe: one mutex guards all state.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "operator/common/clock.h"
#include "operator/kube/object.h"

namespace gantry::controller {

using kube::ObjectKey;
using kube::ObjectKeyHash;

struct WorkQueueOptions {
  Clock::Duration base_delay = std::chrono::milliseconds(5);
  Clock::Duration max_delay = std::chrono::seconds(1000);
};

class WorkQueue {
 public:
  explicit WorkQueue(Clock& clock, WorkQueueOptions options = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` now. Ignored after ShutDown.
  void Add(const ObjectKey& key);
  // Queues `key` once `delay` has passed (now if delay <= 0).
  void AddAfter(const ObjectKey& key, Clock::Duration delay);
  // Queues `key` after its backoff and counts one more failure for it.
  void AddRateLimited(const ObjectKey& key);
  // The same with the delay capped at `max_delay` (the failures still count on).
  void AddRateLimited(const ObjectKey& key, Clock::Duration max_delay);
  // Clears the key's failure count (call after a successful reconcile).
  void Forget(const ObjectKey& key);
  // Failures counted for `key` since the last Forget.
  int NumRequeues(const ObjectKey& key) const;
  // The backoff the next AddRateLimited of `key` would use.
  Clock::Duration NextBackoff(const ObjectKey& key) const;

  // Blocks until a key is ready and returns it, now held by the caller until Done(key).
  // Returns nullopt once ShutDown was called and no key is ready.
  std::optional<ObjectKey> Get();
  // Like Get but never blocks: nullopt when no key is ready now.
  std::optional<ObjectKey> TryGet();
  // Releases a key from Get; requeues it if it was added meanwhile.
  void Done(const ObjectKey& key);

  // Stops accepting keys and wakes every Get. Keys held by workers may still be Done.
  void ShutDown();
  bool ShuttingDown() const;
  // Makes blocked Get calls look at the clock again (after a FakeClock moved).
  void Wake();

  size_t Len();            // keys ready now (due delayed keys included)
  size_t Waiting() const;  // keys delayed

 private:
  void AddLocked(const ObjectKey& key);
  // Moves due delayed keys to the queue; returns the time the next one is due.
  std::optional<Clock::TimePoint> PromoteLocked();
  std::optional<ObjectKey> PopLocked();

  Clock& clock_;
  const WorkQueueOptions options_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<ObjectKey> queue_;
  std::unordered_set<ObjectKey, ObjectKeyHash> dirty_;
  std::unordered_set<ObjectKey, ObjectKeyHash> processing_;
  std::multimap<Clock::TimePoint, ObjectKey> waiting_;
  std::unordered_map<ObjectKey, std::multimap<Clock::TimePoint, ObjectKey>::iterator, ObjectKeyHash>
      waiting_by_key_;
  std::unordered_map<ObjectKey, int, ObjectKeyHash> failures_;
  bool shutting_down_ = false;
};

}  // namespace gantry::controller
