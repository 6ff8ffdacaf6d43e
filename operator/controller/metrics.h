// The process's Prometheus registry and the controller metrics every reconciler shares.
//
// Other modules register their own metrics (gantry_git_fetch_duration_seconds, ...) on
// registry(), including <prometheus/...> in their .cc files only; this header forward-
// declares the registry so that it stays free of third-party headers. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
}

namespace gantry::controller {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry();

  // Counts one reconcile in gantry_reconcile_total{controller,result} and its duration in
  // gantry_reconcile_duration_seconds{controller}.
  void ObserveReconcile(std::string_view controller, std::string_view result, double seconds);

  // Counts one request of this process to the API server in
  // gantry_kube_requests_total{verb,code} (RestConfig::on_request's verb; code the HTTP status,
  // "0" when no answer came). Thread-safe.
  void CountKubeRequest(std::string_view verb, int code);

  // Every metric of the registry in the Prometheus text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::controller
