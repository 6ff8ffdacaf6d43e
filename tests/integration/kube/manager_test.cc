// The operator's process wiring against the real API server: probes and metrics served on
// loopback, readiness after informer sync, a controller fed by an informer whose reconciles
// show in gantry_reconcile_total, leader election between two managers, Events with
// aggregation, and the `gantry operator` binary itself stopping cleanly on SIGTERM.
#include "operator/controller/manager.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "operator/controller/leader_election.h"
#include "tests/integration/kube/cluster_fixture.h"
#include "tests/integration/kube/http_get.h"

namespace gantry::kube {
namespace {

using controller::Manager;
using controller::ManagerOptions;
using controller::ReconcileResult;
using testing::ClusterTest;
using testing::Eventually;
using ::testing::HasSubstr;
using testing::HttpGet;
using testing::kConfigMap;

ManagerOptions LoopbackOptions() {
  ManagerOptions o;
  o.metrics_bind_address = "127.0.0.1:0";
  o.health_probe_bind_address = "127.0.0.1:0";
  o.webhook_bind_address = "127.0.0.1:0";
  o.concurrency = 2;
  return o;
}

// Counts reconciles per key; answers Done.
class CountingReconciler : public controller::Reconciler {
 public:
  ReconcileResult Reconcile(const ObjectKey& key) override {
    std::lock_guard lock(mu_);
    ++count_[key.ToString()];
    return ReconcileResult::Done();
  }
  int Count(const std::string& key) {
    std::lock_guard lock(mu_);
    return count_[key];
  }

 private:
  std::mutex mu_;
  std::map<std::string, int> count_;
};

class ManagerTest : public ClusterTest {
 protected:
  std::unique_ptr<Manager> NewManager(ManagerOptions options) {
    Result<std::unique_ptr<KubeClient>> client = NewRestKubeClient(config_);
    EXPECT_TRUE(client.ok());
    return std::make_unique<Manager>(std::move(client).value(), std::move(options), RealClock());
  }
};

TEST_F(ManagerTest, ServesProbesAndMetricsAndRunsControllers) {
  ManagerOptions options = LoopbackOptions();
  options.ns = ns_;
  std::unique_ptr<Manager> manager = NewManager(options);
  CountingReconciler reconciler;
  controller::WorkQueue& queue = manager->AddController("configmaps", reconciler);
  SharedInformer& informer = manager->Informer(kConfigMap);
  informer.AddEventHandler({[&](const ObjectPtr& o) { queue.Add(KeyOf(*o)); },
                            [&](const ObjectPtr&, const ObjectPtr& o) { queue.Add(KeyOf(*o)); },
                            [&](const ObjectPtr& o) { queue.Add(KeyOf(*o)); }});
  ASSERT_TRUE(manager->webhook_server() != nullptr);
  manager->webhook_server()->Handle("/hooks/", [](const controller::HttpServerRequest& r) {
    return controller::HttpServerResponse{202, "text/plain", "got " + r.path + " " + r.body, {}};
  });

  std::stop_source stop;
  Status result = Internal("not finished");
  std::thread run([&] { result = manager->Run(stop.get_token()); });
  ASSERT_TRUE(Eventually([&] { return manager->serving(); }));
  EXPECT_EQ(HttpGet(manager->health_port(), "/healthz").status, 200);
  ASSERT_TRUE(Eventually([&] { return HttpGet(manager->health_port(), "/readyz").status == 200; }));

  ASSERT_TRUE(client_->Create(ConfigMap("reconcile-me")).ok());
  ASSERT_TRUE(Eventually([&] { return reconciler.Count(ns_ + "/reconcile-me") >= 1; }));
  testing::Answer metrics = HttpGet(manager->metrics_port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body,
              HasSubstr("gantry_reconcile_total{controller=\"configmaps\",result=\"done\"}"));
  EXPECT_THAT(metrics.body,
              HasSubstr("gantry_reconcile_duration_seconds_bucket{controller=\"configmaps\""));
  EXPECT_THAT(metrics.body, HasSubstr("gantry_build_info{"));

  testing::Answer hook = HttpGet(manager->webhook_port(), "/hooks/ns/repo", "POST", "payload");
  EXPECT_EQ(hook.status, 202);
  EXPECT_EQ(hook.body, "got /hooks/ns/repo payload");
  EXPECT_EQ(HttpGet(manager->webhook_port(), "/other").status, 404);

  auto stopping = std::chrono::steady_clock::now();
  stop.request_stop();
  run.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(5));
  EXPECT_EQ(HttpGet(manager->health_port(), "/healthz").status, 0);  // no longer served
}

TEST_F(ManagerTest, NotReadyUntilInformersSync) {
  ManagerOptions options = LoopbackOptions();
  std::unique_ptr<Manager> manager = NewManager(options);
  // A kind the server does not serve: its informer never syncs, and /readyz says so.
  manager->Informer({"nonexistent.gantry.example.com", "v1", "Thing"});
  std::stop_source stop;
  std::thread run([&] { (void)manager->Run(stop.get_token()); });
  ASSERT_TRUE(Eventually([&] { return manager->serving(); }));
  testing::Answer ready;
  ASSERT_TRUE(Eventually([&] {
    ready = HttpGet(manager->health_port(), "/readyz");
    return ready.body.find("does not serve") != std::string::npos;
  }));
  EXPECT_EQ(ready.status, 503);
  EXPECT_THAT(ready.body, HasSubstr("nonexistent.gantry.example.com/v1, Kind=Thing not synced"));
  EXPECT_EQ(HttpGet(manager->health_port(), "/healthz").status, 200);
  stop.request_stop();
  run.join();
}

TEST_F(ManagerTest, PortInUseFailsRun) {
  ManagerOptions first = LoopbackOptions();
  std::unique_ptr<Manager> holder = NewManager(first);
  std::stop_source stop;
  std::thread run([&] { (void)holder->Run(stop.get_token()); });
  ASSERT_TRUE(Eventually([&] { return holder->serving(); }));
  ManagerOptions second = LoopbackOptions();
  second.metrics_bind_address = fmt::format("127.0.0.1:{}", holder->metrics_port());
  Status s = NewManager(second)->Run(std::stop_token());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr(second.metrics_bind_address));
  stop.request_stop();
  run.join();
  ManagerOptions bad = LoopbackOptions();
  bad.health_probe_bind_address = "localhost";
  EXPECT_EQ(NewManager(bad)->Run(std::stop_token()).code(), StatusCode::kInvalidArgument);
}

