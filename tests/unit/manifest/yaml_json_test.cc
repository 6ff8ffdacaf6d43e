#include "operator/manifest/yaml_json.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace gantry::manifest {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

json One(std::string_view yaml) {
  Result<std::vector<YamlDocument>> docs = YamlToJson(yaml, "t.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
  if (!docs.ok() || docs->size() != 1) return json("<error>");
  return (*docs)[0].value;
}

std::string Error(std::string_view yaml, const YamlLimits& limits = {}) {
  Result<std::vector<YamlDocument>> docs = YamlToJson(yaml, "t.yaml", limits);
  EXPECT_FALSE(docs.ok());
  return docs.ok() ? "" : docs.status().message();
}

struct ScalarCase {
  std::string text;
  json want;
};

class PlainScalarTest : public ::testing::TestWithParam<ScalarCase> {};

TEST_P(PlainScalarTest, ResolvesLikeSigsK8sYaml) {
  const ScalarCase& c = GetParam();
  json got = One("v: " + c.text + "\n")["v"];
  EXPECT_EQ(got, c.want) << c.text << " gave " << got.dump();
  EXPECT_EQ(got.type(), c.want.type()) << c.text << " gave " << got.dump();
}

INSTANTIATE_TEST_SUITE_P(
    Yaml11, PlainScalarTest,
    ::testing::Values(
        // Booleans, including the YAML 1.1 words kubectl also turns into booleans.
        ScalarCase{"true", true}, ScalarCase{"False", false}, ScalarCase{"TRUE", true},
        ScalarCase{"yes", true}, ScalarCase{"No", false}, ScalarCase{"on", true},
        ScalarCase{"OFF", false}, ScalarCase{"y", true}, ScalarCase{"n", false},
        ScalarCase{"yEs", "yEs"}, ScalarCase{"truthy", "truthy"},
        // Null.
        ScalarCase{"~", nullptr}, ScalarCase{"null", nullptr}, ScalarCase{"NULL", nullptr},
        ScalarCase{"", nullptr}, ScalarCase{"nULL", "nULL"},
        // Integers.
        ScalarCase{"0", 0}, ScalarCase{"42", 42}, ScalarCase{"-17", -17}, ScalarCase{"+5", 5},
        ScalarCase{"1_000_000", 1000000}, ScalarCase{"0x1F", 31}, ScalarCase{"-0x10", -16},
        ScalarCase{"0o17", 15}, ScalarCase{"0777", 511}, ScalarCase{"0b101", 5},
        ScalarCase{"9223372036854775807", INT64_MAX}, ScalarCase{"-9223372036854775808", INT64_MIN},
        ScalarCase{"18446744073709551615", UINT64_MAX},
        // Floats; one with no fraction is an integer on the wire.
        ScalarCase{"1.5", 1.5}, ScalarCase{"-0.25", -0.25}, ScalarCase{".5", 0.5},
        ScalarCase{"1.0", 1}, ScalarCase{"1e3", 1000}, ScalarCase{"2.5e-1", 0.25},
        ScalarCase{"08", 8}, ScalarCase{"1e400", "1e400"}, ScalarCase{"99999999999999999999", 1e20},
        // Strings.
        ScalarCase{"hello world", "hello world"}, ScalarCase{"1.2.3", "1.2.3"},
        ScalarCase{"0x", "0x"}, ScalarCase{"+", "+"}, ScalarCase{"12:30:45", "12:30:45"},
        ScalarCase{"2024-01-15", "2024-01-15"},
        ScalarCase{"2024-01-15T10:00:00Z", "2024-01-15T10:00:00Z"}, ScalarCase{"500m", "500m"},
        ScalarCase{"256Mi", "256Mi"}, ScalarCase{"1Gi", "1Gi"}, ScalarCase{"v1", "v1"},
        ScalarCase{"<<", "<<"}, ScalarCase{".", "."}, ScalarCase{"Infinity", "Infinity"},
        ScalarCase{"NaN", "NaN"}));

TEST(ResolvePlainScalarTest, Direct) {
  EXPECT_EQ(*ResolvePlainScalar("-"), "-");
  EXPECT_EQ(*ResolvePlainScalar("-12"), -12);
  EXPECT_EQ(*ResolvePlainScalar("Yes"), true);
  EXPECT_THAT(ResolvePlainScalar(".NaN").status().message(), HasSubstr("not a number JSON"));
}

TEST(YamlToJsonTest, QuotedAndBlockScalarsAreStrings) {
  json v = One(R"(a: "true"
b: '42'
c: "null"
d: |
  line one
  line two
e: >
  folded
  text
f: ! 12
)");
  EXPECT_EQ(v["a"], "true");
  EXPECT_EQ(v["b"], "42");
  EXPECT_EQ(v["c"], "null");
  EXPECT_EQ(v["d"], "line one\nline two\n");
  EXPECT_EQ(v["e"], "folded text\n");
  EXPECT_EQ(v["f"], "12");
}

TEST(YamlToJsonTest, ExplicitTags) {
  json v = One(R"(s: !!str 123
i: !!int "12"
f: !!float 3
b: !!bool yes
n: !!null null
t: !!timestamp 2001-12-14
bin: !!binary aGVsbG8gd29ybGQ=
custom: !Ref some-value
)");
  EXPECT_EQ(v["s"], "123");
  EXPECT_EQ(v["i"], 12);
  EXPECT_EQ(v["f"], 3);
  EXPECT_EQ(v["b"], true);
  EXPECT_TRUE(v["n"].is_null());
  EXPECT_EQ(v["t"], "2001-12-14");
  EXPECT_EQ(v["bin"], "hello world");
  EXPECT_EQ(v["custom"], "some-value");
}

TEST(YamlToJsonTest, TagThatDoesNotFitIsAnError) {
  EXPECT_THAT(Error("a: 1\nb: !!int abc\n"),
              HasSubstr("t.yaml:2:4: cannot read \"abc\" as a !!int"));
  EXPECT_THAT(Error("b: !!int 1.5\n"), HasSubstr("as a !!int"));
  EXPECT_THAT(Error("b: !!bool maybe\n"), HasSubstr("as a !!bool"));
  EXPECT_THAT(Error("b: !!binary '%%%'\n"), HasSubstr("not valid base64"));
  EXPECT_THAT(Error("b: !!binary /w==\n"), HasSubstr("not UTF-8"));
}

TEST(YamlToJsonTest, NanAndInfinityAreErrors) {
  EXPECT_THAT(Error("replicas: .nan\n"), HasSubstr("t.yaml:1:11: \".nan\" is not a number JSON"));
  EXPECT_THAT(Error("x: -.Inf\n"), HasSubstr("-.Inf"));
}

TEST(YamlToJsonTest, KeysBecomeStrings) {
  json v = One("1: one\ntrue: yes\n1.5: x\nno: n\n\"quoted\": q\n");
  EXPECT_EQ(v["1"], "one");
  EXPECT_EQ(v["true"], true);
  EXPECT_EQ(v["1.5"], "x");
  EXPECT_EQ(v["false"], false);
  EXPECT_EQ(v["quoted"], "q");
}

TEST(YamlToJsonTest, BadKeysAreErrors) {
  EXPECT_THAT(Error("a: 1\n~: x\n"), HasSubstr("t.yaml:2:1: a mapping key is null"));
  EXPECT_THAT(Error("? [1, 2]\n: x\n"), HasSubstr("a mapping key is a sequence"));
  EXPECT_THAT(Error("? {a: 1}\n: x\n"), HasSubstr("a mapping key is a mapping"));
}

TEST(YamlToJsonTest, DuplicateKeyNamesBothLines) {
  EXPECT_THAT(Error("metadata:\n  name: a\n  labels: {}\n  name: b\n"),
              HasSubstr("t.yaml:4:3: duplicate key \"name\" (first at line 2)"));
  // Keys are compared after they become strings.
  EXPECT_THAT(Error("1: a\n\"1\": b\n"), HasSubstr("duplicate key \"1\""));
}

TEST(YamlToJsonTest, AnchorsAliasesAndMergeKeys) {
  json v = One(R"(base: &base
  image: nginx
  pull: Always
extra: &extra
  pull: IfNotPresent
  cpu: 1
plain: *base
merged:
  <<: *base
  image: httpd
several:
  pull: Never
  <<: [*extra, *base]
list: &l [1, 2]
again: *l
)");
  EXPECT_EQ(v["plain"], (json{{"image", "nginx"}, {"pull", "Always"}}));
  // Keys written in the mapping win, wherever they stand.
  EXPECT_EQ(v["merged"], (json{{"image", "httpd"}, {"pull", "Always"}}));
  // The first merge source wins over later ones.
  EXPECT_EQ(v["several"], (json{{"pull", "Never"}, {"cpu", 1}, {"image", "nginx"}}));
  EXPECT_EQ(v["again"], json::array({1, 2}));
}

TEST(YamlToJsonTest, QuotedMergeKeyIsAnOrdinaryKey) {
  json v = One("\"<<\": x\n");
  EXPECT_EQ(v["<<"], "x");
}

TEST(YamlToJsonTest, BadMergeSourceIsAnError) {
  EXPECT_THAT(Error("a:\n  <<: 5\n"), HasSubstr("t.yaml:2:7: merge key << needs a mapping"));
}

TEST(YamlToJsonTest, MultipleDocumentsWithLines) {
  Result<std::vector<YamlDocument>> docs = YamlToJson(R"(# leading comment
---
a: 1
---
---
# comment then content
b: 2
...
---
- x
)",
                                                      "t.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  ASSERT_EQ(docs->size(), 4u);
  EXPECT_EQ((*docs)[0].value, (json{{"a", 1}}));
  EXPECT_EQ((*docs)[0].line, 3);
  EXPECT_TRUE((*docs)[1].value.is_null());
  EXPECT_EQ((*docs)[2].value, (json{{"b", 2}}));
  EXPECT_EQ((*docs)[2].line, 7);
  EXPECT_TRUE((*docs)[3].value.is_array());
  EXPECT_EQ((*docs)[3].line, 10);
}

TEST(YamlToJsonTest, ItemLinesOfAList) {
  Result<std::vector<YamlDocument>> docs = YamlToJson(R"(apiVersion: v1
kind: List
items:
  - kind: A
    x: 1
  # a comment
  - kind: B
  - {kind: C}
)",
                                                      "t.yaml");
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  EXPECT_THAT((*docs)[0].item_lines, ::testing::ElementsAre(4, 7, 8));
}

