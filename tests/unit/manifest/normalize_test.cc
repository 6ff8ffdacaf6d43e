#include "operator/manifest/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace gantry::manifest {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const json kLiveDeployment = json::parse(R"({
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {
    "name": "web", "namespace": "shop", "uid": "6b1f7c1e-9a0b-4a57-9b7e-2f3c1d0e8a11",
    "resourceVersion": "48213", "generation": 3, "creationTimestamp": "2024-01-01T00:00:00Z",
    "selfLink": "/apis/apps/v1/namespaces/shop/deployments/web",
    "labels": {"app": "web"},
    "annotations": {"deployment.kubernetes.io/revision": "3"},
    "managedFields": [{"manager": "gantry", "operation": "Apply"}]
  },
  "spec": {"replicas": 3, "template": {"spec": {"containers": [
    {"name": "web", "image": "web:1", "env": [{"name": "A", "value": "1"}]},
    {"name": "sidecar", "image": "proxy:2"}]}}},
  "status": {"replicas": 3, "observedGeneration": 3}
})");

TEST(StripServerFieldsTest, RemovesWhatTheServerFillsIn) {
  json stripped = StripServerFields(kLiveDeployment);
  EXPECT_FALSE(stripped.contains("status"));
  EXPECT_EQ(stripped["metadata"],
            (json{{"name", "web"},
                  {"namespace", "shop"},
                  {"labels", {{"app", "web"}}},
                  {"annotations", {{"deployment.kubernetes.io/revision", "3"}}}}));
  EXPECT_EQ(stripped["spec"], kLiveDeployment["spec"]);
  EXPECT_TRUE(kLiveDeployment.contains("status")) << "the input is not changed";
  EXPECT_EQ(StripServerFields(json::array()), json::array());
}

TEST(JsonPointerTest, ParsesRfc6901) {
  EXPECT_THAT(*ParseJsonPointer("/spec/replicas"), ElementsAre("spec", "replicas"));
  EXPECT_THAT(*ParseJsonPointer("/metadata/annotations/example.com~1owner"),
              ElementsAre("metadata", "annotations", "example.com/owner"));
  EXPECT_THAT(*ParseJsonPointer("/a~0b/~01"), ElementsAre("a~b", "~1"));
  EXPECT_THAT(*ParseJsonPointer("/"), ElementsAre(""));
  EXPECT_THAT(*ParseJsonPointer("/a//b"), ElementsAre("a", "", "b"));
}

TEST(JsonPointerTest, RejectsMalformed) {
  EXPECT_THAT(ParseJsonPointer("spec/replicas").status().message(),
              HasSubstr("must start with '/'"));
  EXPECT_THAT(ParseJsonPointer("/a~2").status().message(), HasSubstr("'~' not followed by 0 or 1"));
  EXPECT_THAT(ParseJsonPointer("/a~").status().message(), HasSubstr("'~'"));
  EXPECT_THAT(ParseJsonPointer("").status().message(), HasSubstr("whole object"));
}

TEST(RemoveJsonPointersTest, RemovesFieldsAndArrayElements) {
  Result<json> out = RemoveJsonPointers(
      kLiveDeployment, {"/spec/replicas", "/spec/template/spec/containers/0/env",
                        "/metadata/annotations/deployment.kubernetes.io~1revision",
                        "/spec/template/spec/containers/1", "/does/not/exist",
                        "/spec/template/spec/containers/7", "/spec/template/spec/containers/01",
                        "/spec/template/spec/containers/-", "/spec/replicas/deeper"});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE((*out)["spec"].contains("replicas"));
  EXPECT_EQ((*out)["spec"]["template"]["spec"]["containers"],
            json::parse(R"([{"name": "web", "image": "web:1"}])"));
  EXPECT_EQ((*out)["metadata"]["annotations"], json::object());
  EXPECT_EQ(kLiveDeployment["spec"]["replicas"], 3) << "the input is not changed";
}

TEST(RemoveJsonPointersTest, MalformedPointerIsAnError) {
  Result<json> out = RemoveJsonPointers(kLiveDeployment, {"/spec/replicas", "spec"});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("JSON pointer \"spec\""));
}

TEST(IgnoreDifferencesTest, AppliesMatchingRules) {
  std::vector<IgnoreDifference> rules = {
      {"apps", "Deployment", "", "", {"/spec/replicas"}},
      {"apps", "Deployment", "other", "", {"/spec/template"}},
      {"", "ConfigMap", "", "", {"/data"}},
      {"*", "*", "", "shop", {"/metadata/labels"}},
      {"apps", "Deployment", "", "elsewhere", {"/metadata/name"}},
  };
  Result<json> out = ApplyIgnoreDifferences(kLiveDeployment, rules);
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE((*out)["spec"].contains("replicas"));
  EXPECT_TRUE((*out)["spec"].contains("template"));
  EXPECT_FALSE((*out)["metadata"].contains("labels"));
  EXPECT_EQ((*out)["metadata"]["name"], "web");
  EXPECT_TRUE((*out).contains("status"));

  EXPECT_TRUE(IgnoreDifferenceMatches({"", "ConfigMap", "", "", {}},
                                      json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}}));
  EXPECT_FALSE(
      IgnoreDifferenceMatches({"", "ConfigMap", "", "", {}},
                              json{{"apiVersion", "example.com/v1"}, {"kind", "ConfigMap"}}));
}

