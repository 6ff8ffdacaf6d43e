#include "operator/api/meta.h"

#include <gtest/gtest.h>

namespace gantry::api {
namespace {

TEST(ApiObjectMetaTest, KeyIsNamespaceSlashNameOrJustName) {
  ObjectMeta meta;
  meta.name = "web";
  EXPECT_EQ(meta.Key(), "web");
  meta.namespace_ = "prod";
  EXPECT_EQ(meta.Key(), "prod/web");
}

LabelSelector Selector(std::map<std::string, std::string> labels,
                       std::vector<LabelSelectorRequirement> exprs = {}) {
  LabelSelector s;
  s.match_labels = std::move(labels);
  s.match_expressions = std::move(exprs);
  return s;
}

LabelSelectorRequirement Req(std::string key, std::string op, std::vector<std::string> values) {
  LabelSelectorRequirement r;
  r.key = std::move(key);
  r.operator_ = std::move(op);
  r.values = std::move(values);
  return r;
}

TEST(ApiLabelSelectorTest, MatchLabelsAreAnded) {
  LabelSelector s = Selector({{"app", "web"}, {"tier", "front"}});
  EXPECT_TRUE(s.Matches({{"app", "web"}, {"tier", "front"}, {"extra", "x"}}));
  EXPECT_FALSE(s.Matches({{"app", "web"}}));
  EXPECT_FALSE(s.Matches({{"app", "web"}, {"tier", "back"}}));
}

TEST(ApiLabelSelectorTest, Expressions) {
  std::map<std::string, std::string> labels = {{"app", "web"}, {"env", "prod"}};
  EXPECT_TRUE(Selector({}, {Req("env", "In", {"prod", "stage"})}).Matches(labels));
  EXPECT_FALSE(Selector({}, {Req("env", "In", {"dev"})}).Matches(labels));
  EXPECT_FALSE(Selector({}, {Req("zone", "In", {"a"})}).Matches(labels));
  EXPECT_TRUE(Selector({}, {Req("env", "NotIn", {"dev"})}).Matches(labels));
  EXPECT_TRUE(Selector({}, {Req("zone", "NotIn", {"a"})}).Matches(labels));
  EXPECT_FALSE(Selector({}, {Req("env", "NotIn", {"prod"})}).Matches(labels));
  EXPECT_TRUE(Selector({}, {Req("app", "Exists", {})}).Matches(labels));
  EXPECT_FALSE(Selector({}, {Req("zone", "Exists", {})}).Matches(labels));
  EXPECT_TRUE(Selector({}, {Req("zone", "DoesNotExist", {})}).Matches(labels));
  EXPECT_FALSE(Selector({}, {Req("app", "DoesNotExist", {})}).Matches(labels));
  EXPECT_FALSE(Selector({}, {Req("app", "Like", {"web"})}).Matches(labels));
}

TEST(ApiLabelSelectorTest, EmptyMatchesEverything) {
  EXPECT_TRUE(LabelSelector().Empty());
  EXPECT_TRUE(LabelSelector().Matches({}));
  EXPECT_TRUE(LabelSelector().Matches({{"a", "b"}}));
}

TEST(ApiLabelSelectorTest, ToStringUsesKubectlSyntax) {
  LabelSelector s =
      Selector({{"app", "web"}}, {Req("env", "In", {"prod", "stage"}), Req("tier", "NotIn", {"db"}),
                                  Req("canary", "Exists", {}), Req("legacy", "DoesNotExist", {})});
  EXPECT_EQ(s.ToString(), "app=web,env in (prod,stage),tier notin (db),canary,!legacy");
}

}  // namespace
}  // namespace gantry::api