TEST(YamlToJsonTest, SyntaxErrorNamesFileLineAndColumn) {
  EXPECT_EQ(Error("a: 1\nb: [1, 2\nc: 3\n"), "t.yaml:3:2: end of sequence flow not found");
  EXPECT_EQ(Error("a: b: c\n"), "t.yaml:1:5: illegal map value");
  EXPECT_EQ(Error("a: 1\n\tb: 2\n"), "t.yaml:2:1: illegal tab when looking for indentation");
  EXPECT_EQ(Error("a: &x 1\nb: *y\n"), "t.yaml:2:4: the referenced anchor is not defined");
}

TEST(YamlToJsonTest, UnterminatedQuoteIsAnError) {
  EXPECT_EQ(Error("a: 1\nb: 'unterminated\nc: 2\n"),
            "t.yaml:2:4: unterminated quoted string: no closing ' before the end of the file");
  EXPECT_THAT(Error("a: !!str &x \"open \\\" still open\n"), HasSubstr("no closing \""));
  json v = One("a: 'it''s'\nb: \"say \\\"hi\\\"\"\nc: !!str &y 'x'\n");
  EXPECT_EQ(v["a"], "it's");
  EXPECT_EQ(v["b"], "say \"hi\"");
  EXPECT_EQ(v["c"], "x");
}

