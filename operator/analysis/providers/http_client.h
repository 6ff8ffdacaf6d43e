// HttpClient: one HTTP(S) request to any URL, for the Prometheus and web metric providers.
//
// An interface so that provider unit tests can script answers without sockets; the real one
// (NewBeastHttpClient) reuses the kube module's Beast/OpenSSL transport, which already gives a
// synchronous call with one deadline, TLS verification by host name or IP address, and no
// shared thread pool to starve. Safe from any number of threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operator/common/status.h"

namespace gantry::analysis {

struct HttpCall {
  std::string method = "GET";
  std::string url;  // "http://host:port/path?query", already escaped
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10'000};
  bool insecure = false;  // skip TLS certificate verification
  // A longer answer body is refused (ResourceExhausted is not a code here: Internal).
  size_t max_body_bytes = 16u << 20;
};

struct HttpAnswer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `call` and reads the answer within call.timeout. Any HTTP status is a value.
  // Errors: InvalidArgument for a URL that is not http(s)://host[:port][/path]; Timeout when
  // the deadline passed; Unavailable when the connection failed (refused, reset, TLS); Internal
  // when the body exceeds max_body_bytes. Each message starts with "<METHOD> <url>".
  virtual Result<HttpAnswer> Send(const HttpCall& call) = 0;
};

// Splits "scheme://authority/path?query#fragment" into the origin ("scheme://authority") and
// the request target ("/path?query", "/" when empty); the fragment is dropped.
// InvalidArgument when the scheme is not http or https or the authority is empty.
Result<std::pair<std::string, std::string>> SplitUrl(std::string_view url);

std::unique_ptr<HttpClient> NewBeastHttpClient();

}  // namespace gantry::analysis