TEST_F(ManagerTest, OnlyTheLeaderRunsControllers) {
  auto make = [&](CountingReconciler& r) {
    ManagerOptions options = LoopbackOptions();
    options.ns = ns_;
    options.leader_elect = true;
    options.leader_election_namespace = ns_;
    std::unique_ptr<Manager> m = NewManager(options);
    controller::WorkQueue& queue = m->AddController("cm", r, 1);
    m->Informer(kConfigMap)
        .AddEventHandler(
            {[&queue](const ObjectPtr& o) { queue.Add(KeyOf(*o)); }, nullptr, nullptr});
    return m;
  };
  CountingReconciler ra, rb;
  std::unique_ptr<Manager> a = make(ra);
  std::unique_ptr<Manager> b = make(rb);
  ASSERT_TRUE(client_->Create(ConfigMap("led")).ok());
  std::stop_source stop_a, stop_b;
  std::thread run_a([&] { (void)a->Run(stop_a.get_token()); });
  ASSERT_TRUE(Eventually([&] { return ra.Count(ns_ + "/led") >= 1; }));
  std::thread run_b([&] { (void)b->Run(stop_b.get_token()); });
  ASSERT_TRUE(Eventually([&] { return b->Ready(); }));
  ASSERT_TRUE(client_->Create(ConfigMap("led-2")).ok());
  ASSERT_TRUE(Eventually([&] { return ra.Count(ns_ + "/led-2") >= 1; }));
  EXPECT_EQ(rb.Count(ns_ + "/led"), 0);  // b is ready but not leading
  EXPECT_EQ(rb.Count(ns_ + "/led-2"), 0);

  // a stops and releases the lease; b takes over without waiting out the lease.
  stop_a.request_stop();
  run_a.join();
  ASSERT_TRUE(Eventually([&] { return rb.Count(ns_ + "/led") >= 1; }, std::chrono::seconds(20)));
  Result<Object> lease =
      client_->Get({{"coordination.k8s.io", "v1", "Lease"}, ns_, "gantry-leader"});
  ASSERT_TRUE(lease.ok());
  EXPECT_GE((*lease)["spec"]["leaseTransitions"].get<int>(), 1);
  stop_b.request_stop();
  run_b.join();
}

