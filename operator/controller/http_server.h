// HttpServer: the small HTTP server the operator exposes: /metrics, /healthz and /readyz now,
// the Git webhook receiver (POST /hooks/<namespace>/<name>) later. One implementation,
// CivetHttpServer (civetweb, already linked through prometheus-cpp's pull library), chosen
// over cpprestsdk's http_listener because it binds port 0 and reports the port, gives the
// raw request body and headers needed for webhook HMAC checks, and needs no pplx tasks.
//
// Handlers run on the server's worker threads (several at once) and must be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/common/status.h"

namespace gantry::controller {

struct HttpServerRequest {
  std::string method;
  std::string path;                                          // without the query
  std::string query;                                         // after '?', undecoded
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
  std::string remote_address;

  std::string_view Header(std::string_view lower_name) const;
};

struct HttpServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpServerResponse(const HttpServerRequest&)>;

class HttpServer {
 public:
  virtual ~HttpServer() = default;

  // Routes `path` exactly, or every path under it when it ends in '/' ("/hooks/"). The
  // longest matching route wins; no match answers 404. Register before Start().
  virtual void Handle(std::string path, HttpHandler handler) = 0;
  // Binds and starts serving. Unavailable naming the address when it cannot bind.
  virtual Status Start() = 0;
  // Stops accepting, waits for in-flight requests. Idempotent.
  virtual void Stop() = 0;
  // The bound port (useful after binding port 0); 0 before Start().
  virtual int port() const = 0;
};

// `bind_address` as in the operator's flags: ":8080" (all interfaces), "127.0.0.1:0",
// "[::1]:9292". InvalidArgument when malformed. `name` appears in errors and logs.
Result<std::unique_ptr<HttpServer>> NewCivetHttpServer(std::string name, std::string bind_address,
                                                       size_t max_body_bytes = 1 << 20);

}  // namespace gantry::controller
