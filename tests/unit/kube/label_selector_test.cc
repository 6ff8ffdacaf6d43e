#include "operator/kube/label_selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gantry::kube {
namespace {

using ::testing::HasSubstr;

LabelSelector MustParse(std::string_view text) {
  Result<LabelSelector> s = LabelSelector::Parse(text);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : LabelSelector();
}

TEST(LabelSelectorTest, EqualityAndSets) {
  Object labels = {{"app", "web"}, {"tier", "front"}, {"release", "3"}};
  EXPECT_TRUE(MustParse("").Matches(labels));
  EXPECT_TRUE(MustParse("app=web").Matches(labels));
  EXPECT_TRUE(MustParse("app==web, tier = front").Matches(labels));
  EXPECT_FALSE(MustParse("app=db").Matches(labels));
  EXPECT_TRUE(MustParse("app!=db").Matches(labels));
  EXPECT_TRUE(MustParse("missing!=x").Matches(labels));
  EXPECT_TRUE(MustParse("tier in (front, back)").Matches(labels));
  EXPECT_FALSE(MustParse("tier notin (front)").Matches(labels));
  EXPECT_FALSE(MustParse("missing in (x)").Matches(labels));
  EXPECT_TRUE(MustParse("missing notin (x)").Matches(labels));
  EXPECT_TRUE(MustParse("app").Matches(labels));
  EXPECT_FALSE(MustParse("!app").Matches(labels));
  EXPECT_TRUE(MustParse("!canary,app").Matches(labels));
  EXPECT_TRUE(MustParse("release>2").Matches(labels));
  EXPECT_FALSE(MustParse("release<3").Matches(labels));
  EXPECT_TRUE(MustParse("example.com/owner!=x").Matches(labels));
  EXPECT_FALSE(MustParse("app=web").Matches(nullptr));
  // An empty value is allowed and matches only an empty label.
  EXPECT_TRUE(MustParse("empty=").Matches({{"empty", ""}}));
  EXPECT_FALSE(MustParse("empty=").Matches(labels));
}

TEST(LabelSelectorTest, ToStringRoundTrips) {
  LabelSelector s = MustParse("app = web,tier in (b,a),!canary,release,x!=y");
  EXPECT_EQ(s.ToString(), "app=web,tier in (a,b),!canary,release,x!=y");
  EXPECT_EQ(MustParse(s.ToString()).ToString(), s.ToString());
}

TEST(LabelSelectorTest, SyntaxErrorsSayWhere) {
  for (const char* bad : {"app=(x)", "=web", "app in ()", "app in (a", "app=web,", "Bad Key=x",
                          "app=web tier=x", "app in (-x)", "release>abc", "app ~ x"}) {
    Result<LabelSelector> s = LabelSelector::Parse(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_THAT(s.status().message(), HasSubstr("label selector")) << bad;
    EXPECT_THAT(s.status().message(), HasSubstr("position")) << bad;
  }
}

TEST(LabelSelectorTest, FromMetav1LabelSelector) {
  Object json = Object::parse(R"({
    "matchLabels": {"app": "web"},
    "matchExpressions": [
      {"key": "tier", "operator": "In", "values": ["front", "edge"]},
      {"key": "canary", "operator": "DoesNotExist"}
    ]})");
  Result<LabelSelector> s = LabelSelector::FromJson(json);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->Matches({{"app", "web"}, {"tier", "edge"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"tier", "edge"}, {"canary", "1"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}}));
  EXPECT_TRUE(LabelSelector::FromJson(nullptr)->Empty());

  Result<LabelSelector> bad = LabelSelector::FromJson(
      Object::parse(R"({"matchExpressions": [{"key": "a", "operator": "Near"}]})"));
  EXPECT_THAT(bad.status().message(), HasSubstr("matchExpressions[0]"));
  Result<LabelSelector> no_values = LabelSelector::FromJson(
      Object::parse(R"({"matchExpressions": [{"key": "a", "operator": "In"}]})"));
  EXPECT_FALSE(no_values.ok());
}

TEST(FieldSelectorTest, MatchesPaths) {
  Object pod = {{"metadata", {{"name", "p"}, {"namespace", "n"}}},
                {"status", {{"phase", "Running"}}},
                {"spec", {{"replicas", 3}}}};
  auto matches = [&](const char* text) {
    Result<FieldSelector> s = FieldSelector::Parse(text);
    EXPECT_TRUE(s.ok()) << text;
    return s->Matches(pod);
  };
  EXPECT_TRUE(matches("metadata.name=p"));
  EXPECT_TRUE(matches("metadata.name==p,metadata.namespace=n"));
  EXPECT_FALSE(matches("metadata.name!=p"));
  EXPECT_TRUE(matches("status.phase!=Failed"));
  EXPECT_TRUE(matches("spec.replicas=3"));
  EXPECT_TRUE(matches("spec.missing="));
  EXPECT_FALSE(FieldSelector::Parse("metadata.name").ok());
}

}  // namespace
}  // namespace gantry::kube