TEST_F(ManagerTest, EventsAggregateOnTheServer) {
  auto recorder = NewApiEventRecorder(*client_, RealClock());
  Result<Object> cm = client_->Create(ConfigMap("evented"));
  ASSERT_TRUE(cm.ok());
  recorder->Event(*cm, EventType::kWarning, "SyncFailed", "invalid manifest at app.yaml line 3");
  recorder->Event(*cm, EventType::kWarning, "SyncFailed", "invalid manifest at app.yaml line 3");
  recorder->Event(*cm, EventType::kNormal, "Synced", "applied 3 objects");
  ASSERT_TRUE(recorder->Flush(std::chrono::seconds(10)));
  ListOptions by_object;
  by_object.field_selector = "involvedObject.name=evented";
  Result<ObjectList> events = client_->List({"", "v1", "Event"}, ns_, by_object);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->items.size(), 2u);
  for (const Object& e : events->items) {
    EXPECT_EQ(e["involvedObject"]["uid"], UidOf(*cm));
    if (e["reason"] == "SyncFailed") {
      EXPECT_EQ(e["count"], 2);
      EXPECT_EQ(e["type"], "Warning");
    } else {
      EXPECT_EQ(e["count"], 1);
    }
  }
}

// `gantry operator` as a process: starts, becomes ready, logs namespaces, exits 0 on SIGTERM.
// Its controllers' informers only sync when Gantry's CRDs are served, so they are applied
// first (idempotent; other tests apply the same files).
TEST_F(ManagerTest, OperatorBinaryStopsCleanlyOnSigterm) {
  std::string repo = testing::RepoRoot();
  if (access((repo + "/crds").c_str(), F_OK) == 0) {
    std::string kubectl = repo + "/.cache/bin/kubectl";
    if (access(kubectl.c_str(), X_OK) != 0) kubectl = "kubectl";
    std::string cmd =
        kubectl + " apply --server-side --force-conflicts -f " + repo + "/crds >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string log = "/tmp/gantry-operator-" + ns_ + ".log";
  int probe_port = 0;
  {
    // A free port for the probes: bind 0, read it, release it.
    std::unique_ptr<controller::HttpServer> s =
        std::move(controller::NewCivetHttpServer("probe", "127.0.0.1:0")).value();
    ASSERT_TRUE(s->Start().ok());
    probe_port = s->port();
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    std::string probe = fmt::format("127.0.0.1:{}", probe_port);
    execl(GANTRY_BINARY, "gantry", "operator", "--metrics-bind-address", "127.0.0.1:0",
          "--health-probe-bind-address", probe.c_str(), "--webhook-bind-address", "0",
          "--log-format", "json", static_cast<char*>(nullptr));
    _exit(127);
  }
  bool ready = Eventually([&] { return HttpGet(probe_port, "/readyz").status == 200; });
  Result<Object> created = client_->Create(
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_ + "-seen"}}}});
  auto read_log = [&] {
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  bool logged = Eventually(
      [&] { return read_log().find("namespace " + ns_ + "-seen seen") != std::string::npos; });
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  (void)client_->Delete({testing::kNamespace, "", ns_ + "-seen"});
  std::string text = read_log();
  std::remove(log.c_str());
  EXPECT_TRUE(ready) << text;
  EXPECT_TRUE(logged) << text;
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_THAT(text, HasSubstr("\"msg\":\"connected to Kubernetes v"));
  EXPECT_THAT(text, HasSubstr("\"msg\":\"stopped\""));
}

}  // namespace
}  // namespace gantry::kube
