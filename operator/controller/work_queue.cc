#include "operator/controller/work_queue.h"

#include <algorithm>

namespace gantry::controller {

WorkQueue::WorkQueue(Clock& clock, WorkQueueOptions options) : clock_(clock), options_(options) {}

void WorkQueue::AddLocked(const ObjectKey& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // Done() requeues it
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const ObjectKey& key, Clock::Duration delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay <= Clock::Duration::zero()) {
    AddLocked(key);
    return;
  }
  Clock::TimePoint ready = clock_.Now() + delay;
  auto existing = waiting_by_key_.find(key);
  if (existing != waiting_by_key_.end()) {
    if (existing->second->first <= ready) return;  // already due sooner
    waiting_.erase(existing->second);
    waiting_by_key_.erase(existing);
  }
  waiting_by_key_[key] = waiting_.emplace(ready, key);
  cv_.notify_all();  // a sleeping Get may need to wake earlier
}

Clock::Duration WorkQueue::NextBackoff(const ObjectKey& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  int failures = it == failures_.end() ? 0 : it->second;
  // base * 2^failures without overflow: stop doubling once past the cap.
  Clock::Duration d = options_.base_delay;
  for (int i = 0; i < failures && d < options_.max_delay; ++i) d *= 2;
  return std::min(d, options_.max_delay);
}

void WorkQueue::AddRateLimited(const ObjectKey& key) { AddRateLimited(key, options_.max_delay); }

void WorkQueue::AddRateLimited(const ObjectKey& key, Clock::Duration max_delay) {
  Clock::Duration delay = std::min(NextBackoff(key), max_delay);
  {
    std::lock_guard lock(mu_);
    ++failures_[key];
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const ObjectKey& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<Clock::TimePoint> WorkQueue::PromoteLocked() {
  Clock::TimePoint now = clock_.Now();
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    ObjectKey key = waiting_.begin()->second;
    waiting_by_key_.erase(key);
    waiting_.erase(waiting_.begin());
    AddLocked(key);
  }
  if (waiting_.empty()) return std::nullopt;
  return waiting_.begin()->first;
}

std::optional<ObjectKey> WorkQueue::PopLocked() {
  if (queue_.empty()) return std::nullopt;
  ObjectKey key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<ObjectKey> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  while (true) {
    std::optional<Clock::TimePoint> next = PromoteLocked();
    if (!queue_.empty()) return PopLocked();
    if (shutting_down_) return std::nullopt;
    if (next) {
      cv_.wait_for(lock, *next - clock_.Now());
    } else {
      cv_.wait(lock);
    }
  }
}

std::optional<ObjectKey> WorkQueue::TryGet() {
  std::lock_guard lock(mu_);
  PromoteLocked();
  return PopLocked();
}

void WorkQueue::Done(const ObjectKey& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key)) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

void WorkQueue::Wake() {
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

size_t WorkQueue::Len() {
  std::lock_guard lock(mu_);
  PromoteLocked();
  return queue_.size();
}

size_t WorkQueue::Waiting() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

}  // namespace gantry::controller
