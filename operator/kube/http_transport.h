// HTTP/1.1 to one server (the API server), with TLS, connection reuse, deadlines and streamed
// answers. Internal to the kube module: RestKubeClient is its only caller.
//
// Why not cpprestsdk's http_client, which DESIGN.md first named: a Kubernetes client needs
// (1) watch answers that stay open for minutes and must be handed over event by event, with
// an idle deadline and prompt cancellation from another thread; (2) one deadline per request
// that covers connect, send and the whole answer; (3) TLS material from memory (kubeconfig
// *-data fields) with IP-address and host-name verification; (4) a synchronous call that
// blocks only its own thread. cpprestsdk gives these only through pplx tasks on a shared
// thread pool (a worker that blocks on a task can starve the pool), and its timeouts and
// cancellation are per request object rather than per read. Boost.Beast over Boost.Asio and
// OpenSSL (already present as cpprestsdk's own dependencies) does all four in ~500 lines that
// this module controls. Boost and OpenSSL headers stay in beast_http_transport.cc.
//
// Thread-safety: an HttpTransport may be called from any number of threads at once. Each call
// uses its own connection (taken from an idle pool or newly dialled); Stream() always dials a
// dedicated connection and closes it afterwards, since a watch holds it for minutes.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/common/status.h"

namespace gantry::kube {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, already escaped; the transport adds the base path
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;

  // The first header of that (lower-case) name, or "" when absent.
  std::string_view Header(std::string_view lower_name) const;
};

struct TransportOptions {
  std::string server;  // "https://host:port[/prefix]" or "http://..."
  std::string ca_pem;  // empty: the system's trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // overrides the host name checked in the certificate
  std::string client_cert_pem;
  std::string client_key_pem;
  int max_idle_connections = 16;
  std::chrono::seconds idle_connection_timeout{90};
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Sends `request` and reads the whole answer within `timeout`. Any HTTP status is a value;
  // errors are transport failures only: Timeout when the deadline passed, Unavailable when
  // the connection could not be made or broke (refused, reset, TLS failure with the reason).
  // A request other than POST that fails on a reused keep-alive connection before any answer
  // arrived is retried once on a new connection (the server may have closed it while idle).
  virtual Result<HttpResponse> RoundTrip(const HttpRequest& request,
                                         std::chrono::milliseconds timeout) = 0;

  // Sends `request` and waits up to `timeout` for the answer's headers. A non-2xx answer is
  // read whole and returned like RoundTrip. A 2xx answer's body is handed to `on_body` piece
  // by piece as it arrives (pieces split anywhere, not at message boundaries) until the
  // server ends it (OK, the returned response has an empty body), `on_body` returns an error
  // (that error), no byte arrived for `idle_timeout` (Timeout), the connection broke
  // (Unavailable) or `stop` was requested (Cancelled, within milliseconds).
  virtual Result<HttpResponse> Stream(const HttpRequest& request, std::chrono::milliseconds timeout,
                                      std::chrono::milliseconds idle_timeout,
                                      const std::function<Status(std::string_view)>& on_body,
                                      std::stop_token stop) = 0;
};

// InvalidArgument when the server URL or the TLS material is malformed (naming which).
Result<std::unique_ptr<HttpTransport>> NewBeastHttpTransport(const TransportOptions& options);

}  // namespace gantry::kube
