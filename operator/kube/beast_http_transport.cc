// HttpTransport on Boost.Beast + Boost.Asio + OpenSSL. See http_transport.h for why.
//
// Each connection owns its own io_context; a call runs one asynchronous operation at a time
// and then io_context::run() on the calling thread until it completes. That keeps calls
// synchronous for the caller while giving every operation a deadline (beast::tcp_stream
// expiry) and a way to be cancelled from another thread (post a cancel to the connection's
// io_context).
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <deque>
#include <limits>
#include <mutex>

#include "operator/kube/http_transport.h"

namespace gantry::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// Watch events are small (one object each) and a larger event takes several reads, so a
// small buffer costs nothing: it is held, per watch, for the whole life of the watch.
constexpr size_t kStreamBufferSize = 16 * 1024;

struct ServerUrl {
  bool tls = true;
  std::string host;  // without brackets
  std::string port;
  std::string host_header;  // "host:port", IPv6 bracketed
  std::string base_path;    // "" or "/prefix" without a trailing slash
};

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  ServerUrl out;
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    out.tls = false;
    rest.remove_prefix(7);
  } else {
    return InvalidArgument(
        fmt::format("server URL \"{}\" must start with https:// or http://", url));
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.base_path = std::string(rest.substr(slash));
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  }
  if (authority.empty()) return InvalidArgument(fmt::format("server URL \"{}\" has no host", url));
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument(fmt::format("server URL \"{}\": unterminated [IPv6] host", url));
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() == ':') out.port = std::string(after.substr(1));
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  if (!std::all_of(out.port.begin(), out.port.end(), [](char c) { return std::isdigit(c); })) {
    return InvalidArgument(
        fmt::format("server URL \"{}\": port \"{}\" is not a number", url, out.port));
  }
  bool ipv6 = out.host.find(':') != std::string::npos;
  out.host_header =
      ipv6 ? fmt::format("[{}]:{}", out.host, out.port) : fmt::format("{}:{}", out.host, out.port);
  return out;
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool IsIpAddress(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// One keep-alive connection. Used by one thread at a time; only Cancel() may be called from
// another thread.
class Connection {
 public:
  explicit Connection(ssl::context* tls_context) {
    if (tls_context != nullptr) {
      tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc_, *tls_context);
    } else {
      plain_ = std::make_unique<beast::tcp_stream>(ioc_);
    }
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  bool is_tls() const { return tls_ != nullptr; }
  beast::ssl_stream<beast::tcp_stream>& tls() { return *tls_; }
  beast::tcp_stream& plain() { return *plain_; }
  beast::flat_buffer& buffer() { return buffer_; }
  asio::io_context& ioc() { return ioc_; }

  // Runs one asynchronous operation to completion on this thread. `initiate` receives the
  // completion handler.
  template <typename Initiate>
  error_code Run(Initiate&& initiate) {
    error_code result = asio::error::would_block;
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  // Calls f with the stream to read and write (TLS or plain).
  template <typename F>
  auto WithStream(F&& f) {
    if (tls_) return f(*tls_);
    return f(*plain_);
  }

  // Thread-safe: aborts the operation in progress (or the next one) on this connection.
  void Cancel() {
    asio::post(ioc_, [this] { Lowest().cancel(); });
  }

  // True when an idle connection has been closed by the server or has unexpected bytes
  // waiting: either way it cannot carry another request.
  bool LooksDead() {
    pollfd p{};
    p.fd = Lowest().socket().native_handle();
    p.events = POLLIN;
    return ::poll(&p, 1, 0) != 0;
  }

  SteadyTime idle_since;

 private:
  asio::io_context ioc_{1};
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  std::unique_ptr<beast::tcp_stream> plain_;
  beast::flat_buffer buffer_;
};

class BeastHttpTransport final : public HttpTransport {
 public:
  BeastHttpTransport(TransportOptions options, ServerUrl url,
                     std::unique_ptr<ssl::context> tls_context)
      : options_(std::move(options)), url_(std::move(url)), tls_context_(std::move(tls_context)) {}

  // HttpTransport
  Result<HttpResponse> RoundTrip(const HttpRequest& request,
                                 std::chrono::milliseconds timeout) override;
  Result<HttpResponse> Stream(const HttpRequest& request, std::chrono::milliseconds timeout,
                              std::chrono::milliseconds idle_timeout,
                              const std::function<Status(std::string_view)>& on_body,
                              std::stop_token stop) override;

 private:
  // Where a failed attempt stopped: before any byte of the answer arrived, a retry on a fresh
  // connection cannot have been seen twice by the server for non-POST methods.
  struct Failure {
    Status status;
    bool before_answer = false;
  };

  std::unique_ptr<Connection> TakeIdle();
  void ReturnIdle(std::unique_ptr<Connection> conn);
  Result<std::unique_ptr<Connection>> Dial(SteadyTime deadline, const std::string& what);
  http::request<http::string_body> BuildRequest(const HttpRequest& request) const;
  Status TransportError(const error_code& ec, std::string_view phase,
                        const std::string& what) const;
  std::string Describe(const HttpRequest& request) const {
    return fmt::format("{} {}{}", request.method, options_.server, request.target);
  }
  Result<HttpResponse> Attempt(Connection& conn, const HttpRequest& request, SteadyTime deadline,
                               bool& keep_alive, bool& before_answer);

  const TransportOptions options_;
  const ServerUrl url_;
  const std::unique_ptr<ssl::context> tls_context_;
  std::mutex mu_;  // guards idle_
  std::deque<std::unique_ptr<Connection>> idle_;
};

template <typename Fields>
void CopyHeaders(const Fields& fields, HttpResponse& out) {
  for (const auto& field : fields) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
}

std::unique_ptr<Connection> BeastHttpTransport::TakeIdle() {
  std::lock_guard lock(mu_);
  SteadyTime now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    std::unique_ptr<Connection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (now - conn->idle_since < options_.idle_connection_timeout && !conn->LooksDead()) {
      return conn;
    }
  }
  return nullptr;
}

void BeastHttpTransport::ReturnIdle(std::unique_ptr<Connection> conn) {
  conn->idle_since = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (static_cast<int>(idle_.size()) < options_.max_idle_connections) {
    idle_.push_back(std::move(conn));
  }
}

Status BeastHttpTransport::TransportError(const error_code& ec, std::string_view phase,
                                          const std::string& what) const {
  if (ec == beast::error::timeout) {
    return Status(StatusCode::kTimeout, fmt::format("{}: timed out while {}", what, phase));
  }
  if (ec == asio::error::operation_aborted) {
    return Status(StatusCode::kCancelled, fmt::format("{}: cancelled while {}", what, phase));
  }
  std::string detail = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    std::string ssl_detail = OpenSslErrors();
    if (!ssl_detail.empty()) detail += " (" + ssl_detail + ")";
  }
  return Unavailable(fmt::format("{}: {}: {}", what, phase, detail));
}

