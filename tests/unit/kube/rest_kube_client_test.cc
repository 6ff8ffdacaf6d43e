// RestKubeClient's own logic over a scripted transport (no network): what it sends for each
// call, how it retries throttled requests, re-reads a rotated token, frames watch streams and
// maps answers to typed statuses.
#include "operator/kube/rest_kube_client.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "operator/kube/http_transport.h"

namespace gantry::kube {
namespace {

using ::testing::HasSubstr;

const GroupVersionKind kConfigMap{"", "v1", "ConfigMap"};
const GroupVersionKind kDeployment{"apps", "v1", "Deployment"};

struct Scripted {
  int status;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> chunks;  // for Stream: the body in these pieces
};

// Answers discovery by itself and every other request from a queue, recording what was sent.
class ScriptedTransport final : public HttpTransport {
 public:
  std::deque<Scripted> answers;
  std::vector<HttpRequest> sent;
  Status transport_error;  // returned instead of an answer when set

  Result<HttpResponse> RoundTrip(const HttpRequest& request, std::chrono::milliseconds) override {
    if (request.target == "/api/v1")
      return Discovery(R"({"resources":[
        {"name":"configmaps","namespaced":true,"kind":"ConfigMap"},
        {"name":"namespaces","namespaced":false,"kind":"Namespace"}]})");
    if (request.target == "/apis/apps/v1")
      return Discovery(R"({"resources":[
        {"name":"deployments","namespaced":true,"kind":"Deployment"},
        {"name":"deployments/scale","namespaced":true,"kind":"Scale"}]})");
    sent.push_back(request);
    if (!transport_error.ok()) return transport_error;
    if (answers.empty()) return HttpResponse{500, {}, "script ran out"};
    Scripted s = answers.front();
    answers.pop_front();
    return HttpResponse{s.status, s.headers, s.body};
  }

  Result<HttpResponse> Stream(const HttpRequest& request, std::chrono::milliseconds,
                              std::chrono::milliseconds,
                              const std::function<Status(std::string_view)>& on_body,
                              std::stop_token) override {
    sent.push_back(request);
    Scripted s = answers.front();
    answers.pop_front();
    if (s.status != 200) return HttpResponse{s.status, s.headers, s.body};
    for (const std::string& chunk : s.chunks) GANTRY_RETURN_IF_ERROR(on_body(chunk));
    return HttpResponse{200, {}, ""};
  }

  std::string_view Header(const HttpRequest& r, std::string_view name) const {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return {};
  }

 private:
  static HttpResponse Discovery(const char* body) { return HttpResponse{200, {}, body}; }
};

class RestKubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(RestConfig{}); }
  void Make(RestConfig config) {
    config.server = "https://test:6443";
    config.qps = 0;
    auto transport = std::make_unique<ScriptedTransport>();
    t_ = transport.get();
    client_ = NewRestKubeClientOverTransport(config, std::move(transport), clock_);
  }
  static std::string ConfigMapJson(const std::string& name) {
    return Object{{"kind", "ConfigMap"},
                  {"apiVersion", "v1"},
                  {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", "7"}}}}
        .dump();
  }
  static std::string ApiStatus(int code, const std::string& reason, const std::string& message) {
    return Object{{"kind", "Status"}, {"code", code}, {"reason", reason}, {"message", message}}
        .dump();
  }

  FakeClock clock_;
  ScriptedTransport* t_ = nullptr;
  std::unique_ptr<KubeClient> client_;
};

TEST_F(RestKubeClientTest, BuildsPathsQueriesAndBodies) {
  t_->answers = {{200, ConfigMapJson("a")},
                 {200, ConfigMapJson("a")},
                 {200, ConfigMapJson("a")},
                 {200, ConfigMapJson("a")},
                 {200, "{}"}};
  WriteOptions dry;
  dry.dry_run = true;
  dry.field_manager = "gantry";
  Object cm = Object::parse(ConfigMapJson("a"));
  ASSERT_TRUE(client_->Create(cm, dry).ok());
  EXPECT_EQ(t_->sent[0].method, "POST");
  EXPECT_EQ(t_->sent[0].target, "/api/v1/namespaces/ns/configmaps?dryRun=All&fieldManager=gantry");
  EXPECT_EQ(t_->Header(t_->sent[0], "Content-Type"), "application/json");

  ApplyOptions apply;
  apply.field_manager = "gantry";
  apply.force = true;
  ASSERT_TRUE(client_->Apply(cm, apply).ok());
  EXPECT_EQ(t_->sent[1].method, "PATCH");
  EXPECT_EQ(t_->sent[1].target,
            "/api/v1/namespaces/ns/configmaps/a?fieldManager=gantry&force=true");
  EXPECT_EQ(t_->Header(t_->sent[1], "Content-Type"), "application/apply-patch+yaml");
  EXPECT_EQ(Object::parse(t_->sent[1].body), cm);

  ASSERT_TRUE(client_->Patch({kConfigMap, "ns", "a"}, PatchType::kJson, Object::array()).ok());
  EXPECT_EQ(t_->Header(t_->sent[2], "Content-Type"), "application/json-patch+json");
  PatchOptions status;
  status.subresource = "status";
  ASSERT_TRUE(
      client_->Patch({kConfigMap, "ns", "a"}, PatchType::kStrategic, Object::object(), status)
          .ok());
  EXPECT_EQ(t_->sent[3].target, "/api/v1/namespaces/ns/configmaps/a/status");
  EXPECT_EQ(t_->Header(t_->sent[3], "Content-Type"), "application/strategic-merge-patch+json");

  DeleteOptions del;
  del.propagation_policy = PropagationPolicy::kForeground;
  del.precondition_uid = "u1";
  del.precondition_resource_version = "7";
  del.grace_period_seconds = 0;
  del.dry_run = true;
  ASSERT_TRUE(client_->Delete({kConfigMap, "ns", "a"}, del).ok());
  EXPECT_EQ(t_->sent[4].method, "DELETE");
  EXPECT_EQ(t_->sent[4].target, "/api/v1/namespaces/ns/configmaps/a?dryRun=All");
  Object body = Object::parse(t_->sent[4].body);
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"], Object({{"uid", "u1"}, {"resourceVersion", "7"}}));
  EXPECT_EQ(body["gracePeriodSeconds"], 0);
  EXPECT_EQ(body["dryRun"], Object::array({"All"}));
}

TEST_F(RestKubeClientTest, ListQueryAndItemsGetTheirKind) {
  t_->answers = {{200, R"({"metadata":{"resourceVersion":"42","continue":"tok",
                    "remainingItemCount":3},"items":[{"metadata":{"name":"d1"}}]})"}};
  ListOptions options;
  options.label_selector = "app in (a,b)";
  options.field_selector = "metadata.name!=x";
  options.limit = 1;
  Result<ObjectList> list = client_->List(kDeployment, "", options);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(t_->sent[0].target,
            "/apis/apps/v1/deployments?labelSelector=app%20in%20%28a%2Cb%29&fieldSelector="
            "metadata.name%21%3Dx&limit=1");
  EXPECT_EQ(list->resource_version, "42");
  EXPECT_EQ(list->continue_token, "tok");
  EXPECT_EQ(list->remaining_item_count, 3);
  EXPECT_EQ(list->items[0]["apiVersion"], "apps/v1");
  EXPECT_EQ(list->items[0]["kind"], "Deployment");
}