TEST(YamlToJsonTest, DeepNestingIsRefusedWithoutCrashing) {
  EXPECT_THAT(Error(std::string(100000, '[')), HasSubstr("nesting is deeper than 100 levels"));
  EXPECT_THAT(Error(std::string(100000, '{')), HasSubstr("nesting is deeper than 100 levels"));
  std::string block;
  for (int i = 0; i < 5000; ++i) block += "- ";
  EXPECT_THAT(Error(block + "x\n"), HasSubstr("nesting is deeper than 100 levels"));
  std::string ok = std::string(99, '[') + std::string(99, ']');
  Result<std::vector<YamlDocument>> docs = YamlToJson(ok, "t.yaml");
  EXPECT_TRUE(docs.ok()) << docs.status().message();
}

TEST(YamlToJsonTest, AliasBombIsRefused) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb += fmt::format("{0}: &{0} [*{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}]\n",
                        c, prev);
    prev = c;
  }
  EXPECT_THAT(Error(bomb), HasSubstr("expands to more than 1000000 values"));
}

TEST(YamlToJsonTest, RecursiveAliasIsAnError) {
  EXPECT_THAT(Error("a: &a [1, *a]\n"), HasSubstr("not complete yet"));
}

TEST(YamlToJsonTest, InvalidUtf8IsAnError) {
  EXPECT_THAT(Error("a: \"\xff\xfe\"\n"), HasSubstr("not valid UTF-8"));
}

TEST(YamlToJsonTest, Utf8BomAndUnicodeText) {
  json v = One("\xEF\xBB\xBFname: caf\xC3\xA9 \xE2\x9C\x93\n");
  EXPECT_EQ(v["name"], "caf\xC3\xA9 \xE2\x9C\x93");
}

TEST(YamlToJsonTest, EmptyInputHasNoDocuments) {
  Result<std::vector<YamlDocument>> docs = YamlToJson("", "t.yaml");
  ASSERT_TRUE(docs.ok());
  EXPECT_TRUE(docs->empty());
}

TEST(Utf8Test, Validates) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

TEST(JsonNumberTest, IntegralDoublesBecomeIntegers) {
  EXPECT_TRUE(JsonNumberFromDouble(3.0).is_number_integer());
  EXPECT_TRUE(JsonNumberFromDouble(3.5).is_number_float());
  EXPECT_TRUE(JsonNumberFromDouble(1e300).is_number_float());
  EXPECT_EQ(JsonNumberFromDouble(-2.0).dump(), "-2");
}

}  // namespace
}  // namespace gantry::manifest