Result<std::unique_ptr<Connection>> BeastHttpTransport::Dial(SteadyTime deadline,
                                                             const std::string& what) {
  auto conn = std::make_unique<Connection>(tls_context_.get());
  // A synchronous lookup, which blocks this caller exactly as long as running an asynchronous
  // one here did: Asio serves asynchronous lookups from a private thread that then lives as
  // long as the io_context, i.e. the connection (a watch, a pooled keep-alive connection), so
  // every connection cost an idle thread. An IP address (the in-cluster case) needs no DNS.
  tcp::resolver resolver(conn->ioc());
  error_code ec;
  tcp::resolver::results_type endpoints = resolver.resolve(url_.host, url_.port, ec);
  if (ec) return TransportError(ec, fmt::format("resolving {}", url_.host), what);

  conn->Lowest().expires_at(deadline);
  ec = conn->Run([&](auto handler) { conn->Lowest().async_connect(endpoints, handler); });
  if (ec) return TransportError(ec, fmt::format("connecting to {}", url_.host_header), what);
  conn->Lowest().socket().set_option(tcp::no_delay(true), ec);

  if (conn->is_tls()) {
    SSL* ssl_handle = conn->tls().native_handle();
    const std::string& name =
        options_.tls_server_name.empty() ? url_.host : options_.tls_server_name;
    if (!IsIpAddress(name)) SSL_set_tlsext_host_name(ssl_handle, name.c_str());
    if (!options_.insecure_skip_tls_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      int ok = IsIpAddress(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      if (ok != 1) {
        return InvalidArgument(
            fmt::format("{}: cannot verify against host name \"{}\"", what, name));
      }
    }
    ec = conn->Run(
        [&](auto handler) { conn->tls().async_handshake(ssl::stream_base::client, handler); });
    if (ec) {
      Status s = TransportError(ec, "TLS handshake", what);
      long verify = SSL_get_verify_result(ssl_handle);
      if (verify != X509_V_OK) {
        s = Unavailable(fmt::format("{}: TLS handshake: server certificate not trusted: {}", what,
                                    X509_verify_cert_error_string(verify)));
      }
      return s;
    }
  }
  return conn;
}

http::request<http::string_body> BeastHttpTransport::BuildRequest(
    const HttpRequest& request) const {
  http::request<http::string_body> req;
  req.method_string(request.method);
  req.target(url_.base_path + request.target);
  req.version(11);
  req.set(http::field::host, url_.host_header);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    req.prepare_payload();
  }
  return req;
}

