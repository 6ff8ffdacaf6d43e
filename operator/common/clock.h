// Clock: the one source of time for Gantry's logic, so tests can move time by hand.
//
// Reconcilers, queues and analysis runs take a `Clock&`; production code passes
// RealClock(), unit tests a FakeClock. Both are safe to call from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace gantry {

class Clock {
 public:
  using TimePoint = std::chrono::system_clock::time_point;
  using Duration = std::chrono::system_clock::duration;

  virtual ~Clock() = default;

  // Wall-clock time, used for timestamps written to status and for durations measured
  // across restarts (e.g. "paused since").
  virtual TimePoint Now() const = 0;
};

// The process-wide system clock. Never null, never destroyed.
Clock& RealClock();

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start = TimePoint(std::chrono::seconds(1'700'000'000)))
      : now_(start) {}
  FakeClock(const FakeClock&) = delete;
  FakeClock& operator=(const FakeClock&) = delete;

  TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  void Advance(Duration d) {
    std::lock_guard lock(mu_);
    now_ += d;
  }
  void Set(TimePoint t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }

 private:
  mutable std::mutex mu_;  // guards now_
  TimePoint now_;
};

// RFC 3339 with a "Z" suffix and second precision, as Kubernetes writes metav1.Time:
// "2026-11-29T18:24:12Z".
std::string FormatRfc3339(Clock::TimePoint t);

// Parses what FormatRfc3339 writes, with optional fractional seconds and a "Z" or
// "+hh:mm" offset. Returns nullopt on anything else.
std::optional<Clock::TimePoint> ParseRfc3339(const std::string& text);

}  // namespace gantry
