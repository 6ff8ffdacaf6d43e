// The example manifests in tests/testdata/crds: every good one decodes, validates and round-trips;
// every bad one that Gantry can judge (a "# gantry-error:" header) is rejected with that message.
// tests/integration/crds applies the same files to a real API server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "operator/api/types.h"
#include "yaml_testdata.h"

namespace gantry::api {
namespace {

using ::testing::HasSubstr;
using testing::HeaderValues;
using testing::JsonContains;
using testing::LoadYamlDocuments;
using testing::YamlFiles;

// FromJson, then Validate; the first failure, or OK. `round_trip` also checks ToJson.
template <typename T>
Status DecodeAndValidate(const nlohmann::json& doc, bool round_trip) {
  Result<T> object = T::FromJson(doc);
  if (!object.ok()) return object.status();
  if (round_trip) {
    nlohmann::json written = object->ToJson();
    EXPECT_TRUE(JsonContains(written, doc)) << "ToJson lost or changed a field";
    Result<T> again = T::FromJson(written);
    EXPECT_TRUE(again.ok()) << again.status().ToString();
    if (again.ok()) {
      EXPECT_TRUE(*again == *object) << "FromJson(ToJson(x)) != x";
      EXPECT_EQ(again->ToJson(), written);
    }
  }
  return object->Validate();
}

Status Check(const nlohmann::json& doc, bool round_trip) {
  std::string kind = doc.value("kind", "");
  if (kind == GitRepository::kKind) return DecodeAndValidate<GitRepository>(doc, round_trip);
  if (kind == Application::kKind) return DecodeAndValidate<Application>(doc, round_trip);
  if (kind == Rollout::kKind) return DecodeAndValidate<Rollout>(doc, round_trip);
  if (kind == AnalysisTemplate::kKind) {
    return DecodeAndValidate<AnalysisTemplate>(doc, round_trip);
  }
  if (kind == ClusterAnalysisTemplate::kKind) {
    return DecodeAndValidate<ClusterAnalysisTemplate>(doc, round_trip);
  }
  if (kind == AnalysisRun::kKind) return DecodeAndValidate<AnalysisRun>(doc, round_trip);
  return InvalidArgument("unexpected kind " + kind);
}

TEST(ApiTestdataTest, EveryKindHasGoodExamples) {
  std::set<std::string> kinds;
  for (const std::string& file : YamlFiles("tests/testdata/crds/good")) {
    for (const nlohmann::json& doc : LoadYamlDocuments(file)) kinds.insert(doc.value("kind", ""));
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"AnalysisRun", "AnalysisTemplate", "Application",
                                          "ClusterAnalysisTemplate", "GitRepository", "Rollout"}));
}

TEST(ApiTestdataTest, GoodExamplesDecodeValidateAndRoundTrip) {
  std::vector<std::string> files = YamlFiles("tests/testdata/crds/good");
  ASSERT_FALSE(files.empty());
  for (const std::string& file : files) {
    std::vector<nlohmann::json> docs = LoadYamlDocuments(file);
    ASSERT_FALSE(docs.empty()) << file;
    for (size_t i = 0; i < docs.size(); ++i) {
      SCOPED_TRACE(file + " document " + std::to_string(i));
      Status s = Check(docs[i], /*round_trip=*/true);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }
}

TEST(ApiTestdataTest, BadExamplesAreRejectedWithTheirMessage) {
  std::vector<std::string> files = YamlFiles("tests/testdata/crds/bad");
  ASSERT_FALSE(files.empty());
  int judged = 0;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    std::vector<nlohmann::json> docs = LoadYamlDocuments(file);
    ASSERT_EQ(docs.size(), 1u) << "one object per bad example";
    EXPECT_FALSE(HeaderValues(file, "server-error").empty())
        << "every bad example says how the API server rejects it";
    std::vector<std::string> expected = HeaderValues(file, "gantry-error");
    if (expected.empty()) continue;  // only the API server can judge it (e.g. unknown fields)
    ++judged;
    Status s = Check(docs[0], /*round_trip=*/false);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    for (const std::string& message : expected) EXPECT_THAT(s.message(), HasSubstr(message));
    // The message names the object.
    EXPECT_THAT(s.message(), HasSubstr(docs[0]["kind"].get<std::string>() + " " +
                                       docs[0]["metadata"]["name"].get<std::string>()));
  }
  EXPECT_GT(judged, 20);
}

}  // namespace
}  // namespace gantry::api
