#include "operator/reconcilers/webhook_receiver.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "operator/kube/encoding.h"

namespace gantry::reconcilers {
namespace {

std::string_view FindHeader(const controller::HttpServerRequest& request,
                            std::string_view lower_name) {
  for (const auto& [name, value] : request.headers) {
    if (name.size() != lower_name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(name[i])) == lower_name[i];
    }
    if (same) return value;
  }
  return {};
}

controller::HttpServerResponse Answer(int status, std::string body) {
  controller::HttpServerResponse r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

// The hex digest after "sha256=", lower-cased; empty when the header has another shape.
std::string Sha256Digest(std::string_view header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (header.substr(0, kPrefix.size()) != kPrefix) return "";
  std::string hex(header.substr(kPrefix.size()));
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return hex;
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // The length is not secret (a SHA-256 hex digest is always 64); the content is.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

WebhookReceiver::WebhookReceiver(kube::KubeClient& client, SyncMetrics& metrics,
                                 std::function<Status(const kube::ObjectKey&)> trigger,
                                 size_t max_body_bytes)
    : client_(client),
      metrics_(metrics),
      trigger_(std::move(trigger)),
      max_body_bytes_(max_body_bytes) {}

controller::HttpServerResponse WebhookReceiver::Handle(
    const controller::HttpServerRequest& request) {
  std::string provider = "none";
  std::string_view github = FindHeader(request, "x-hub-signature-256");
  std::string_view gitlab = FindHeader(request, "x-gitlab-token");
  std::string_view generic = FindHeader(request, "x-signature");
  if (!github.empty()) {
    provider = "github";
  } else if (!gitlab.empty()) {
    provider = "gitlab";
  } else if (!generic.empty()) {
    provider = "generic";
  }
  auto done = [&](std::string_view result, int status, std::string body) {
    metrics_.CountWebhook(provider, result);
    if (status >= 400) {
      spdlog::info("webhook {} {} from {}: {} {}", request.method, request.path,
                   request.remote_address, status, body);
    }
    return Answer(status, std::move(body));
  };

  // /hooks/<namespace>/<name>, exactly two non-empty segments.
  std::string_view path = request.path;
  if (path.substr(0, kWebhookPathPrefix.size()) != kWebhookPathPrefix) {
    return done("not_found", 404, "unknown path");
  }
  std::string_view rest = path.substr(kWebhookPathPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= rest.size() ||
      rest.find('/', slash + 1) != std::string_view::npos) {
    return done("not_found", 404, "unknown path: want /hooks/<namespace>/<name>");
  }
  const kube::ObjectKey key{std::string(rest.substr(0, slash)),
                            std::string(rest.substr(slash + 1))};
  if (request.method != "POST") {
    auto r = done("method_not_allowed", 405, "only POST is accepted");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (request.body.size() > max_body_bytes_) {
    return done("too_large", 413,
                fmt::format("body of {} bytes is over the limit of {}", request.body.size(),
                            max_body_bytes_));
  }

  auto repo =
      client_.Get(kube::ResourceRef{{"gantry.io", "v1alpha1", "GitRepository"}, key.ns, key.name});
  if (!repo.ok()) {
    if (repo.status().code() == StatusCode::kNotFound) {
      return done("not_found", 404, fmt::format("no GitRepository {}", key.ToString()));
    }
    return done("error", 503, "cannot read the GitRepository: " + repo.status().message());
  }
  const kube::Object* secret_name = nullptr;
  if (auto spec = repo->find("spec"); spec != repo->end() && spec->is_object()) {
    if (auto ref = spec->find("webhookSecretRef"); ref != spec->end() && ref->is_object()) {
      if (auto name = ref->find("name"); name != ref->end() && name->is_string()) {
        secret_name = &*name;
      }
    }
  }
  if (secret_name == nullptr) {
    return done("unauthorized", 401,
                fmt::format("GitRepository {} has no spec.webhookSecretRef", key.ToString()));
  }
  auto secret =
      client_.Get(kube::ResourceRef{{"", "v1", "Secret"}, key.ns, secret_name->get<std::string>()});
  if (!secret.ok()) {
    if (secret.status().code() == StatusCode::kNotFound) {
      return done("unauthorized", 401, "the webhook secret does not exist");
    }
    return done("error", 503, "cannot read the webhook secret: " + secret.status().message());
  }
  std::string token;
  if (auto data = secret->find("data"); data != secret->end() && data->is_object()) {
    if (auto t = data->find("token"); t != data->end() && t->is_string()) {
      auto decoded = kube::Base64Decode(t->get<std::string>());
      if (decoded.ok()) token = std::move(*decoded);
    }
  }
  if (token.empty()) {
    return done("unauthorized", 401, "the webhook secret has no key token");
  }

  if (provider == "none") return done("unauthorized", 401, "the request is not signed");
  bool valid = false;
  if (provider == "gitlab") {
    valid = ConstantTimeEquals(gitlab, token);
  } else {
    std::string given = Sha256Digest(provider == "github" ? github : generic);
    valid = !given.empty() && ConstantTimeEquals(given, HmacSha256Hex(token, request.body));
  }
  if (!valid) return done("unauthorized", 401, "signature does not match");

  if (Status s = trigger_(key); !s.ok()) {
    return done("error", 503, "the fetch could not be requested: " + s.message());
  }
  return done("accepted", 202, fmt::format("fetch of GitRepository {} requested", key.ToString()));
}

}  // namespace gantry::reconcilers
