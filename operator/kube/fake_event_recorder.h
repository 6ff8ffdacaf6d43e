// FakeEventRecorder: remembers events in memory, for unit tests that assert what a reconciler
// reported. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "operator/kube/event_recorder.h"

namespace gantry::kube {

class FakeEventRecorder final : public EventRecorder {
 public:
  struct Recorded {
    ObjectKey object;
    std::string kind;
    EventType type;
    std::string reason;
    std::string message;
  };

  // EventRecorder
  void Event(const Object& object, EventType type, std::string_view reason,
             std::string_view message) override {
    std::lock_guard lock(mu_);
    events_.push_back(
        {KeyOf(object), object.value("kind", ""), type, std::string(reason), std::string(message)});
  }
  bool Flush(std::chrono::milliseconds) override { return true; }

  std::vector<Recorded> Events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  // "Normal RolloutPaused: message" lines, in order; handy with gmock matchers.
  std::vector<std::string> Lines() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const Recorded& e : events_) {
      out.push_back((e.type == EventType::kNormal ? "Normal " : "Warning ") + e.reason + ": " +
                    e.message);
    }
    return out;
  }

 private:
  mutable std::mutex mu_;  // guards events_
  std::vector<Recorded> events_;
};

}  // namespace gantry::kube
