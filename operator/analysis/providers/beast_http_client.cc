// HttpClient over kube::HttpTransport (Beast + OpenSSL). One transport per origin and TLS
// setting, kept for connection reuse; the map is bounded because URLs come from users.
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <mutex>
#include <tuple>

#include "operator/analysis/providers/http_client.h"
#include "operator/kube/http_transport.h"

namespace gantry::analysis {
namespace {

constexpr size_t kMaxTransports = 64;

class BeastHttpClient final : public HttpClient {
 public:
  Result<HttpAnswer> Send(const HttpCall& call) override {
    const std::string what = fmt::format("{} {}", call.method, call.url);
    Result<std::pair<std::string, std::string>> split = SplitUrl(call.url);
    if (!split.ok()) return split.status().WithContext(what);
    Result<kube::HttpTransport*> transport = TransportFor(split->first, call.insecure);
    if (!transport.ok()) return transport.status().WithContext(what);

    kube::HttpRequest request;
    request.method = call.method;
    request.target = split->second;
    request.headers = call.headers;
    request.body = call.body;
    // Stream, not RoundTrip, so that an endless or huge body is cut off at max_body_bytes and
    // the whole answer still has one deadline.
    const auto deadline = std::chrono::steady_clock::now() + call.timeout;
    std::string body;
    bool too_large = false;
    Result<kube::HttpResponse> response =
        (*transport)
            ->Stream(
                request, call.timeout, call.timeout,
                [&](std::string_view piece) -> Status {
                  if (body.size() + piece.size() > call.max_body_bytes) {
                    too_large = true;
                    return Internal(
                        fmt::format("the answer is longer than {} bytes", call.max_body_bytes));
                  }
                  if (std::chrono::steady_clock::now() > deadline) {
                    return Status(
                        StatusCode::kTimeout,
                        fmt::format("no complete answer within {}ms", call.timeout.count()));
                  }
                  body.append(piece);
                  return Status::Ok();
                },
                std::stop_token());
    if (!response.ok()) return response.status().WithContext(what);
    if (too_large) return Internal(fmt::format("{}: the answer is too long", what));
    HttpAnswer answer;
    answer.status = response->status;
    answer.headers = std::move(response->headers);
    answer.body = response->body.empty() ? std::move(body) : std::move(response->body);
    if (answer.body.size() > call.max_body_bytes) {
      return Internal(
          fmt::format("{}: the answer is longer than {} bytes", what, call.max_body_bytes));
    }
    return answer;
  }

 private:
  Result<kube::HttpTransport*> TransportFor(const std::string& origin, bool insecure) {
    std::lock_guard lock(mu_);
    auto key = std::make_tuple(origin, insecure);
    if (auto it = transports_.find(key); it != transports_.end()) return it->second.get();
    if (transports_.size() >= kMaxTransports) transports_.clear();
    kube::TransportOptions options;
    options.server = origin;
    options.insecure_skip_tls_verify = insecure;
    options.max_idle_connections = 4;
    Result<std::unique_ptr<kube::HttpTransport>> made = kube::NewBeastHttpTransport(options);
    if (!made.ok()) return made.status();
    kube::HttpTransport* raw = made->get();
    transports_.emplace(key, std::move(made).value());
    return raw;
  }

  std::mutex mu_;  // guards transports_
  std::map<std::tuple<std::string, bool>, std::unique_ptr<kube::HttpTransport>> transports_;
};

}  // namespace

Result<std::pair<std::string, std::string>> SplitUrl(std::string_view url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidArgument(fmt::format("URL \"{}\" must start with http:// or https://", url));
  }
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return InvalidArgument(
        fmt::format("URL \"{}\": scheme \"{}\" is not http or https", url, scheme));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  if (authority.empty()) return InvalidArgument(fmt::format("URL \"{}\" has no host", url));
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument(fmt::format(
        "URL \"{}\": credentials in the URL are not supported; use an Authorization header", url));
  }
  std::string target =
      path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (target.front() == '?') target.insert(target.begin(), '/');
  return std::make_pair(fmt::format("{}://{}", scheme, authority), std::move(target));
}

std::unique_ptr<HttpClient> NewBeastHttpClient() { return std::make_unique<BeastHttpClient>(); }

}  // namespace gantry::analysis