TEST_F(RestKubeClientTest, ThrottledRequestsAreRetriedOnlyForShortWaits) {
  t_->answers = {{429, ApiStatus(429, "TooManyRequests", "slow"), {{"retry-after", "0"}}},
                 {200, ConfigMapJson("a")}};
  EXPECT_TRUE(client_->Get({kConfigMap, "ns", "a"}).ok());
  EXPECT_EQ(t_->sent.size(), 2u);

  t_->sent.clear();
  t_->answers = {
      {429, ApiStatus(429, "TooManyRequests", "come back later"), {{"retry-after", "60"}}}};
  Result<Object> later = client_->Get({kConfigMap, "ns", "a"});
  EXPECT_EQ(later.status().code(), StatusCode::kTooManyRequests);
  EXPECT_EQ(later.status().retry_after(), std::chrono::seconds(60));
  EXPECT_THAT(later.status().message(), HasSubstr("get ConfigMap ns/a: come back later"));
  EXPECT_EQ(t_->sent.size(), 1u);

  t_->sent.clear();
  for (int i = 0; i < 10; ++i) {
    t_->answers.push_back({429, ApiStatus(429, "TooManyRequests", "slow"), {{"retry-after", "0"}}});
  }
  EXPECT_EQ(client_->Get({kConfigMap, "ns", "a"}).status().code(), StatusCode::kTooManyRequests);
  EXPECT_EQ(t_->sent.size(), 4u);  // the first try and three retries

  // A 503 retries only when the server says when.
  t_->sent.clear();
  t_->answers = {{503, ApiStatus(503, "ServiceUnavailable", "starting")}};
  EXPECT_EQ(client_->Get({kConfigMap, "ns", "a"}).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(t_->sent.size(), 1u);
}

TEST_F(RestKubeClientTest, EveryRequestIsCountedWithItsVerbAndCode) {
  std::mutex mu;
  std::vector<std::string> counted;
  RestConfig config;
  config.on_request = [&](std::string_view verb, int code) {
    std::lock_guard lock(mu);
    counted.push_back(fmt::format("{} {}", verb, code));
  };
  Make(config);
  const Object cm = Object::parse(ConfigMapJson("a"));
  t_->answers = {{200, ConfigMapJson("a")},
                 {404, ApiStatus(404, "NotFound", "gone")},
                 {200, R"({"metadata":{},"items":[]})"},
                 {200, ConfigMapJson("a")},
                 {200, ConfigMapJson("a")},
                 {429, ApiStatus(429, "TooManyRequests", "slow"), {{"retry-after", "0"}}},
                 {200, ConfigMapJson("a")},
                 {200, ApiStatus(200, "Success", "")},
                 {200, "", {}, {}}};
  EXPECT_TRUE(client_->Get({kConfigMap, "ns", "a"}).ok());
  EXPECT_FALSE(client_->Get({kConfigMap, "ns", "b"}).ok());
  EXPECT_TRUE(client_->List(kConfigMap, "ns").ok());
  ApplyOptions dry;
  dry.field_manager = "gantry";
  dry.dry_run = true;
  EXPECT_TRUE(client_->Apply(cm, dry).ok());
  ApplyOptions apply;
  apply.field_manager = "gantry";
  EXPECT_TRUE(client_->Apply(cm, apply).ok());
  EXPECT_TRUE(client_->Update(cm).ok());  // throttled once, then answered
  EXPECT_TRUE(client_->Delete({kConfigMap, "ns", "a"}).ok());
  EXPECT_TRUE(client_
                  ->Watch(
                      kConfigMap, "ns", {}, [](const WatchEvent&) { return Status::Ok(); },
                      std::stop_token())
                  .ok());
  t_->transport_error = Status(StatusCode::kUnavailable, "connection refused");
  EXPECT_FALSE(client_->Get({kConfigMap, "ns", "a"}).ok());
  // Discovery is a request too: the first use of each group-version reads it.
  EXPECT_EQ(counted, (std::vector<std::string>{"get 200", "get 200", "get 404", "list 200",
                                               "apply_dry_run 200", "apply 200", "update 429",
                                               "update 200", "delete 200", "watch 200", "get 0"}));
}

TEST_F(RestKubeClientTest, CredentialsGoInTheAuthorizationHeader) {
  RestConfig token;
  token.bearer_token = "t0ken";
  Make(token);
  t_->answers = {{200, ConfigMapJson("a")}};
  ASSERT_TRUE(client_->Get({kConfigMap, "ns", "a"}).ok());
  EXPECT_EQ(t_->Header(t_->sent[0], "Authorization"), "Bearer t0ken");
  EXPECT_THAT(std::string(t_->Header(t_->sent[0], "User-Agent")), HasSubstr("gantry/"));

  RestConfig basic;
  basic.username = "admin";
  basic.password = "secret";
  Make(basic);
  t_->answers = {{200, ConfigMapJson("a")}};
  ASSERT_TRUE(client_->Get({kConfigMap, "ns", "a"}).ok());
  EXPECT_EQ(t_->Header(t_->sent[0], "Authorization"), "Basic YWRtaW46c2VjcmV0");
}

TEST_F(RestKubeClientTest, ARotatedTokenFileIsReadAgainAfter401) {
  std::string dir = (std::filesystem::temp_directory_path() / "gantry-token-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::string path = dir + "/token";
  std::ofstream(path) << "old\n";
  RestConfig config;
  config.bearer_token_file = path;
  Make(config);
  t_->answers = {{200, ConfigMapJson("a")}};
  ASSERT_TRUE(client_->Get({kConfigMap, "ns", "a"}).ok());
  EXPECT_EQ(t_->Header(t_->sent[0], "Authorization"), "Bearer old");

  std::ofstream(path) << "new\n";  // rotated; the cached token is now rejected
  t_->answers = {{401, ApiStatus(401, "Unauthorized", "Unauthorized")}, {200, ConfigMapJson("a")}};
  ASSERT_TRUE(client_->Get({kConfigMap, "ns", "a"}).ok());
  EXPECT_EQ(t_->Header(t_->sent[1], "Authorization"), "Bearer old");
  EXPECT_EQ(t_->Header(t_->sent[2], "Authorization"), "Bearer new");

  // Without a rotation a second 401 is the answer.
  t_->answers = {{401, ApiStatus(401, "Unauthorized", "Unauthorized")},
                 {401, ApiStatus(401, "Unauthorized", "Unauthorized")}};
  EXPECT_EQ(client_->Get({kConfigMap, "ns", "a"}).status().code(), StatusCode::kUnauthorized);
  std::filesystem::remove_all(dir);
}

TEST_F(RestKubeClientTest, WatchFramesEventsAcrossChunks) {
  std::string added = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"8",)"
                      R"("managedFields":[{"manager":"m"}]}}})";
  std::string bookmark = R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1",)"
                         R"("metadata":{"resourceVersion":"9"}}})";
  std::string stream = added + "\n" + bookmark + "\n";
  Scripted s{200, "", {}, {stream.substr(0, 10), stream.substr(10, 50), stream.substr(60)}};
  t_->answers = {s};
  std::vector<WatchEvent> events;
  WatchOptions options;
  options.resource_version = "7";
  options.strip_managed_fields = true;
  options.timeout = std::chrono::seconds(60);
  Status end = client_->Watch(
      kConfigMap, "ns", options,
      [&](const WatchEvent& e) {
        events.push_back(e);
        return Status::Ok();
      },
      std::stop_token());
  EXPECT_TRUE(end.ok()) << end.ToString();
  EXPECT_EQ(t_->sent[0].target,
            "/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=7&allowWatchBookmarks=true"
            "&timeoutSeconds=60");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(events[0].object["kind"], "ConfigMap");  // filled in like a list's items
  EXPECT_FALSE(events[0].object["metadata"].contains("managedFields"));
  EXPECT_EQ(events[1].type, WatchEvent::Type::kBookmark);
  EXPECT_EQ(ResourceVersionOf(events[1].object), "9");
}

TEST_F(RestKubeClientTest, WatchErrorEventsAndAnswersBecomeStatuses) {
  auto ignore = [](const WatchEvent&) { return Status::Ok(); };
  std::string gone = R"json({"type":"ERROR","object":{"kind":"Status","code":410,)json"
                     R"json("reason":"Expired","message":"too old resource version: 1 (5)"}})json";
  t_->answers = {Scripted{200, "", {}, {gone}}};
  Status s = client_->Watch(kConfigMap, "ns", {}, ignore, std::stop_token());
  EXPECT_EQ(s.code(), StatusCode::kGone);
  EXPECT_THAT(s.message(), HasSubstr("too old resource version"));

  t_->answers = {Scripted{403, ApiStatus(403, "Forbidden", "cannot watch configmaps")}};
  s = client_->Watch(kConfigMap, "ns", {}, ignore, std::stop_token());
  EXPECT_EQ(s.code(), StatusCode::kForbidden);

  t_->answers = {Scripted{200, "", {}, {"<html>"}}};
  s = client_->Watch(kConfigMap, "ns", {}, ignore, std::stop_token());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);

  // The handler can end the watch with its own status.
  t_->answers = {Scripted{200, "", {}, {R"json({"type":"ADDED","object":{}})json"}}};
  s = client_->Watch(
      kConfigMap, "ns", {},
      [](const WatchEvent&) { return Status(StatusCode::kCancelled, "enough"); },
      std::stop_token());
  EXPECT_EQ(s.code(), StatusCode::kCancelled);
}

TEST_F(RestKubeClientTest, FailuresAreTyped) {
  t_->transport_error = Unavailable("GET https://test:6443/...: connection refused");
  Result<Object> refused = client_->Get({kConfigMap, "ns", "a"});
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("get ConfigMap ns/a"));
  t_->transport_error = Status::Ok();

  t_->answers = {{200, "not json"}};
  EXPECT_EQ(client_->Get({kConfigMap, "ns", "a"}).status().code(), StatusCode::kInternal);
  t_->answers = {{404, ApiStatus(404, "NotFound", "the server could not find the resource")}};
  Result<Object> unserved = client_->Get({{"example.com", "v1", "Widget"}, "ns", "w"});
  EXPECT_EQ(unserved.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unserved.status().message(),
              HasSubstr("does not serve API group/version example.com/v1"));
  Object no_kind = {{"apiVersion", "v1"}, {"metadata", {{"name", "x"}}}};
  EXPECT_EQ(client_->Create(no_kind).status().code(), StatusCode::kInvalidArgument);
  ApplyOptions no_manager;
  EXPECT_EQ(client_->Apply(Object::parse(ConfigMapJson("a")), no_manager).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gantry::kube