const json kDesiredSecret = json::parse(R"({
  "apiVersion": "v1", "kind": "Secret",
  "metadata": {"name": "db", "namespace": "shop"},
  "type": "Opaque",
  "data": {"username": "YWRtaW4=", "host": "ZGI="},
  "stringData": {"password": "hunter2", "host": "db.shop.svc"}
})");

TEST(SecretTest, FoldStringDataLikeTheApiServer) {
  json folded = FoldStringData(kDesiredSecret);
  EXPECT_FALSE(folded.contains("stringData"));
  EXPECT_EQ(
      folded["data"],
      (json{{"username", "YWRtaW4="}, {"password", "aHVudGVyMg=="}, {"host", "ZGIuc2hvcC5zdmM="}}));
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"stringData", {{"a", "b"}}}};
  EXPECT_EQ(FoldStringData(cm), cm);
  json only_string_data = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"stringData", {{"k", ""}}}};
  EXPECT_EQ(FoldStringData(only_string_data)["data"], (json{{"k", ""}}));
}

TEST(SecretTest, MaskHidesEveryValue) {
  json live = FoldStringData(kDesiredSecret);
  live["metadata"]["annotations"] = {
      {"kubectl.kubernetes.io/last-applied-configuration", kDesiredSecret.dump()},
      {"team", "storefront"}};
  json masked = MaskSecret(live);
  std::string text = masked.dump();
  for (const char* secret : {"hunter2", "aHVudGVyMg==", "YWRtaW4=", "ZGIuc2hvcC5zdmM="}) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(secret)));
  }
  EXPECT_EQ(masked["data"]["password"], "++++++++");
  EXPECT_EQ(masked["data"]["username"], "++++++++");
  EXPECT_EQ(masked["metadata"]["annotations"]["team"], "storefront");
  EXPECT_EQ(masked["metadata"]["name"], "db");
}

TEST(SecretTest, MaskPairShowsWhichValuesChanged) {
  json desired = FoldStringData(kDesiredSecret);
  json live = desired;
  live["data"]["password"] = "b2xkcGFzcw==";  // "oldpass"
  live["data"]["extra"] = "eA==";
  MaskedPair masked = MaskSecretPair(desired, live);
  EXPECT_EQ(masked.desired["data"]["username"], masked.live["data"]["username"]);
  EXPECT_EQ(masked.desired["data"]["host"], masked.live["data"]["host"]);
  EXPECT_NE(masked.desired["data"]["password"], masked.live["data"]["password"]);
  for (const json* side : {&masked.desired, &masked.live}) {
    for (const auto& [key, value] : (*side)["data"].items()) {
      std::string v = value.get<std::string>();
      EXPECT_GE(v.size(), 8u) << key;
      EXPECT_EQ(v.find_first_not_of('+'), std::string::npos) << key << ": " << v;
    }
  }
  EXPECT_THAT(masked.live.dump(), ::testing::Not(HasSubstr("b2xkcGFzcw==")));

  MaskedPair created = MaskSecretPair(desired, nullptr);
  EXPECT_TRUE(created.live.is_null());
  EXPECT_EQ(created.desired["data"]["password"].get<std::string>().find_first_not_of('+'),
            std::string::npos);

  MaskedPair not_secret = MaskSecretPair(kLiveDeployment, kLiveDeployment);
  EXPECT_EQ(not_secret.desired, kLiveDeployment);
}

TEST(HashTest, CanonicalJsonIsSortedAndCompact) {
  json a = json::parse(R"({"b": 1, "a": {"y": [1, 2.5, "x"], "x": null}})");
  EXPECT_EQ(CanonicalJson(a), R"({"a":{"x":null,"y":[1,2.5,"x"]},"b":1})");
  json invalid = std::string("\xff");
  EXPECT_NO_THROW(CanonicalJson(invalid));
}

TEST(HashTest, Sha256KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, AppliedHashIgnoresKeyOrderAndServerFields) {
  json a = json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "c", "namespace": "n"}, "data": {"k": "v"}})");
  json b = json::parse(R"({"data": {"k": "v"}, "kind": "ConfigMap",
                           "metadata": {"namespace": "n", "name": "c", "resourceVersion": "9"},
                           "apiVersion": "v1", "status": {}})");
  EXPECT_EQ(HashAppliedObject(a), HashAppliedObject(b));
  EXPECT_EQ(HashAppliedObject(a).size(), 64u);
  json c = a;
  c["data"]["k"] = "w";
  EXPECT_NE(HashAppliedObject(a), HashAppliedObject(c));
  json d = a;
  d["data"]["k2"] = "v";
  EXPECT_NE(HashAppliedObject(a), HashAppliedObject(d));
}

}  // namespace
}  // namespace gantry::manifest