Result<HttpResponse> BeastHttpTransport::Attempt(Connection& conn, const HttpRequest& request,
                                                 SteadyTime deadline, bool& keep_alive,
                                                 bool& before_answer) {
  std::string what = Describe(request);
  http::request<http::string_body> req = BuildRequest(request);
  before_answer = true;
  keep_alive = false;
  conn.Lowest().expires_at(deadline);
  error_code ec = conn.WithStream([&](auto& stream) {
    return conn.Run([&](auto handler) { http::async_write(stream, req, handler); });
  });
  if (ec) return TransportError(ec, "sending the request", what);

  http::response_parser<http::string_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  ec = conn.WithStream([&](auto& stream) {
    return conn.Run(
        [&](auto handler) { http::async_read_header(stream, conn.buffer(), parser, handler); });
  });
  if (ec) return TransportError(ec, "waiting for the answer", what);
  before_answer = false;
  ec = conn.WithStream([&](auto& stream) {
    return conn.Run(
        [&](auto handler) { http::async_read(stream, conn.buffer(), parser, handler); });
  });
  if (ec) return TransportError(ec, "reading the answer", what);
  conn.Lowest().expires_never();

  http::response<http::string_body> res = parser.release();
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  CopyHeaders(res, out);
  out.body = std::move(res.body());
  keep_alive = res.keep_alive();
  return out;
}

Result<HttpResponse> BeastHttpTransport::RoundTrip(const HttpRequest& request,
                                                   std::chrono::milliseconds timeout) {
  SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  std::string what = Describe(request);
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn = attempt == 0 ? TakeIdle() : nullptr;
    bool reused = conn != nullptr;
    if (!conn) {
      Result<std::unique_ptr<Connection>> dialled = Dial(deadline, what);
      if (!dialled.ok()) return dialled.status();
      conn = std::move(dialled).value();
    }
    bool keep_alive = false;
    bool before_answer = false;
    Result<HttpResponse> response = Attempt(*conn, request, deadline, keep_alive, before_answer);
    if (response.ok()) {
      if (keep_alive) ReturnIdle(std::move(conn));
      return response;
    }
    bool retry = reused && before_answer && request.method != "POST" &&
                 response.status().code() == StatusCode::kUnavailable;
    if (!retry) return response.status();
  }
}

