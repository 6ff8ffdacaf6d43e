// Fuzzes the webhook receiver (operator/reconcilers/webhook_receiver): request parsing (path,
// method, signature headers, body limit) and signature checking, against an in-memory client
// holding a GitRepository with a webhook secret and two without a usable one. (A map of
// objects rather than FakeKubeClient: the receiver only reads, and the fuzz build then needs
// no HTTP client library compiled with ASan.)
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
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "operator/controller/http_server.h"
#include "operator/kube/encoding.h"
#include "operator/kube/kube_client.h"
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

// The objects the receiver may read; every other call is a bug in the receiver.
class ObjectsClient final : public gantry::kube::KubeClient {
 public:
  void Add(gantry::kube::Object object) {
    auto ref = gantry::kube::ResourceRef::FromObject(object);
    Check(ref.ok());
    objects_[ref->ToString()] = std::move(object);
  }

  gantry::Result<gantry::kube::Object> Get(const gantry::kube::ResourceRef& ref,
                                           const gantry::kube::GetOptions&) override {
    auto it = objects_.find(ref.ToString());
    if (it == objects_.end()) return gantry::NotFound(ref.ToString() + " not found");
    return it->second;
  }

  gantry::Result<gantry::kube::RestMapping> Mapping(
      const gantry::kube::GroupVersionKind&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::RestMapping> MappingForResource(const std::string&,
                                                               const std::string&,
                                                               const std::string&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> ServerVersion() override { return Unused(); }
  gantry::Result<gantry::kube::ObjectList> List(const gantry::kube::GroupVersionKind&,
                                                const std::string&,
                                                const gantry::kube::ListOptions&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> Create(const gantry::kube::Object&,
                                              const gantry::kube::WriteOptions&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> Update(const gantry::kube::Object&,
                                              const gantry::kube::WriteOptions&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> UpdateStatus(const gantry::kube::Object&,
                                                    const gantry::kube::WriteOptions&) override {
    return Unused();
  }
  gantry::Status Delete(const gantry::kube::ResourceRef&,
                        const gantry::kube::DeleteOptions&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> Patch(const gantry::kube::ResourceRef&,
                                             gantry::kube::PatchType, const gantry::kube::Object&,
                                             const gantry::kube::PatchOptions&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> Apply(const gantry::kube::Object&,
                                             const gantry::kube::ApplyOptions&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> GetScale(const gantry::kube::ResourceRef&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> UpdateScale(const gantry::kube::ResourceRef&, int32_t,
                                                   const gantry::kube::WriteOptions&) override {
    return Unused();
  }
  gantry::Result<gantry::kube::Object> CreateSubresource(
      const gantry::kube::ResourceRef&, const std::string&, const gantry::kube::Object&,
      const gantry::kube::WriteOptions&) override {
    return Unused();
  }
  gantry::Status Watch(const gantry::kube::GroupVersionKind&, const std::string&,
                       const gantry::kube::WatchOptions&,
                       const std::function<gantry::Status(const gantry::kube::WatchEvent&)>&,
                       std::stop_token) override {
    return Unused();
  }

 private:
  static gantry::Status Unused() {
    std::abort();  // the receiver only reads GitRepositories and Secrets
  }
  std::map<std::string, gantry::kube::Object> objects_;
};

ObjectsClient& Client() {
  static ObjectsClient* client = [] {
    auto* c = new ObjectsClient();
    auto repo = [](std::string name, nlohmann::json spec) {
      return nlohmann::json{{"apiVersion", "gantry.io/v1alpha1"},
                            {"kind", "GitRepository"},
                            {"metadata", {{"name", name}, {"namespace", "default"}}},
                            {"spec", spec}};
    };
    const std::string url = "https://example.invalid/r.git";
    c->Add(repo("repo", {{"url", url}, {"webhookSecretRef", {{"name", "hook"}}}}));
    c->Add(repo("nosecret", {{"url", url}}));
    c->Add(repo("missing", {{"url", url}, {"webhookSecretRef", {{"name", "gone"}}}}));
    c->Add({{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", "hook"}, {"namespace", "default"}}},
            {"data", {{"token", gantry::kube::Base64Encode(kToken)}}}});
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
  // The answer never reveals the secret or the signature it expects (unless the request itself
  // carried them, e.g. in a path that is echoed back in a 404).
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.find(kToken) == std::string_view::npos) {
    Check(response.body.find(kToken) == std::string::npos);
  }
  if (input.find(hmac.substr(7)) == std::string_view::npos) {
    Check(response.body.find(hmac.substr(7)) == std::string::npos);
  }
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
