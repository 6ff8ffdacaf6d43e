// Client-side throttling of API requests: a token bucket of `burst` tokens refilled at `qps`
// per second, as client-go's (QPS 100, burst 300 in Gantry: --kube-qps, --kube-burst).
// Thread-safe (one mutex guards the bucket). The bucket only computes waits; the caller
// sleeps, so unit tests drive it with a FakeClock and never sleep.
#pragma once

#include <mutex>

#include "operator/common/clock.h"

namespace gantry::kube {

class TokenBucket {
 public:
  // qps <= 0 means unlimited: Reserve() always returns zero.
  TokenBucket(double qps, int burst, Clock& clock);
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Takes one token and returns how long the caller must wait before sending. Callers that
  // arrive together when the bucket is empty get increasing waits (1/qps apart), so a burst
  // of requests is spread out rather than sent at once.
  Clock::Duration Reserve();

 private:
  const double qps_;
  const double burst_;
  Clock& clock_;
  std::mutex mu_;  // guards tokens_, last_
  double tokens_;
  Clock::TimePoint last_;
};

}  // namespace gantry::kube
