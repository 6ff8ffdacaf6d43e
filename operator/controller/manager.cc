#include "operator/controller/manager.h"

#include <fmt/format.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include "operator/controller/leader_election.h"
#include "operator/controller/reconcile_request.h"
#include "operator/kube/rest_kube_client.h"

namespace gantry::controller {
namespace {

const kube::GroupVersionKind kNamespace{"", "v1", "Namespace"};

bool Disabled(const std::string& bind) { return bind.empty() || bind == "0"; }

// How often the manager looks whether the workers went idle after some work.
constexpr std::chrono::seconds kIdleCheckPeriod{1};

// Returns the free pages of every malloc arena to the system (glibc frees only the top of a
// heap by itself). Walks the free lists: well under a millisecond for an operator's heap.
void ReleaseFreedMemory() {
  auto started = std::chrono::steady_clock::now();
  malloc_trim(0);
  spdlog::debug("returned freed memory to the system in {} us",
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count());
}

std::unique_ptr<HttpServer> MakeServer(const std::string& name, const std::string& bind,
                                       Status& status) {
  if (Disabled(bind)) return nullptr;
  Result<std::unique_ptr<HttpServer>> server = NewCivetHttpServer(name, bind);
  if (!server.ok()) {
    if (status.ok()) status = server.status();
    return nullptr;
  }
  return std::move(server).value();
}

std::string Identity() {
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  std::mt19937_64 rng(std::random_device{}());
  return fmt::format("{}_{:08x}", host, static_cast<uint32_t>(rng()));
}

}  // namespace

Result<std::unique_ptr<Manager>> Manager::Create(ManagerOptions options, Clock& clock) {
  Result<kube::RestConfig> config = kube::ResolveRestConfig(
      kube::ConfigSources::FromProcess(options.kubeconfig, options.context));
  if (!config.ok()) return config.status();
  config->qps = options.kube_qps;
  config->burst = options.kube_burst;
  // The client is made before the Manager that holds the metrics; requests are counted once
  // the Manager exists (the client sends none before).
  auto metrics = std::make_shared<std::atomic<Metrics*>>(nullptr);
  config->on_request = [metrics](std::string_view verb, int code) {
    if (Metrics* m = metrics->load(); m != nullptr) m->CountKubeRequest(verb, code);
  };
  if (options.leader_election_namespace.empty()) options.leader_election_namespace = config->ns;
  spdlog::info("using {} -> {}", config->origin, config->server);
  Result<std::unique_ptr<kube::KubeClient>> client = kube::NewRestKubeClient(*config, clock);
  if (!client.ok()) return client.status();
  auto manager = std::make_unique<Manager>(std::move(client).value(), std::move(options), clock);
  metrics->store(&manager->metrics());
  manager->request_metrics_ = std::move(metrics);
  return manager;
}

Manager::Manager(std::unique_ptr<kube::KubeClient> client, ManagerOptions options, Clock& clock)
    : options_(std::move(options)), clock_(clock), client_(std::move(client)) {
  if (options_.leader_election_namespace.empty()) options_.leader_election_namespace = "default";
  events_ = kube::NewApiEventRecorder(*client_, clock_);
  metrics_server_ = MakeServer("metrics", options_.metrics_bind_address, init_status_);
  health_server_ = MakeServer("health probe", options_.health_probe_bind_address, init_status_);
  webhook_server_ = MakeServer("webhook", options_.webhook_bind_address, init_status_);
}

Manager::~Manager() {
  // Requests after this point (a watch ending) are no longer counted: the metrics go first.
  if (request_metrics_) request_metrics_->store(nullptr);
  for (Controller& c : controllers_) {
    if (c.runner) c.runner->Stop();
  }
  for (auto& [gvk, informer] : informers_) informer->Stop();
  StopServers();
}

kube::SharedInformer& Manager::Informer(const kube::GroupVersionKind& gvk,
                                        kube::InformerOptions options) {
  auto it = informers_.find(gvk);
  if (it != informers_.end()) return *it->second;
  if (options.ns.empty()) options.ns = options_.ns;
  auto informer = std::make_unique<kube::SharedInformer>(*client_, gvk, std::move(options));
  return *informers_.emplace(gvk, std::move(informer)).first->second;
}

WorkQueue& Manager::AddController(const std::string& name, Reconciler& reconciler, int workers) {
  Controller c;
  c.name = name;
  c.reconciler = &reconciler;
  c.queue = std::make_unique<WorkQueue>(clock_);
  c.workers = workers > 0 ? workers : std::max(1, options_.concurrency);
  controllers_.push_back(std::move(c));
  return *controllers_.back().queue;
}

void Manager::AddReadyCheck(const std::string& name, std::function<Status()> check) {
  ready_checks_.emplace_back(name, std::move(check));
}

bool Manager::Ready(std::string* why) const {
  std::vector<std::string> not_ready;
  for (const auto& [gvk, informer] : informers_) {
    if (!informer->HasSynced()) {
      std::string error = informer->Stats().last_error;
      not_ready.push_back(fmt::format("informer {} not synced{}", gvk.ToString(),
                                      error.empty() ? "" : ": " + error));
    }
  }
  for (const auto& [name, check] : ready_checks_) {
    Status s = check();
    if (!s.ok()) not_ready.push_back(fmt::format("{}: {}", name, s.ToString()));
  }
  if (why != nullptr) *why = fmt::format("{}", fmt::join(not_ready, "\n"));
  return not_ready.empty();
}

Status Manager::StartServers() {
  GANTRY_RETURN_IF_ERROR(init_status_);
  if (health_server_) {
    health_server_->Handle("/healthz", [](const HttpServerRequest&) {
      return HttpServerResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
    });
    health_server_->Handle("/readyz", [this](const HttpServerRequest&) {
      std::string why;
      if (Ready(&why)) return HttpServerResponse{200, "text/plain; charset=utf-8", "ok\n", {}};
      return HttpServerResponse{503, "text/plain; charset=utf-8", why + "\n", {}};
    });
    GANTRY_RETURN_IF_ERROR(health_server_->Start());
  }
  if (metrics_server_) {
    metrics_server_->Handle("/metrics", [this](const HttpServerRequest&) {
      return HttpServerResponse{
          200, "text/plain; version=0.0.4; charset=utf-8", metrics_.Serialize(), {}};
    });
    GANTRY_RETURN_IF_ERROR(metrics_server_->Start());
  }
  if (webhook_server_) GANTRY_RETURN_IF_ERROR(webhook_server_->Start());
  serving_ = true;
  return Status::Ok();
}

void Manager::StopServers() {
  // civetweb's stop can wait up to its 2s poll quantum; stop the three side by side.
  std::vector<std::thread> stoppers;
  for (HttpServer* s : {webhook_server_.get(), metrics_server_.get(), health_server_.get()}) {
    if (s != nullptr) stoppers.emplace_back([s] { s->Stop(); });
  }
  for (std::thread& t : stoppers) t.join();
  serving_ = false;
}

void Manager::WatchNamespaces() {
  kube::InformerOptions options;
  // Scoped to one namespace, the operator may lack the right to list them all.
  if (!options_.ns.empty()) options.field_selector = "metadata.name=" + options_.ns;
  options.ns = "";
  // Namespaces are cluster-scoped: the informer must not inherit --namespace.
  auto informer = std::make_unique<kube::SharedInformer>(*client_, kNamespace, options);
  informer->AddEventHandler(
      {[](const kube::ObjectPtr& ns) { spdlog::info("namespace {} seen", kube::NameOf(*ns)); },
       [](const kube::ObjectPtr& old_ns, const kube::ObjectPtr& ns) {
         std::string was = (*old_ns)["status"].value("phase", "");
         std::string now = (*ns)["status"].value("phase", "");
         if (was != now) spdlog::info("namespace {} is {}", kube::NameOf(*ns), now);
       },
       [](const kube::ObjectPtr& ns) { spdlog::info("namespace {} deleted", kube::NameOf(*ns)); }});
  informers_.emplace(kNamespace, std::move(informer));
}

Status Manager::Run(std::stop_token stop) {
  Result<kube::Object> version = client_->ServerVersion();
  if (!version.ok()) return version.status().WithContext("connecting to the API server");
  spdlog::info("connected to Kubernetes {} ({})", version->value("gitVersion", "?"),
               version->value("platform", "?"));

  Status served = StartServers();
  if (!served.ok()) {
    StopServers();
    return served;
  }
  if (!informers_.count(kNamespace)) WatchNamespaces();
  for (auto& [gvk, informer] : informers_) informer->Start();

  auto stopping = [&] { return stop.stop_requested(); };
  std::mutex mu;
  std::condition_variable_any cv;
  auto wait_for = [&](std::chrono::milliseconds d, const std::function<bool()>& done) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, stop, d, done);
  };
  auto synced = [&] {
    for (auto& [gvk, informer] : informers_) {
      if (!informer->HasSynced()) return false;
    }
    return true;
  };
  while (!stopping() && !wait_for(std::chrono::milliseconds(100), synced)) {
  }
  Status result = Status::Ok();
  if (!stopping()) {
    spdlog::info("caches synced: {} informer(s), {} namespace(s) visible", informers_.size(),
                 informers_.at(kNamespace)->Size());
  }

  std::unique_ptr<LeaderElector> elector;
  std::jthread renewer;
  std::stop_source lost;  // requested when leadership is lost
  if (options_.leader_elect && !stopping()) {
    LeaderElectionOptions le;
    le.ns = options_.leader_election_namespace;
    le.name = options_.leader_election_id;
    le.identity = Identity();
    elector = std::make_unique<LeaderElector>(*client_, clock_, le);
    spdlog::info("leader election: {} waiting for lease {}/{}", le.identity, le.ns, le.name);
    elector->Acquire(stop);
  }
  if (!stopping()) {
    if (elector) {
      renewer = std::jthread([&](std::stop_token renew_stop) {
        Status s = elector->Renew(renew_stop);
        if (!s.ok()) {
          spdlog::error("{}", s.ToString());
          std::lock_guard lock(mu);
          result = s;
          lost.request_stop();
          cv.notify_all();
        }
      });
    }
    for (Controller& c : controllers_) {
      c.runner = std::make_unique<Runner>(c.name, *c.reconciler, *c.queue, c.workers, &metrics_);
      c.runner->Start();
      spdlog::info("controller {} started with {} worker(s)", c.name, c.workers);
    }
    leading_ = true;
    std::stop_token lost_token = lost.get_token();
    std::unique_lock lock(mu);
    // The caches' first lists and every burst of reconciles leave freed memory behind in
    // malloc's arenas (response bodies, parsed pages, manifests), resident until reused. Once
    // the workers have been idle for a whole period after some work, hand it back.
    uint64_t finished = 0;
    bool worked = true;
    while (
        !cv.wait_for(lock, stop, kIdleCheckPeriod, [&] { return lost_token.stop_requested(); })) {
      if (stop.stop_requested()) break;
      uint64_t now_finished = 0;
      for (const Controller& c : controllers_) now_finished += c.runner->Processed();
      if (now_finished != finished) {
        finished = now_finished;
        worked = true;
      } else if (worked) {
        worked = false;
        ReleaseFreedMemory();
      }
    }
  }

  spdlog::info("shutting down");
  leading_ = false;
  for (Controller& c : controllers_) {
    if (c.runner) c.runner->Stop();
  }
  if (renewer.joinable()) {
    renewer.request_stop();
    renewer.join();
  }
  for (auto& [gvk, informer] : informers_) informer->Stop();
  if (!events_->Flush(std::chrono::seconds(5))) {
    spdlog::warn("some events could not be written before shutdown");
  }
  StopServers();
  std::lock_guard lock(mu);
  return result;
}

Status Manager::RequestReconcile(WorkQueue& queue, const kube::ResourceRef& object) {
  if (leading_) {
    queue.Add(kube::ObjectKey{object.ns, object.name});
    return Status::Ok();
  }
  spdlog::info("not the leader: handing the reconcile of {} to the leader through the API",
               object.ToString());
  return AnnotateReconcileRequest(*client_, clock_, object);
}

}  // namespace gantry::controller
