// Runner: N worker threads that take keys from a WorkQueue and call a Reconciler, then act on
// the typed result (see reconciler.h): Done/Waiting forget the key's backoff and requeue after
// the requested delay; Stalled forgets and does not requeue; Error requeues with the key's
// backoff (or the Status's retry_after), which for a server that cannot be reached
// (Unavailable, Timeout) stops growing at kUnreachableMaxBackoff. Each reconcile is counted and
// timed in Metrics and logged when it fails or stalls, naming the controller and the object.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "operator/controller/metrics.h"
#include "operator/controller/reconciler.h"
#include "operator/controller/work_queue.h"

namespace gantry::controller {

// The longest backoff after an Unavailable or Timeout error. Such errors say nothing about the
// object, only that a server (the API server, a Git server) did not answer; with the usual
// exponential backoff, a key that failed all through a 60 s API server restart would wait
// another minute after the server is back. Capped, every key is tried again within this long
// of the server's return, at the cost of one cheap failing request per key per period while
// it is away (the client's rate limiter still bounds the total).
inline constexpr std::chrono::seconds kUnreachableMaxBackoff{5};

class Runner {
 public:
  // `reconciler`, `queue` and `metrics` (may be null) must outlive the runner.
  Runner(std::string name, Reconciler& reconciler, WorkQueue& queue, int workers, Metrics* metrics);
  ~Runner();  // Stop()s
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  void Start();
  // Shuts the queue down, lets in-flight reconciles finish and joins the workers.
  void Stop();
  // Runs one key through the reconciler and applies its result, on the calling thread. What
  // each worker does per key; exposed so tests can drive a controller step by step.
  void ProcessOne(const ObjectKey& key);

  const std::string& name() const { return name_; }
  // Keys the workers have finished (any outcome) since Start. Safe from any thread.
  uint64_t Processed() const { return processed_.load(std::memory_order_relaxed); }

 private:
  void Work();

  const std::string name_;
  Reconciler& reconciler_;
  WorkQueue& queue_;
  const int workers_;
  Metrics* const metrics_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> processed_{0};
};

}  // namespace gantry::controller
