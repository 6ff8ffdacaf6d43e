// The API server dies and comes back; etcd compacts its history. A watch and an informer must
// come through both with exactly the server's final state: nothing lost, nothing twice.
//
// Why compaction and a restart together: in Kubernetes 1.36 the API server's watch cache
// keeps serving old resourceVersions (watches, continue tokens, exact-version lists) after
// etcd compacts them, for as long as that API server runs. Compaction becomes visible to
// clients when the cache is rebuilt from etcd, i.e. after a restart: then a watch from a
// pre-compaction version answers 410 Gone and the client must list again.
//
// These tests stop and start kube-apiserver (hack/cluster restart-apiserver), so ctest runs
// them alone (RUN_SERIAL).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "operator/kube/http_transport.h"
#include "operator/kube/informer.h"
#include "tests/integration/kube/cluster_fixture.h"

namespace gantry::kube {
namespace {

using testing::ClusterTest;
using testing::Eventually;
using testing::kConfigMap;

// The etcd client URL of the local control plane: $GANTRY_ETCD_ENDPOINT, else read from the
// cluster's env file.
std::string EtcdEndpoint() {
  if (const char* e = std::getenv("GANTRY_ETCD_ENDPOINT"); e != nullptr && *e != '\0') return e;
  const char* dir = std::getenv("GANTRY_CLUSTER_DIR");
  std::string env_file =
      (dir != nullptr && *dir != '\0' ? std::string(dir)
                                      : testing::RepoRoot() + "/.cache/cluster") +
      "/env";
  std::ifstream in(env_file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("GANTRY_ETCD_ENDPOINT=", 0) == 0) return line.substr(21);
  }
  return "";
}

// Compacts etcd's history up to its current revision through the v3 HTTP gateway.
Status CompactEtcd() {
  std::string endpoint = EtcdEndpoint();
  if (endpoint.empty()) return NotFound("no etcd endpoint (GANTRY_ETCD_ENDPOINT)");
  TransportOptions options;
  options.server = endpoint;
  Result<std::unique_ptr<HttpTransport>> etcd = NewBeastHttpTransport(options);
  if (!etcd.ok()) return etcd.status();
  HttpRequest range{
      "POST", "/v3/kv/range", {{"Content-Type", "application/json"}}, R"({"key":"AA=="})"};
  Result<HttpResponse> r = (*etcd)->RoundTrip(range, std::chrono::seconds(10));
  if (!r.ok()) return r.status();
  std::string revision = Object::parse(r->body)["header"]["revision"].get<std::string>();
  HttpRequest compact{"POST",
                      "/v3/kv/compaction",
                      {{"Content-Type", "application/json"}},
                      Object{{"revision", std::stoll(revision)}, {"physical", true}}.dump()};
  Result<HttpResponse> c = (*etcd)->RoundTrip(compact, std::chrono::seconds(30));
  if (!c.ok()) return c.status();
  if (c->status != 200) return Internal("etcd compaction: " + c->body);
  return Status::Ok();
}

Status RestartApiserver() {
  std::string cmd = testing::RepoRoot() + "/hack/cluster restart-apiserver";
  int rc = std::system(cmd.c_str());
  if (rc != 0) return Internal(cmd + " failed with status " + std::to_string(rc));
  return Status::Ok();
}

// Replays handler calls into a map and counts anything a correct informer never does: an add
// for a key it already reported, an update or delete for a key it never reported, or a
// resourceVersion going backwards.
class StateFromEvents {
 public:
  EventHandler Handler() {
    return {[this](const ObjectPtr& o) {
              std::lock_guard lock(mu_);
              std::string k = KeyOf(*o).ToString();
              if (state_.count(k)) anomalies_.push_back("duplicate add " + k);
              state_[k] = ResourceVersionOf(*o);
            },
            [this](const ObjectPtr& old_object, const ObjectPtr& o) {
              std::lock_guard lock(mu_);
              std::string k = KeyOf(*o).ToString();
              if (!state_.count(k)) anomalies_.push_back("update of unknown " + k);
              if (state_[k] != ResourceVersionOf(*old_object)) {
                anomalies_.push_back("update from a version never seen " + k);
              }
              state_[k] = ResourceVersionOf(*o);
            },
            [this](const ObjectPtr& o) {
              std::lock_guard lock(mu_);
              std::string k = KeyOf(*o).ToString();
              if (!state_.erase(k)) anomalies_.push_back("delete of unknown " + k);
            }};
  }
  std::map<std::string, std::string> State() {
    std::lock_guard lock(mu_);
    return state_;
  }
  std::vector<std::string> Anomalies() {
    std::lock_guard lock(mu_);
    return anomalies_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> state_;  // key -> resourceVersion
  std::vector<std::string> anomalies_;
};

class RestartTest : public ClusterTest {
 protected:
  std::map<std::string, std::string> ServerState() {
    Result<ObjectList> list = client_->ListAll(kConfigMap, ns_);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    std::map<std::string, std::string> out;
    if (!list.ok()) return out;
    for (const Object& o : list->items) out[KeyOf(o).ToString()] = ResourceVersionOf(o);
    return out;
  }
  std::map<std::string, std::string> CacheState(const SharedInformer& informer) {
    std::map<std::string, std::string> out;
    for (const ObjectPtr& o : informer.List()) out[KeyOf(*o).ToString()] = ResourceVersionOf(*o);
    return out;
  }
};

TEST_F(RestartTest, WatchAndInformerSurviveRestartAndCompaction) {
  InformerOptions options;
  options.ns = ns_;
  options.max_backoff = std::chrono::seconds(2);
  SharedInformer informer(*client_, kConfigMap, options);
  StateFromEvents events;
  informer.AddEventHandler(events.Handler());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client_->Create(ConfigMap("cm-" + std::to_string(i), {{"v", "0"}})).ok());
  }
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(30)));

  // A plain watch beside the informer: it must end (cleanly or not) when the server goes.
  Result<ObjectList> start = client_->List(kConfigMap, ns_);
  ASSERT_TRUE(start.ok());
  std::atomic<int> raw_events{0};
  Status raw_end = Internal("still running");
  std::thread raw([&] {
    WatchOptions w;
    w.resource_version = start->resource_version;
    raw_end = client_->Watch(
        kConfigMap, ns_, w,
        [&](const WatchEvent&) {
          ++raw_events;
          return Status::Ok();
        },
        std::stop_token());
  });

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client_
                    ->Patch({kConfigMap, ns_, "cm-" + std::to_string(i)}, PatchType::kMerge,
                            {{"data", {{"v", "1"}}}})
                    .ok());
  }
  ASSERT_TRUE(Eventually([&] { return CacheState(informer) == ServerState(); }));
  ASSERT_TRUE(Eventually([&] { return raw_events.load() >= 3; }));
  std::string before_compaction = ServerState().rbegin()->second;
  Result<ObjectList> now = client_->List(kConfigMap, ns_);
  before_compaction = now->resource_version;

  ASSERT_TRUE(CompactEtcd().ok());
  ASSERT_TRUE(RestartApiserver().ok());
  raw.join();
  // Either the server closed the stream on shutdown (OK) or the connection broke.
  EXPECT_TRUE(raw_end.ok() || raw_end.code() == StatusCode::kUnavailable ||
              raw_end.code() == StatusCode::kTimeout)
      << raw_end.ToString();

  // Resuming from before the compaction is no longer possible.
  WatchOptions stale;
  stale.resource_version = before_compaction;
  Status gone = client_->Watch(
      kConfigMap, ns_, stale, [](const WatchEvent&) { return Status::Ok(); }, std::stop_token());
  EXPECT_EQ(gone.code(), StatusCode::kGone) << gone.ToString();

  // Changes after the restart, possibly before the informer is back.
  ASSERT_TRUE(client_->Delete({kConfigMap, ns_, "cm-0"}).ok());
  ASSERT_TRUE(client_->Delete({kConfigMap, ns_, "cm-5"}).ok());
  ASSERT_TRUE(
      client_->Patch({kConfigMap, ns_, "cm-1"}, PatchType::kMerge, {{"data", {{"v", "2"}}}}).ok());
  ASSERT_TRUE(client_->Create(ConfigMap("after-1")).ok());
  ASSERT_TRUE(client_->Create(ConfigMap("after-2")).ok());

  std::map<std::string, std::string> want;
  ASSERT_TRUE(Eventually(
      [&] {
        want = ServerState();
        return CacheState(informer) == want && events.State() == want;
      },
      std::chrono::seconds(60)))
      << "informer did not converge; last error: " << informer.Stats().last_error;
  EXPECT_THAT(events.Anomalies(), ::testing::IsEmpty());
  EXPECT_GE(informer.Stats().lists, 2) << "the informer should have listed again after 410";
  EXPECT_EQ(informer.Get({ns_, "cm-0"}), nullptr);
  EXPECT_EQ((*informer.Get({ns_, "cm-1"}))["data"]["v"], "2");
}

TEST_F(RestartTest, RequestsFailTypedWhileTheServerIsDownAndRecover) {
  // While the API server restarts, requests fail as Unavailable (refused) and the pooled
  // keep-alive connections are replaced afterwards without the caller noticing.
  ASSERT_TRUE(client_->Create(ConfigMap("pooled")).ok());
  std::atomic<bool> done{false};
  std::atomic<int> unavailable{0};
  std::atomic<int> other{0};
  std::thread poller([&] {
    while (!done) {
      Result<Object> got = client_->Get({kConfigMap, ns_, "pooled"});
      if (!got.ok()) {
        if (got.status().code() == StatusCode::kUnavailable ||
            got.status().code() == StatusCode::kTimeout) {
          ++unavailable;
        } else {
          ++other;
          ADD_FAILURE() << got.status().ToString();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  ASSERT_TRUE(RestartApiserver().ok());
  ASSERT_TRUE(Eventually([&] { return client_->Get({kConfigMap, ns_, "pooled"}).ok(); }));
  done = true;
  poller.join();
  EXPECT_GT(unavailable.load(), 0);
  EXPECT_EQ(other.load(), 0);
}

}  // namespace
}  // namespace gantry::kube
