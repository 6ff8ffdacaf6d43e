// Manager: the `gantry operator` process. It owns the Kubernetes client, the shared informers,
// the controllers with their work queues, the event recorder, the metrics registry, leader
// election and the three HTTP servers, and runs them in order:
//
//   1. connect: GET /version, logged (a bad kubeconfig or an unreachable server fails here);
//   2. serve /healthz + /readyz (probe address), /metrics (metrics address) and the webhook
//      address (handlers registered by later controllers);
//   3. start every informer, including one on Namespaces that logs what it sees; /readyz
//      answers 200 once all have synced and every ready check passes;
//   4. with --leader-elect, wait to lead (readiness does not depend on it);
//   5. start the controllers' workers;
//   6. on stop (SIGINT/SIGTERM): stop controllers, release the lease, stop informers, flush
//      events, stop the servers, in that order. Losing the lease also stops the manager, with
//      an error, so the process restarts as a mere candidate.
//
// Set-up calls (Informer, AddController, AddReadyCheck, webhook_server()->Handle) are made
// from one thread before Run; afterwards the accessors are safe from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/controller/http_server.h"
#include "operator/controller/metrics.h"
#include "operator/controller/reconciler.h"
#include "operator/controller/runner.h"
#include "operator/controller/work_queue.h"
#include "operator/kube/event_recorder.h"
#include "operator/kube/informer.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/rest_config.h"

namespace gantry::controller {

// The flags of `gantry operator` (DESIGN.md §3).
struct ManagerOptions {
  std::string kubeconfig;
  std::string context;
  std::string ns;                                   // "" watches all namespaces
  std::string metrics_bind_address = ":8080";       // "0" disables
  std::string health_probe_bind_address = ":8081";  // "0" disables
  std::string webhook_bind_address = ":9292";       // "0" disables
  bool leader_elect = false;
  std::string leader_election_namespace;  // default: the config's namespace
  std::string leader_election_id = "gantry-leader";
  int concurrency = 4;  // workers per controller
  // Client-side rate limit. Higher than client-go's 50/100: a first sync of an Application of
  // 1,000 objects is ~2,000 requests (a dry run and a write each), 40 s of waiting at 50/s
  // however fast the server is. The API server protects itself from any one client (API
  // Priority and Fairness); this limit only guards it against a runaway loop.
  double kube_qps = 100;
  int kube_burst = 300;
};

class Manager {
 public:
  // Resolves the config (--kubeconfig, in-cluster, $KUBECONFIG, ~/.kube/config) and builds
  // the client. Does not contact the server yet.
  static Result<std::unique_ptr<Manager>> Create(ManagerOptions options, Clock& clock);
  // With a client made elsewhere (tests pass a FakeKubeClient or a RestKubeClient).
  Manager(std::unique_ptr<kube::KubeClient> client, ManagerOptions options, Clock& clock);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  kube::KubeClient& client() { return *client_; }
  Metrics& metrics() { return metrics_; }
  kube::EventRecorder& events() { return *events_; }
  const ManagerOptions& options() const { return options_; }
  Clock& clock() { return clock_; }

  // The shared informer for `gvk`, created on first use (later calls return the same one and
  // ignore `options`). options.ns defaults to the manager's namespace.
  kube::SharedInformer& Informer(const kube::GroupVersionKind& gvk,
                                 kube::InformerOptions options = {});
  // Registers a controller; returns its queue, which the caller feeds from informer handlers.
  // workers <= 0 uses --concurrency.
  WorkQueue& AddController(const std::string& name, Reconciler& reconciler, int workers = 0);
  // An extra readiness condition: /readyz fails with the check's message while it is not OK.
  void AddReadyCheck(const std::string& name, std::function<Status()> check);
  // The server for POST /hooks/..., or null when --webhook-bind-address is "0".
  HttpServer* webhook_server() { return webhook_server_.get(); }

  // True while this process runs its controllers: from their start (at once without
  // --leader-elect, else once the Lease is held) until shutdown begins. Safe from any thread.
  bool leading() const { return leading_.load(); }
  // Asks for a pass of `object` by the controller that `queue` feeds, now, from any replica:
  // added to `queue` when this process leads; otherwise handed to the leader through the API
  // (reconcile_request.h), since a standby's queues are never worked. The error is the API's
  // when the hand-over fails. Safe from any thread.
  Status RequestReconcile(WorkQueue& queue, const kube::ResourceRef& object);

  // Runs until `stop` is requested (OK) or something fatal happens (the error): the server is
  // unreachable at start, a port cannot be bound, or leadership is lost.
  Status Run(std::stop_token stop);

  // True when every informer has synced and every ready check passes; `why` says what is not.
  bool Ready(std::string* why = nullptr) const;
  // Ports actually bound (after Run started them); 0 when disabled.
  int metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }
  int health_port() const { return health_server_ ? health_server_->port() : 0; }
  int webhook_port() const { return webhook_server_ ? webhook_server_->port() : 0; }
  // True once Run has started the servers (tests wait for it).
  bool serving() const { return serving_.load(); }

 private:
  struct Controller {
    std::string name;
    Reconciler* reconciler;
    std::unique_ptr<WorkQueue> queue;
    std::unique_ptr<Runner> runner;
    int workers;
  };

  Status StartServers();
  void StopServers();
  void WatchNamespaces();

  ManagerOptions options_;
  Clock& clock_;
  std::unique_ptr<kube::KubeClient> client_;
  Metrics metrics_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::map<kube::GroupVersionKind, std::unique_ptr<kube::SharedInformer>> informers_;
  std::vector<Controller> controllers_;
  std::vector<std::pair<std::string, std::function<Status()>>> ready_checks_;
  std::unique_ptr<HttpServer> metrics_server_;
  std::unique_ptr<HttpServer> health_server_;
  std::unique_ptr<HttpServer> webhook_server_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> leading_{false};
  Status init_status_;  // a bind address that could not be parsed, reported by Run
  // Where the client made by Create counts its requests (null once the Manager is going away).
  std::shared_ptr<std::atomic<Metrics*>> request_metrics_;
};

}  // namespace gantry::controller
