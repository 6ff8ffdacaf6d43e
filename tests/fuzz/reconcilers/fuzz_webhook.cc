// Fuzzes the webhook receiver (operator/reconcilers/webhook_receiver): request parsing (path,
// method, signature headers, body limit) and signature checking, against an in-memory API
// server holding a GitRepository with a webhook secret and two without a usable one.
//
// Input, split at the first four newlines: method, path, header name, header value; the rest
// is the body. The target computes independently whether the request is correctly signed and
// aborts when the receiver triggers a fetch it should not (or misses one it should), answers
// with an unexpected status, counts the request other than once, or echoes the secret token.
// It also checks ConstantTimeEquals against ordinary equality on halves of the body.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operator/common/clock.h"
#include "operator/controller/http_server.h"
#include "operator/kube/encoding.h"
#include "operator/kube/fake_kube_client.h"
#include "operator/reconcilers/application_metrics.h"
#include "operator/reconcilers/webhook_receiver.h"

namespace {

using gantry::reconcilers::ConstantTimeEquals;
using gantry::reconcilers::HmacSha256Hex;

constexpr std::string_view kToken = "s3cr3t-webhook-token";
constexpr size_t kMaxBody = 512;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Counts CountWebhook calls; everything else is not under test.
class CountingMetrics final : public gantry::reconcilers::SyncMetrics {
 public:
  void ObserveGitFetch(double) override {}
  void CountWebhook(std::string_view provider, std::string_view) override {
    ++count;
    Check(provider == "github" || provider == "gitlab" || provider == "generic" ||
          provider == "none");
  }
  void CountApply(std::string_view, int) override {}
  void RecordApplication(const std::string&, const std::string&, std::string_view,
                         std::string_view) override {}
  void ForgetApplication(const std::string&, const std::string&) override {}
  int count = 0;
};

gantry::kube::FakeKubeClient& Client() {
  static gantry::kube::FakeKubeClient* client = [] {
    static gantry::FakeClock clock;
    auto* c = new gantry::kube::FakeKubeClient(clock);
    auto repo = [](std::string name, nlohmann::json spec) {
      return nlohmann::json{{"apiVersion", "gantry.io/v1alpha1"},
                            {"kind", "GitRepository"},
                            {"metadata", {{"name", name}, {"namespace", "default"}}},
                            {"spec", spec}};
    };
    const std::string url = "https://example.invalid/r.git";
    Check(c->Create(repo("repo", {{"url", url}, {"webhookSecretRef", {{"name", "hook"}}}})).ok());
    Check(c->Create(repo("nosecret", {{"url", url}})).ok());
    Check(
        c->Create(repo("missing", {{"url", url}, {"webhookSecretRef", {{"name", "gone"}}}})).ok());
    Check(c->Create({{"apiVersion", "v1"},
                     {"kind", "Secret"},
                     {"metadata", {{"name", "hook"}, {"namespace", "default"}}},
                     {"data", {{"token", gantry::kube::Base64Encode(kToken)}}}})
              .ok());
    return c;
  }();
  return *client;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits off the text up to the next newline.
std::string_view NextLine(std::string_view& rest) {
  size_t end = rest.find('\n');
  std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  gantry::controller::HttpServerRequest request;
  request.method = NextLine(rest);
  request.path = NextLine(rest);
  const std::string header_name(NextLine(rest));
  const std::string header_value(NextLine(rest));
  request.body = rest;
  request.remote_address = "127.0.0.1";
  if (!header_name.empty()) request.headers.emplace_back(header_name, header_value);

  const size_t half = request.body.size() / 2;
  const std::string_view body(request.body);
  Check(ConstantTimeEquals(body.substr(0, half), body.substr(half)) ==
        (body.substr(0, half) == body.substr(half)));

  CountingMetrics metrics;
  std::vector<gantry::kube::ObjectKey> triggered;
  gantry::reconcilers::WebhookReceiver receiver(
      Client(), metrics,
      [&](const gantry::kube::ObjectKey& key) {
        triggered.push_back(key);
        return gantry::Status::Ok();
      },
      kMaxBody);
  const gantry::controller::HttpServerResponse response = receiver.Handle(request);

  // What a correct receiver must do with this request.
  const std::string name = Lower(header_name);
  const std::string hmac = "sha256=" + HmacSha256Hex(kToken, request.body);
  bool signed_ok = false;
  if (!header_value.empty()) {
    if (name == "x-gitlab-token") {
      signed_ok = header_value == kToken;
    } else if (name == "x-hub-signature-256" || name == "x-signature") {
      signed_ok = header_value.substr(0, 7) == "sha256=" &&
                  "sha256=" + Lower(header_value.substr(7)) == hmac;
    }
  }
  const bool want = request.method == "POST" && request.path == "/hooks/default/repo" &&
                    request.body.size() <= kMaxBody && signed_ok;

  Check(metrics.count == 1);
  Check(response.body.find(kToken) == std::string::npos);
  Check(response.body.find(hmac.substr(7)) == std::string::npos);
  if (want) {
    Check(response.status == 202);
    Check(triggered.size() == 1);
    Check(triggered[0].ns == "default" && triggered[0].name == "repo");
  } else {
    Check(triggered.empty());
    Check(response.status == 401 || response.status == 404 || response.status == 405 ||
          response.status == 413);
  }
  return 0;
}