Result<HttpResponse> BeastHttpTransport::Stream(
    const HttpRequest& request, std::chrono::milliseconds timeout,
    std::chrono::milliseconds idle_timeout, const std::function<Status(std::string_view)>& on_body,
    std::stop_token stop) {
  std::string what = Describe(request);
  SteadyTime deadline = std::chrono::steady_clock::now() + timeout;
  if (stop.stop_requested()) return Status(StatusCode::kCancelled, what + ": cancelled");
  Result<std::unique_ptr<Connection>> dialled = Dial(deadline, what);
  if (!dialled.ok()) return dialled.status();
  std::unique_ptr<Connection> conn = std::move(dialled).value();
  // Declared after conn so that it is destroyed first: no cancel can reach a dead connection.
  std::stop_callback on_stop(stop, [&conn] { conn->Cancel(); });
  auto failed = [&](const error_code& ec, std::string_view phase) {
    if (stop.stop_requested()) return Status(StatusCode::kCancelled, what + ": cancelled");
    return TransportError(ec, phase, what);
  };

  http::request<http::string_body> req = BuildRequest(request);
  conn->Lowest().expires_at(deadline);
  error_code ec = conn->WithStream([&](auto& stream) {
    return conn->Run([&](auto handler) { http::async_write(stream, req, handler); });
  });
  if (ec) return failed(ec, "sending the request");

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  ec = conn->WithStream([&](auto& stream) {
    return conn->Run(
        [&](auto handler) { http::async_read_header(stream, conn->buffer(), parser, handler); });
  });
  if (ec) return failed(ec, "waiting for the answer");

  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  CopyHeaders(parser.get(), out);
  if (out.status < 200 || out.status > 299) {
    http::response_parser<http::string_body> whole(std::move(parser));
    whole.body_limit(std::numeric_limits<std::uint64_t>::max());
    ec = conn->WithStream([&](auto& stream) {
      return conn->Run(
          [&](auto handler) { http::async_read(stream, conn->buffer(), whole, handler); });
    });
    if (ec) return failed(ec, "reading the answer");
    out.body = std::move(whole.get().body());
    return out;
  }

  // Not zero-filled: only the bytes a read wrote are ever looked at.
  std::unique_ptr<char[]> buf = std::make_unique_for_overwrite<char[]>(kStreamBufferSize);
  while (!parser.is_done()) {
    if (stop.stop_requested()) return Status(StatusCode::kCancelled, what + ": cancelled");
    parser.get().body().data = buf.get();
    parser.get().body().size = kStreamBufferSize;
    conn->Lowest().expires_after(idle_timeout);
    ec = conn->WithStream([&](auto& stream) {
      return conn->Run(
          [&](auto handler) { http::async_read_some(stream, conn->buffer(), parser, handler); });
    });
    if (ec == http::error::need_buffer) ec = {};
    if (ec == beast::error::timeout && !stop.stop_requested()) {
      return Status(
          StatusCode::kTimeout,
          fmt::format("{}: no data for {}s", what,
                      std::chrono::duration_cast<std::chrono::seconds>(idle_timeout).count()));
    }
    if (ec) return failed(ec, "reading the stream");
    size_t n = kStreamBufferSize - parser.get().body().size;
    if (n > 0) GANTRY_RETURN_IF_ERROR(on_body(std::string_view(buf.get(), n)));
  }
  return out;
}

Result<std::unique_ptr<ssl::context>> MakeTlsContext(const TransportOptions& options) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // Without this OpenSSL keeps a 16 KiB record buffer per connection for the connection's
  // life, and most of the operator's connections are idle (watches waiting for the next
  // event, keep-alive connections waiting in the pool).
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  error_code ec;
  if (options.insecure_skip_tls_verify) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    ctx->set_verify_mode(ssl::verify_peer);
    if (!options.ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(options.ca_pem), ec);
      if (ec) {
        return InvalidArgument(fmt::format("certificate authority is not valid PEM: {} {}",
                                           ec.message(), OpenSslErrors()));
      }
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec)
        return InvalidArgument("cannot load the system's trusted certificates: " + ec.message());
    }
  }
  if (!options.client_cert_pem.empty()) {
    ctx->use_certificate_chain(asio::buffer(options.client_cert_pem), ec);
    if (ec) {
      return InvalidArgument(
          fmt::format("client certificate is not valid PEM: {} {}", ec.message(), OpenSslErrors()));
    }
    ctx->use_private_key(asio::buffer(options.client_key_pem), ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument(
          fmt::format("client key is not valid PEM or does not match the "
                      "certificate: {} {}",
                      ec.message(), OpenSslErrors()));
    }
  }
  return ctx;
}

}  // namespace

std::string_view HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

Result<std::unique_ptr<HttpTransport>> NewBeastHttpTransport(const TransportOptions& options) {
  Result<ServerUrl> url = ParseServerUrl(options.server);
  if (!url.ok()) return url.status();
  std::unique_ptr<ssl::context> tls;
  if (url->tls) {
    Result<std::unique_ptr<ssl::context>> ctx = MakeTlsContext(options);
    if (!ctx.ok()) return ctx.status().WithContext(fmt::format("TLS for {}", options.server));
    tls = std::move(ctx).value();
  }
  return std::unique_ptr<HttpTransport>(
      std::make_unique<BeastHttpTransport>(options, std::move(url).value(), std::move(tls)));
}

}  // namespace gantry::kube
