// A tiny HTTP GET against a loopback port, for probing the operator's endpoints in tests.
#pragma once

#include <string>

#include "operator/kube/http_transport.h"

namespace gantry::kube::testing {

struct Answer {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
};

inline Answer HttpGet(int port, const std::string& path, const std::string& method = "GET",
                      const std::string& body = "") {
  TransportOptions options;
  options.server = "http://127.0.0.1:" + std::to_string(port);
  Result<std::unique_ptr<HttpTransport>> t = NewBeastHttpTransport(options);
  if (!t.ok()) return {};
  HttpRequest request{method, path, {}, body};
  Result<HttpResponse> r = (*t)->RoundTrip(request, std::chrono::seconds(5));
  if (!r.ok()) return {};
  return {r->status, r->body};
}

}  // namespace gantry::kube::testing
