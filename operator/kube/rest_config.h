// Where the API server is and how to authenticate to it: kubeconfig files and in-cluster
// service-account configuration, resolved into one RestConfig.
//
// All credentials are read into memory when the config is loaded (PEM data, tokens), except a
// bearer token file, which the client re-reads while it runs because Kubernetes rotates
// projected service-account tokens (about hourly). Every error names the file, the line and
// the entry (cluster, user or context) that was wrong. Loading is done once at start-up from
// one thread; a RestConfig is a plain value.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/clock.h"
#include "operator/common/status.h"

namespace gantry::kube {

struct RestConfig {
  // "https://host:port" with an optional path prefix; "http://" is accepted for tests.
  std::string server;

  // TLS. The server certificate is always verified against ca_pem (or the system roots when
  // empty) and the host name (or tls_server_name), unless insecure_skip_tls_verify.
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string client_cert_pem;
  std::string client_key_pem;

  // Authentication, in the order tried: bearer_token_file, bearer_token, basic auth. A client
  // certificate may come on top of any of them.
  std::string bearer_token;
  std::string bearer_token_file;
  std::string username;
  std::string password;

  // The context's namespace ("default" when it names none), or the service account's.
  std::string ns = "default";

  // Client-side throttling: requests per second and burst (token bucket). qps <= 0 disables.
  double qps = 100;
  int burst = 300;
  // Deadline for one request (connect, send, whole answer). Watches use it for the answer's
  // headers only.
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  std::string user_agent;
  // Called after every request to the API server (each retry too) with its verb -- get, list,
  // watch, create, update, patch, apply, delete, the writes with a "_dry_run" suffix under
  // dryRun=All -- and the answer's HTTP status, 0 when none came (connection failure, a watch
  // the client stopped). From the requesting thread: must be thread-safe and quick. Empty: none.
  std::function<void(std::string_view verb, int code)> on_request;

  // Where this came from, for log lines and errors: "kubeconfig /path (context ctx)" or
  // "in-cluster service account".
  std::string origin;
};

// Parses one kubeconfig document. `path` names it in messages and anchors relative file
// paths (certificate-authority, client-certificate, client-key, tokenFile). `context` selects
// a context other than current-context. Exec and auth-provider plugins are rejected with a
// message that says so.
Result<RestConfig> ParseKubeconfig(std::string_view yaml, std::string_view path,
                                   std::string_view context = "");

// Loads and merges kubeconfig files the way kubectl merges $KUBECONFIG: for each named
// cluster, user and context, and for current-context, the first file that sets it wins.
// Missing files among several are skipped; a single missing file is NotFound.
Result<RestConfig> LoadKubeconfig(const std::vector<std::string>& paths,
                                  std::string_view context = "");

// What in-cluster configuration reads; FromProcess() fills it from the environment and the
// standard service-account mount, tests point it at a temporary directory. FromProcess() reads
// the mount from $GANTRY_SERVICEACCOUNT_DIR instead when that is set, so that a test can run
// the binary as a pod would be run without writing to /var/run (tests/e2e/incluster).
struct InClusterEnvironment {
  std::string service_host;  // $KUBERNETES_SERVICE_HOST
  std::string service_port;  // $KUBERNETES_SERVICE_PORT
  std::string token_path = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_path = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespace_path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

  static InClusterEnvironment FromProcess();
  // True when host, port and the token file are all present.
  bool Available() const;
};

// The config of a pod's service account: https://<host>:<port> (IPv6 hosts bracketed), the
// CA file, the token file (re-read by the client), the namespace file.
Result<RestConfig> InClusterConfig(const InClusterEnvironment& env);

// How `gantry operator` chooses its config: --kubeconfig if given, else in-cluster when
// available, else $KUBECONFIG (colon-separated list), else ~/.kube/config. `context` applies
// to the kubeconfig cases.
struct ConfigSources {
  std::string kubeconfig_flag;
  std::string context;
  std::string kubeconfig_env;  // value of $KUBECONFIG, may be empty
  std::string home;            // value of $HOME
  InClusterEnvironment in_cluster;

  static ConfigSources FromProcess(std::string kubeconfig_flag, std::string context);
};
Result<RestConfig> ResolveRestConfig(const ConfigSources& sources);

// A bearer token read from a file and re-read when older than `refresh` or when the client
// saw a 401 (the token may have rotated). Thread-safe (one mutex guards the cached token).
class BearerTokenFile {
 public:
  BearerTokenFile(std::string path, Clock& clock,
                  std::chrono::seconds refresh = std::chrono::seconds(60));
  BearerTokenFile(const BearerTokenFile&) = delete;
  BearerTokenFile& operator=(const BearerTokenFile&) = delete;

  // The current token. On a read error returns the last good token if there is one, else the
  // error (naming the file).
  Result<std::string> Token();
  // Forces the next Token() to read the file again.
  void Invalidate();

 private:
  const std::string path_;
  Clock& clock_;
  const std::chrono::seconds refresh_;
  std::mutex mu_;  // guards token_, read_at_
  std::string token_;
  std::optional<Clock::TimePoint> read_at_;
};

// Reads a whole file; NotFound / InvalidArgument naming `what` and the path.
Result<std::string> ReadFileToString(const std::string& path, std::string_view what);

}  // namespace gantry::kube
