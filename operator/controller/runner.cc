#include "operator/controller/runner.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "operator/common/duration.h"

namespace gantry::controller {

std::string_view ReconcileResult::Label() const {
  switch (kind_) {
    case Kind::kDone:
      return "done";
    case Kind::kWaiting:
      return "waiting";
    case Kind::kStalled:
      return "stalled";
    case Kind::kError:
      return "error";
  }
  return "unknown";
}

Runner::Runner(std::string name, Reconciler& reconciler, WorkQueue& queue, int workers,
               Metrics* metrics)
    : name_(std::move(name)),
      reconciler_(reconciler),
      queue_(queue),
      workers_(std::max(1, workers)),
      metrics_(metrics) {}

Runner::~Runner() { Stop(); }

void Runner::Start() {
  if (!threads_.empty()) return;
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
}

void Runner::Stop() {
  queue_.ShutDown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void Runner::Work() {
  while (std::optional<ObjectKey> key = queue_.Get()) {
    ProcessOne(*key);
    queue_.Done(*key);
    processed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void Runner::ProcessOne(const ObjectKey& key) {
  auto started = std::chrono::steady_clock::now();
  ReconcileResult result = reconciler_.Reconcile(key);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (metrics_ != nullptr) metrics_->ObserveReconcile(name_, result.Label(), seconds);
  switch (result.kind()) {
    case ReconcileResult::Kind::kDone:
      queue_.Forget(key);
      if (result.requeue_after()) queue_.AddAfter(key, *result.requeue_after());
      break;
    case ReconcileResult::Kind::kWaiting:
      queue_.Forget(key);
      queue_.AddAfter(key, result.requeue_after().value_or(Clock::Duration::zero()));
      spdlog::debug("{} {}: waiting {}: {}", name_, key.ToString(),
                    FormatDuration(std::chrono::duration_cast<Millis>(
                        result.requeue_after().value_or(Clock::Duration::zero()))),
                    result.reason());
      break;
    case ReconcileResult::Kind::kStalled:
      queue_.Forget(key);
      spdlog::warn("{} {}: stalled: {}", name_, key.ToString(), result.reason());
      break;
    case ReconcileResult::Kind::kError: {
      const Status& s = result.status();
      if (s.retry_after()) {
        queue_.AddAfter(key, *s.retry_after());
      } else if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kTimeout) {
        queue_.AddRateLimited(key, kUnreachableMaxBackoff);
      } else {
        queue_.AddRateLimited(key);
      }
      spdlog::error("{} {}: {} (retry #{})", name_, key.ToString(), s.ToString(),
                    queue_.NumRequeues(key));
      break;
    }
  }
}

}  // namespace gantry::controller
