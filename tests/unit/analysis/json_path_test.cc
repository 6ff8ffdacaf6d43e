#include "operator/analysis/json_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace gantry::analysis {
namespace {

using ::testing::HasSubstr;

const Value& Answer() {
  static const Value* answer = new Value(Value::parse(R"({
    "data": {"ok": true, "rate": 0.97, "name": "api", "nothing": null, "my-field": 1,
             "a/b": 2, "caf\u00e9": 3},
    "items": [{"value": 10}, {"value": 20}, {"value": 30}],
    "weird key": "w",
    "dotted.key": "d",
    "it's": "apostrophe",
    "empty": {}
  })"));
  return *answer;
}

struct Case {
  std::string path;
  Value expected;
};

class SelectsValue : public ::testing::TestWithParam<Case> {};

TEST_P(SelectsValue, FromTheAnswer) {
  Result<Value> value = EvaluateJsonPath(GetParam().path, Answer());
  ASSERT_TRUE(value.ok()) << GetParam().path << ": " << value.status().ToString();
  EXPECT_EQ(*value, GetParam().expected) << GetParam().path;
  EXPECT_TRUE(ValidateJsonPath(GetParam().path).ok()) << GetParam().path;
}

INSTANTIATE_TEST_SUITE_P(Paths, SelectsValue,
                         ::testing::Values(
                             // The forms Argo Rollouts users write.
                             Case{"{$.data.ok}", true}, Case{"$.data.ok", true},
                             Case{"{.data.ok}", true}, Case{".data.ok", true},
                             Case{"  { $.data.rate }  ", 0.97}, Case{"$.items[0].value", 10},
                             Case{"{$.items[2].value}", 30}, Case{"$.items[-1].value", 30},
                             Case{"$.items[ 1 ]", Value{{"value", 20}}},
                             Case{"$['weird key']", "w"}, Case{"$[\"weird key\"]", "w"},
                             Case{"$['dotted.key']", "d"}, Case{"$['it\\'s']", "apostrophe"},
                             Case{"$[\"it's\"]", "apostrophe"}, Case{"$.data['name']", "api"},
                             Case{"$['data'].name", "api"}, Case{"$.data.my-field", 1},
                             Case{"$.data.a/b", 2}, Case{"$.data.caf\xC3\xA9", 3},
                             Case{"$.data.nothing", nullptr}, Case{"$.empty", Value::object()},
                             // The whole document.
                             Case{"$", Answer()}, Case{"{$}", Answer()}, Case{"{.}", Answer()}));

std::string ErrorOf(std::string_view path, const Value& document = Answer()) {
  Result<Value> value = EvaluateJsonPath(path, document);
  if (value.ok()) return "selected " + FormatValue(*value);
  EXPECT_EQ(value.status().code(), StatusCode::kInvalidArgument);
  return value.status().message();
}

TEST(JsonPathTest, MissingFieldsAndIndexesNameThePath) {
  EXPECT_EQ(ErrorOf("{$.data.okay}"),
            "jsonPath \"{$.data.okay}\": no field \"okay\" in $.data (fields: \"a/b\", "
            "\"caf\xC3\xA9\", \"my-field\", \"name\", \"nothing\" and 2 more)");
  EXPECT_EQ(ErrorOf("$.empty.x"),
            "jsonPath \"$.empty.x\": no field \"x\" in $.empty (the object "
            "is empty)");
  EXPECT_EQ(ErrorOf("$.items[3].value"),
            "jsonPath \"$.items[3].value\": index 3 is out of range: $.items has 3 elements");
  EXPECT_EQ(ErrorOf("$.items[-4]"),
            "jsonPath \"$.items[-4]\": index -4 is out of range: $.items has 3 elements");
  EXPECT_EQ(ErrorOf("$['weird key'].x"),
            "jsonPath \"$['weird key'].x\": $[\"weird key\"] is a string, not an object, so it "
            "has no field \"x\"");
  EXPECT_EQ(ErrorOf("$.items.value"),
            "jsonPath \"$.items.value\": $.items is a list, not an object, so it has no field "
            "\"value\"");
  EXPECT_EQ(ErrorOf("$.data[0]"),
            "jsonPath \"$.data[0]\": $.data is an object, not a list, so it has no [0]");
  EXPECT_EQ(ErrorOf("$.data.nothing.x"),
            "jsonPath \"$.data.nothing.x\": $.data.nothing is null, not an object, so it has no "
            "field \"x\"");
  EXPECT_EQ(ErrorOf("$.x", Value(1)),
            "jsonPath \"$.x\": $ is a number, not an object, so it has no field \"x\"");
}

TEST(JsonPathTest, SyntaxErrorsSayTheColumn) {
  EXPECT_EQ(ErrorOf(""),
            "jsonPath \"\": at column 1: the path is empty; select the whole answer "
            "with \"$\"");
  EXPECT_EQ(ErrorOf("{$.data.ok"),
            "jsonPath \"{$.data.ok\": at column 11: expected \"}\" to close the \"{\" at column 1");
  EXPECT_EQ(ErrorOf("$.data."),
            "jsonPath \"$.data.\": at column 8: expected a field name after \".\" but found the "
            "end of the path");
  EXPECT_EQ(ErrorOf("$.data.#"),
            "jsonPath \"$.data.#\": at column 8: expected a field name after \".\" but found "
            "\"#\"");
  EXPECT_EQ(ErrorOf("$data"),
            "jsonPath \"$data\": at column 2: expected \".\" or \"[\" but found \"d\"");
  EXPECT_EQ(ErrorOf("$.items[0"),
            "jsonPath \"$.items[0\": at column 10: expected \"]\" to close "
            "the \"[\" at column 8 but found the end of the path");
  EXPECT_EQ(ErrorOf("$.items[]"),
            "jsonPath \"$.items[]\": at column 9: expected an index or a "
            "quoted name after \"[\" but found \"]\"");
  EXPECT_EQ(ErrorOf("$['abc]"),
            "jsonPath \"$['abc]\": at column 3: unterminated name: no closing \"'\"");
  EXPECT_EQ(ErrorOf("$[-]"),
            "jsonPath \"$[-]\": at column 3: the index \"-\" is not a valid "
            "integer");
  EXPECT_THAT(ErrorOf("$[99999999999999999999]"), HasSubstr("is not a valid integer"));
  EXPECT_EQ(ErrorOf("$.a}"),
            "jsonPath \"$.a}\": at column 4: unexpected \"}\" without a \"{\" before it");
}

TEST(JsonPathTest, UnsupportedJsonPathIsNamed) {
  EXPECT_THAT(ErrorOf("{$.items[*].value}"),
              HasSubstr("at column 10: wildcards (\"[*]\") are not supported"));
  EXPECT_THAT(ErrorOf("$.data.*"), HasSubstr("at column 8: wildcards (\"*\") are not supported"));
  EXPECT_THAT(ErrorOf("$..value"),
              HasSubstr("at column 2: recursive descent (\"..\") is not supported"));
  EXPECT_THAT(ErrorOf("$.items[?(@.value > 1)]"),
              HasSubstr("at column 9: filters (\"[?(...)]\") are not supported"));
  EXPECT_THAT(ErrorOf("$.items[0:2]"),
              HasSubstr("at column 10: slices (\"[a:b]\") are not supported"));
  EXPECT_THAT(ErrorOf("$.items[0,1]"),
              HasSubstr("at column 10: unions (\"[a,b]\") are not supported"));
  EXPECT_THAT(ErrorOf("{.data.ok}{.data.rate}"),
              HasSubstr("at column 11: text after \"}\" is not supported"));
  EXPECT_THAT(ErrorOf("ok: {.data.ok}"), HasSubstr("at column 1: expected \".\" or \"[\""));
  EXPECT_THAT(ErrorOf("{range .items[*]}{.value}{end}"),
              HasSubstr("text after \"}\" is not supported"));
}

TEST(JsonPathTest, ValidateJsonPathChecksSyntaxOnly) {
  EXPECT_TRUE(ValidateJsonPath("{$.status.anything[3]['x']}").ok());
  const Status status = ValidateJsonPath("{$.items[*]}");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("jsonPath \"{$.items[*]}\": at column 10: wildcards"));
}

TEST(JsonPathTest, RefusesToCopyOutHostileNesting) {
  const Value deep = Value::parse(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_THAT(ErrorOf("$[0][0]", deep),
              HasSubstr("the selected value nests more than 256 levels deep"));
}

}  // namespace
}  // namespace gantry::analysis
