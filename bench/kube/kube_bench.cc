// Measures the Kubernetes client against a real API server (run.sh drives it):
//
//   populate  create N ConfigMaps of a given data size in a namespace (parallel creates)
//   informer  in a fresh process: resident memory before and after an informer lists and
//             caches every ConfigMap of the namespace, and the time until it is synced and
//             watching
//   ssa       server-side apply N small ConfigMaps (field manager "gantry-bench") with W
//             workers and client-side throttling qps/burst; objects per second. With
//             --objects FILE (one JSON object per line), those objects instead, into the
//             namespace given: the tight-loop limit bench/run.py compares syncs with
//   manifest  print the same N small ConfigMaps as multi-document YAML, for
//             `kubectl apply --server-side -f -`
//
// Each command prints one JSON line of figures on stdout; progress goes to stderr.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "operator/kube/informer.h"
#include "operator/kube/kube_client.h"
#include "operator/kube/rest_config.h"
#include "operator/kube/rest_kube_client.h"

namespace {

using gantry::Result;
using gantry::Status;
using namespace gantry::kube;
using Clock = std::chrono::steady_clock;

const GroupVersionKind kConfigMap{"", "v1", "ConfigMap"};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// VmRSS of this process in KiB.
long RssKib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

std::unique_ptr<KubeClient> Connect(double qps, int burst) {
  const char* kubeconfig = std::getenv("KUBECONFIG");
  if (kubeconfig == nullptr) {
    fmt::print(stderr, "KUBECONFIG is not set (eval \"$(hack/cluster env)\")\n");
    std::exit(2);
  }
  Result<RestConfig> config = LoadKubeconfig({kubeconfig});
  if (!config.ok()) {
    fmt::print(stderr, "{}\n", config.status().ToString());
    std::exit(2);
  }
  config->qps = qps;
  config->burst = burst;
  config->timeout = std::chrono::seconds(120);
  Result<std::unique_ptr<KubeClient>> client = NewRestKubeClient(*config);
  if (!client.ok()) {
    fmt::print(stderr, "{}\n", client.status().ToString());
    std::exit(2);
  }
  return std::move(client).value();
}

Object SmallConfigMap(const std::string& ns, int i) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", fmt::format("bench-{:05d}", i)},
            {"namespace", ns},
            {"labels", {{"app.kubernetes.io/managed-by", "gantry-bench"}}}}},
          {"data", {{"index", std::to_string(i)}, {"color", i % 2 ? "blue" : "green"}}}};
}

// Runs fn(i) for i in [0, count) on `workers` threads; returns the number of failures.
int Parallel(int count, int workers, const std::function<Status(int)>& fn) {
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        Status s = fn(i);
        if (!s.ok()) {
          if (failures++ < 5) fmt::print(stderr, "{}\n", s.ToString());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return failures.load();
}

int Populate(const std::string& ns, int count, int size, int workers) {
  std::unique_ptr<KubeClient> client = Connect(0, 1);
  std::string payload(static_cast<size_t>(size), 'x');
  auto start = Clock::now();
  int failures = Parallel(count, workers, [&](int i) {
    Object cm = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", fmt::format("payload-{:05d}", i)}, {"namespace", ns}}},
                 {"data", {{"payload", payload}}}};
    Status s = client->Create(cm).status();
    return s.code() == gantry::StatusCode::kAlreadyExists ? Status::Ok() : s;
  });
  fmt::print("{{\"command\":\"populate\",\"objects\":{},\"bytes_each\":{},\"seconds\":{:.2f},"
             "\"failures\":{}}}\n",
             count, size, Seconds(start), failures);
  return failures == 0 ? 0 : 1;
}

