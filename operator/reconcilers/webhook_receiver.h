// WebhookReceiver: POST /hooks/<namespace>/<name> asks for an immediate fetch of that
// GitRepository, so a push shows up in the cluster without waiting for spec.interval.
//
// A request must be signed with the token in the GitRepository's spec.webhookSecretRef (Secret
// key `token`), in one of three ways:
//   GitHub   X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body keyed by the token>
//   GitLab   X-Gitlab-Token: <token>
//   generic  X-Signature: sha256=<hex HMAC-SHA256 of the body keyed by the token>
// Comparisons are constant-time. Answers: 202 triggered; 401 unsigned, wrongly signed, or the
// GitRepository has no webhook secret; 404 unknown path or GitRepository; 405 not a POST; 413
// body over the limit (1 MiB); 503 the GitRepository, its Secret or the hand-over to the leader
// failed (try again). Only 202 triggers anything. Every request is counted in
// gantry_webhook_requests_total{provider,result}.
//
// Handle is called on the HTTP server's worker threads, several at once; it keeps no state of
// its own and is thread-safe as long as its collaborators are.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "operator/controller/http_server.h"
#include "operator/kube/kube_client.h"
#include "operator/reconcilers/application_metrics.h"

namespace gantry::reconcilers {

inline constexpr std::string_view kWebhookPathPrefix = "/hooks/";
inline constexpr size_t kMaxWebhookBodyBytes = 1 << 20;

// Lower-case hex HMAC-SHA256 of `body` keyed by `key` (OpenSSL).
std::string HmacSha256Hex(std::string_view key, std::string_view body);
// Equal strings, compared in time independent of where they differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

class WebhookReceiver {
 public:
  // `trigger` asks for an immediate pass of the GitRepository: it enqueues the key on the
  // leader and hands the request to the leader through the API on a standby replica
  // (controller::Manager::RequestReconcile). When it fails the answer is 503, so that the
  // sender retries (GitHub shows it; GitLab retries).
  WebhookReceiver(kube::KubeClient& client, SyncMetrics& metrics,
                  std::function<Status(const kube::ObjectKey&)> trigger,
                  size_t max_body_bytes = kMaxWebhookBodyBytes);
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  controller::HttpServerResponse Handle(const controller::HttpServerRequest& request);

 private:
  kube::KubeClient& client_;
  SyncMetrics& metrics_;
  const std::function<Status(const kube::ObjectKey&)> trigger_;
  const size_t max_body_bytes_;
};

}  // namespace gantry::reconcilers
