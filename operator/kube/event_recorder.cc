#include "operator/kube/event_recorder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "operator/kube/object.h"

namespace gantry::kube {
namespace {

const GroupVersionKind kEvent{"", "v1", "Event"};

struct Pending {
  Object involved;  // involvedObject
  std::string ns;   // namespace of the Event
  std::string name_prefix;
  EventType type;
  std::string reason;
  std::string message;
  Clock::TimePoint at;
};

// Where the last Event with a given aggregation key was written.
struct Written {
  std::string ns;
  std::string name;
  int64_t count;
};

std::string Hostname() {
  char buf[256] = "";
  if (gethostname(buf, sizeof buf) != 0) return "unknown";
  buf[sizeof buf - 1] = '\0';
  return buf;
}

class ApiEventRecorder final : public EventRecorder {
 public:
  ApiEventRecorder(KubeClient& client, Clock& clock, EventRecorderOptions options)
      : client_(client), clock_(clock), options_(std::move(options)) {
    if (options_.host.empty()) options_.host = Hostname();
    thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
  }
  ~ApiEventRecorder() override {
    if (!Flush(std::chrono::seconds(5))) {
      std::lock_guard lock(mu_);
      spdlog::warn("dropping {} unwritten event(s) at shutdown", queue_.size());
    }
    thread_.request_stop();
    cv_.notify_all();
  }

  // EventRecorder
  void Event(const Object& object, EventType type, std::string_view reason,
             std::string_view message) override;
  bool Flush(std::chrono::milliseconds timeout) override;

 private:
  void Run(std::stop_token stop);
  void Write(const Pending& e);
  std::string AggregationKey(const Pending& e) const {
    return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}", e.involved.dump(), e.ns,
                       e.type == EventType::kNormal ? "N" : "W", e.reason, e.message);
  }
  void Remember(const std::string& key, Written w);

  KubeClient& client_;
  Clock& clock_;
  EventRecorderOptions options_;

  std::mutex mu_;  // guards queue_, in_flight_
  std::condition_variable_any cv_;
  std::condition_variable_any idle_cv_;
  std::deque<Pending> queue_;
  bool in_flight_ = false;

  // Only the writer thread touches the aggregation cache. The recency list points at the map's
  // keys (a key stays put until its entry is erased) instead of holding a second copy of each,
  // which carries up to 1 KiB of message.
  std::list<const std::string*> lru_;  // most recent first
  std::unordered_map<std::string, std::pair<Written, std::list<const std::string*>::iterator>>
      written_;

  std::jthread thread_;  // last: starts after everything it uses exists
};

void ApiEventRecorder::Event(const Object& object, EventType type, std::string_view reason,
                             std::string_view message) {
  Pending e;
  e.involved = Object::object();
  for (const char* field : {"apiVersion", "kind"}) {
    if (object.contains(field)) e.involved[field] = object[field];
  }
  const std::string& ns = NamespaceOf(object);
  if (!ns.empty()) e.involved["namespace"] = ns;
  e.involved["name"] = NameOf(object);
  if (!UidOf(object).empty()) e.involved["uid"] = UidOf(object);
  // Events about cluster-scoped objects live in "default", as client-go puts them.
  e.ns = ns.empty() ? "default" : ns;
  e.name_prefix = NameOf(object);
  e.type = type;
  e.reason = std::string(reason);
  e.message = std::string(message.substr(0, 1024));
  e.at = clock_.Now();
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= options_.queue_limit) {
      spdlog::warn("event dropped (queue full): {} {}: {}", Describe(object), reason, message);
      return;
    }
    queue_.push_back(std::move(e));
  }
  cv_.notify_all();
}

bool ApiEventRecorder::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [&] { return queue_.empty() && !in_flight_; });
}

void ApiEventRecorder::Run(std::stop_token stop) {
  while (true) {
    Pending e;
    {
      std::unique_lock lock(mu_);
      in_flight_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (stop.stop_requested()) return;  // whatever is left is dropped
      e = std::move(queue_.front());
      queue_.pop_front();
      in_flight_ = true;
    }
    Write(e);
  }
}

void ApiEventRecorder::Remember(const std::string& key, Written w) {
  auto it = written_.find(key);
  if (it != written_.end()) {
    lru_.erase(it->second.second);
    written_.erase(it);
  }
  auto added = written_.emplace(key, std::make_pair(std::move(w), lru_.end())).first;
  lru_.push_front(&added->first);
  added->second.second = lru_.begin();
  while (written_.size() > options_.aggregation_cache_size) {
    written_.erase(written_.find(*lru_.back()));
    lru_.pop_back();
  }
}

void ApiEventRecorder::Write(const Pending& e) {
  std::string key = AggregationKey(e);
  std::string when = FormatRfc3339(e.at);
  auto seen = written_.find(key);
  if (seen != written_.end()) {
    Written w = seen->second.first;
    Object patch = {{"count", w.count + 1}, {"lastTimestamp", when}};
    Result<Object> bumped = client_.Patch({kEvent, w.ns, w.name}, PatchType::kMerge, patch);
    if (bumped.ok()) {
      w.count += 1;
      Remember(key, w);
      return;
    }
    if (bumped.status().code() != StatusCode::kNotFound) {
      spdlog::warn("event {} {}: {}", e.reason, e.message, bumped.status().ToString());
      return;
    }
    // The Event expired (events have a TTL): write a new one below.
  }
  auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(e.at.time_since_epoch()).count();
  std::string name = fmt::format("{}.{:x}", e.name_prefix, nanos);
  Object event = {{"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"metadata", {{"name", name}, {"namespace", e.ns}}},
                  {"involvedObject", e.involved},
                  {"reason", e.reason},
                  {"message", e.message},
                  {"type", e.type == EventType::kNormal ? "Normal" : "Warning"},
                  {"source", {{"component", options_.component}, {"host", options_.host}}},
                  {"reportingComponent", options_.component},
                  {"reportingInstance", options_.host},
                  {"firstTimestamp", when},
                  {"lastTimestamp", when},
                  {"count", 1}};
  Result<Object> created = client_.Create(event);
  if (!created.ok()) {
    spdlog::warn("event {} about {}/{}: {}", e.reason, e.ns, e.name_prefix,
                 created.status().ToString());
    return;
  }
  Remember(key, Written{e.ns, name, 1});
}

}  // namespace

std::unique_ptr<EventRecorder> NewApiEventRecorder(KubeClient& client, Clock& clock,
                                                   EventRecorderOptions options) {
  return std::make_unique<ApiEventRecorder>(client, clock, std::move(options));
}

}  // namespace gantry::kube