int Informer(const std::string& ns) {
  std::unique_ptr<KubeClient> client = Connect(50, 100);
  // Warm the connection and discovery so neither counts as informer start-up.
  if (!client->Mapping(kConfigMap).ok() || !client->ServerVersion().ok()) return 1;
  malloc_trim(0);
  long before = RssKib();
  InformerOptions options;
  options.ns = ns;
  SharedInformer informer(*client, kConfigMap, options);
  auto start = Clock::now();
  informer.Start();
  if (!informer.WaitForSync(std::chrono::minutes(5))) {
    fmt::print(stderr, "informer did not sync: {}\n", informer.Stats().last_error);
    return 1;
  }
  double sync_seconds = Seconds(start);
  while (informer.Stats().watches == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double watch_seconds = Seconds(start);
  // Let transient buffers of the list go back to the allocator before measuring.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  malloc_trim(0);
  long after = RssKib();
  size_t objects = informer.Size();
  size_t json_bytes = 0;
  for (const ObjectPtr& o : informer.List()) json_bytes += o->dump().size();
  informer.Stop();
  fmt::print("{{\"command\":\"informer\",\"objects\":{},\"sync_seconds\":{:.3f},"
             "\"watching_seconds\":{:.3f},\"rss_before_kib\":{},\"rss_after_kib\":{},"
             "\"rss_delta_kib\":{},\"rss_bytes_per_object\":{},\"cached_json_bytes_per_object\":{}}}\n",
             objects, sync_seconds, watch_seconds, before, after, after - before,
             objects ? (after - before) * 1024 / static_cast<long>(objects) : 0,
             objects ? json_bytes / objects : 0);
  return 0;
}

// The objects of `path`, one JSON object per line, each put into namespace `ns`. Exits with a
// message naming the file and line on bad input.
std::vector<Object> ReadObjects(const std::string& path, const std::string& ns) {
  std::ifstream in(path);
  if (!in) {
    fmt::print(stderr, "{}: cannot open\n", path);
    std::exit(2);
  }
  std::vector<Object> objects;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Object o = Object::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!o.is_object() || !o.contains("kind") || !o.contains("metadata")) {
      fmt::print(stderr, "{}:{}: not a Kubernetes object in JSON\n", path, line_no);
      std::exit(2);
    }
    o["metadata"]["namespace"] = ns;
    objects.push_back(std::move(o));
  }
  return objects;
}

int Ssa(const std::string& ns, int count, int workers, double qps, int burst,
        const std::string& objects_file) {
  std::unique_ptr<KubeClient> client = Connect(qps, burst);
  if (!client->Mapping(kConfigMap).ok()) return 1;
  std::vector<Object> objects;
  if (!objects_file.empty()) {
    objects = ReadObjects(objects_file, ns);
    count = static_cast<int>(objects.size());
  }
  ApplyOptions apply;
  apply.field_manager = "gantry-bench";
  auto run = [&] {
    return Parallel(count, workers, [&](int i) {
      return client->Apply(objects.empty() ? SmallConfigMap(ns, i) : objects[i], apply).status();
    });
  };
  auto start = Clock::now();
  int failures = run();
  double create_seconds = Seconds(start);
  start = Clock::now();
  failures += run();  // the same objects again: no change on the server
  double noop_seconds = Seconds(start);
  fmt::print("{{\"command\":\"ssa\",\"objects\":{},\"workers\":{},\"qps\":{},\"burst\":{},"
             "\"create_seconds\":{:.3f},\"create_objects_per_second\":{:.1f},"
             "\"reapply_seconds\":{:.3f},\"reapply_objects_per_second\":{:.1f},\"failures\":{}}}\n",
             count, workers, qps, burst, create_seconds, count / create_seconds, noop_seconds,
             count / noop_seconds, failures);
  return failures == 0 ? 0 : 1;
}

int Manifest(const std::string& ns, int count) {
  for (int i = 0; i < count; ++i) fmt::print("---\n{}\n", SmallConfigMap(ns, i).dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kubernetes client benchmarks for Gantry", "kube_bench"};
  app.require_subcommand(1);
  std::string ns;
  int count = 1000;
  int size = 1024;
  int workers = 1;
  double qps = 50;
  int burst = 100;
  int rc = 0;

  CLI::App* populate = app.add_subcommand("populate", "Create COUNT ConfigMaps of SIZE bytes");
  populate->add_option("--namespace", ns)->required();
  populate->add_option("--count", count)->capture_default_str();
  populate->add_option("--size", size)->capture_default_str();
  populate->add_option("--workers", workers)->capture_default_str();
  populate->callback([&] { rc = Populate(ns, count, size, std::max(1, workers)); });

  CLI::App* informer = app.add_subcommand("informer", "Memory and start-up of an informer");
  informer->add_option("--namespace", ns)->required();
  informer->callback([&] { rc = Informer(ns); });

  CLI::App* ssa = app.add_subcommand("ssa", "Server-side apply throughput");
  ssa->add_option("--namespace", ns)->required();
  ssa->add_option("--count", count)->capture_default_str();
  ssa->add_option("--workers", workers)->capture_default_str();
  ssa->add_option("--qps", qps, "0 disables client-side throttling")->capture_default_str();
  ssa->add_option("--burst", burst)->capture_default_str();
  std::string objects_file;
  ssa->add_option("--objects", objects_file,
                  "apply these objects (one JSON object per line) instead of COUNT ConfigMaps");
  ssa->callback([&] { rc = Ssa(ns, count, std::max(1, workers), qps, burst, objects_file); });

  CLI::App* manifest = app.add_subcommand("manifest", "The ssa objects as YAML, for kubectl");
  manifest->add_option("--namespace", ns)->required();
  manifest->add_option("--count", count)->capture_default_str();
  manifest->callback([&] { rc = Manifest(ns, count); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return rc;
}
