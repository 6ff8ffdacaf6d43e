#include "operator/manifest/json_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace gantry::manifest {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseJsonTextTest, ObjectWithLineAndNumbers) {
  Result<YamlDocument> doc = ParseJsonText(R"(

{"apiVersion": "v1", "kind": "ConfigMap",
 "data": {"a": "1"}, "n": 3.0, "f": 2.5, "big": 18446744073709551615}
)",
                                           "c.json");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->line, 3);
  EXPECT_EQ(doc->value["kind"], "ConfigMap");
  EXPECT_TRUE(doc->value["n"].is_number_integer());
  EXPECT_EQ(doc->value["n"].dump(), "3");
  EXPECT_EQ(doc->value["f"], 2.5);
  EXPECT_EQ(doc->value["big"].get<uint64_t>(), UINT64_MAX);
}

TEST(ParseJsonTextTest, ItemLinesOfAList) {
  Result<YamlDocument> doc = ParseJsonText(R"({
  "apiVersion": "v1",
  "kind": "List",
  "metadata": {"items": [{"not": "these"}]},
  "items": [
    {"kind": "A",
     "nested": {"items": [{}]}},

    {"kind": "B"}, {"kind": "C"}
  ]
})",
                                           "l.json");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->line, 1);
  EXPECT_THAT(doc->item_lines, ElementsAre(6, 9, 9));
}

TEST(ParseJsonTextTest, SyntaxErrorNamesLineAndColumn) {
  Result<YamlDocument> doc = ParseJsonText("{\n  \"a\": 1,\n  \"b\": tru\n}\n", "bad.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("bad.json:3:"));
  EXPECT_THAT(doc.status().message(), HasSubstr("syntax error"));
  EXPECT_THAT(doc.status().message(), ::testing::Not(HasSubstr("json.exception")));
}

TEST(ParseJsonTextTest, DuplicateKeyIsAnError) {
  Result<YamlDocument> doc = ParseJsonText(
      "{\"metadata\": {\"name\": \"a\",\n \"name\": \"b\"}, \"x\": {\"name\": 1}}", "d.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("d.json:2: duplicate key \"name\""));
}

TEST(ParseJsonTextTest, SameKeyInSiblingObjectsIsFine) {
  Result<YamlDocument> doc =
      ParseJsonText(R"({"a": {"name": 1}, "b": {"name": 2}, "c": [{"k": 1}, {"k": 2}]})", "s.json");
  EXPECT_TRUE(doc.ok()) << doc.status().message();
}

TEST(ParseJsonTextTest, DeepNestingIsRefused) {
  Result<YamlDocument> doc = ParseJsonText(std::string(100000, '['), "deep.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("nesting is deeper than 100 levels"));
}

TEST(ParseJsonTextTest, InvalidUtf8IsAnError) {
  Result<YamlDocument> doc = ParseJsonText("{\"a\": \"\xff\"}", "u.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_THAT(doc.status().message(), HasSubstr("u.json:1:"));
}

TEST(ParseJsonTextTest, TrailingGarbageIsAnError) {
  Result<YamlDocument> doc = ParseJsonText("{} {}", "two.json");
  EXPECT_FALSE(doc.ok());
}

}  // namespace
}  // namespace gantry::manifest
