// HttpServer on civetweb's C API (the C++ wrapper reports errors by throwing).
#include <civetweb.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include "operator/controller/http_server.h"

namespace gantry::controller {
namespace {

std::once_flag g_civet_init;

// ":8080" -> "8080"; "host:port" and "[v6]:port" stay (civetweb's listening_ports syntax).
Result<std::string> ListeningPorts(const std::string& bind) {
  size_t colon = bind.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument(fmt::format("bind address \"{}\" must be [host]:port", bind));
  }
  std::string host = bind.substr(0, colon);
  std::string port = bind.substr(colon + 1);
  if (port.empty() ||
      !std::all_of(port.begin(), port.end(), [](char c) { return std::isdigit(c); })) {
    return InvalidArgument(
        fmt::format("bind address \"{}\": port \"{}\" is not a number", bind, port));
  }
  if (host.empty()) return port;
  if (host == "0.0.0.0") return port;
  return bind;
}

class CivetHttpServer final : public HttpServer {
 public:
  CivetHttpServer(std::string name, std::string bind, std::string ports, size_t max_body)
      : name_(std::move(name)),
        bind_(std::move(bind)),
        ports_(std::move(ports)),
        max_body_(max_body) {}
  ~CivetHttpServer() override { Stop(); }

  // HttpServer
  void Handle(std::string path, HttpHandler handler) override {
    routes_[std::move(path)] = std::move(handler);
  }
  Status Start() override;
  void Stop() override {
    if (ctx_ != nullptr) {
      mg_stop(ctx_);
      ctx_ = nullptr;
    }
  }
  int port() const override { return port_; }

 private:
  static int OnRequest(mg_connection* conn, void* self) {
    return static_cast<CivetHttpServer*>(self)->Serve(conn);
  }
  int Serve(mg_connection* conn);
  const HttpHandler* Route(const std::string& path) const;

  const std::string name_;
  const std::string bind_;
  const std::string ports_;
  const size_t max_body_;
  std::map<std::string, HttpHandler> routes_;  // written before Start, then read-only
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

Status CivetHttpServer::Start() {
  std::call_once(g_civet_init, [] { mg_init_library(0); });
  // Two workers: every handler answers from memory in well under a millisecond (probes,
  // /metrics, a webhook that only enqueues), and keep-alive connections are let go after
  // civetweb's 500 ms keep_alive_timeout_ms, so one client cannot hold a worker for long. Each
  // worker is a thread with its own 16 KiB connection buffer, idle nearly all the time.
  const char* options[] = {
      "listening_ports", ports_.c_str(),      "num_threads", "2",    "request_timeout_ms",
      "30000",           "enable_keep_alive", "yes",         nullptr};
  mg_callbacks callbacks{};
  mg_init_data init{&callbacks, this, options};
  char error_text[256] = "";
  unsigned error_code = 0;
  mg_error_data error{&error_code, error_text, sizeof error_text};
  ctx_ = mg_start2(&init, &error);
  if (ctx_ == nullptr) {
    return Unavailable(fmt::format("{} server: cannot listen on {}: {}", name_, bind_,
                                   error_text[0] ? error_text : "unknown error"));
  }
  mg_set_request_handler(ctx_, "/", &CivetHttpServer::OnRequest, this);
  mg_server_port ports[4];
  int n = mg_get_server_ports(ctx_, 4, ports);
  port_ = n > 0 ? ports[0].port : 0;
  spdlog::info("{} server listening on {} (port {})", name_, bind_, port_);
  return Status::Ok();
}

const HttpHandler* CivetHttpServer::Route(const std::string& path) const {
  const HttpHandler* best = nullptr;
  size_t best_len = 0;
  for (const auto& [route, handler] : routes_) {
    bool match =
        route == path || (!route.empty() && route.back() == '/' && path.rfind(route, 0) == 0);
    if (match && route.size() >= best_len) {
      best = &handler;
      best_len = route.size();
    }
  }
  return best;
}

int CivetHttpServer::Serve(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  HttpServerRequest request;
  request.method = info->request_method ? info->request_method : "";
  request.path = info->local_uri ? info->local_uri : "";
  request.query = info->query_string ? info->query_string : "";
  request.remote_address = info->remote_addr;
  for (int i = 0; i < info->num_headers; ++i) {
    std::string name = info->http_headers[i].name;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    request.headers.emplace_back(std::move(name), info->http_headers[i].value);
  }
  HttpServerResponse response;
  if (info->content_length > static_cast<long long>(max_body_)) {
    response.status = 413;
    response.body = fmt::format("request body larger than {} bytes\n", max_body_);
  } else {
    char buf[8192];
    int n;
    while ((n = mg_read(conn, buf, sizeof buf)) > 0) {
      request.body.append(buf, static_cast<size_t>(n));
      if (request.body.size() > max_body_) break;
    }
    if (request.body.size() > max_body_) {
      response.status = 413;
      response.body = fmt::format("request body larger than {} bytes\n", max_body_);
    } else if (const HttpHandler* handler = Route(request.path)) {
      response = (*handler)(request);
    } else {
      response.status = 404;
      response.body = fmt::format("no handler for {}\n", request.path);
    }
  }
  std::string head = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n",
                                 response.status, mg_get_response_code_text(conn, response.status),
                                 response.content_type, response.body.size());
  for (const auto& [name, value] : response.headers) head += fmt::format("{}: {}\r\n", name, value);
  head += "\r\n";
  mg_write(conn, head.data(), head.size());
  if (request.method != "HEAD") mg_write(conn, response.body.data(), response.body.size());
  return response.status;
}

}  // namespace

std::string_view HttpServerRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

Result<std::unique_ptr<HttpServer>> NewCivetHttpServer(std::string name, std::string bind_address,
                                                       size_t max_body_bytes) {
  Result<std::string> ports = ListeningPorts(bind_address);
  if (!ports.ok()) return ports.status().WithContext(name);
  return std::unique_ptr<HttpServer>(std::make_unique<CivetHttpServer>(
      std::move(name), std::move(bind_address), std::move(ports).value(), max_body_bytes));
}

}  // namespace gantry::controller
