// EventRecorder: Kubernetes Events about Gantry's objects ("why did my rollout stop?").
//
// ApiEventRecorder writes core/v1 Events through a KubeClient from one background thread, so
// a reconciler never waits on the API server to report something. Repeats aggregate as
// `kubectl describe` expects: an event for the same object with the same type, reason and
// message bumps count and lastTimestamp of the Event already written (a merge patch) instead
// of creating another; if that Event has expired meanwhile a new one is created. The
// aggregation memory is bounded (least recently used entries are forgotten). Events are
// best-effort: a failed write is logged and dropped, as is an event when the queue is full,
// and destroying the recorder waits up to 5s for pending events, then drops the rest.
//
// Event() is safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "operator/common/clock.h"
#include "operator/kube/kube_client.h"

namespace gantry::kube {

enum class EventType { kNormal, kWarning };

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;

  // Records an event about `object` (any object with apiVersion, kind and metadata; only
  // identity fields are read). `reason` is UpperCamelCase ("RolloutPaused"), `message` a
  // sentence for humans.
  virtual void Event(const Object& object, EventType type, std::string_view reason,
                     std::string_view message) = 0;
  // Waits until every event recorded before the call has been written (or dropped after a
  // failed write), at most `timeout`; false when some are still pending.
  virtual bool Flush(std::chrono::milliseconds timeout) = 0;
};

struct EventRecorderOptions {
  std::string component = "gantry";  // source.component and reportingController
  std::string host;                  // source.host and reportingInstance; default hostname
  size_t queue_limit = 1000;
  size_t aggregation_cache_size = 4096;
};

std::unique_ptr<EventRecorder> NewApiEventRecorder(KubeClient& client, Clock& clock,
                                                   EventRecorderOptions options = {});

}  // namespace gantry::kube
