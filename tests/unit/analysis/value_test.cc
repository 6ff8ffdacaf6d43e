#include "operator/analysis/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace gantry::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(FormatValueTest, NumbersReadBackExactlyAndSpellNaNAndInfLikePrometheus) {
  EXPECT_EQ(FormatValue(Value(0.95)), "0.95");
  EXPECT_EQ(FormatValue(Value(3.0)), "3");
  EXPECT_EQ(FormatValue(Value(-2)), "-2");
  EXPECT_EQ(FormatValue(Value(18446744073709551615u)), "18446744073709551615");
  EXPECT_EQ(FormatValue(Value(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(FormatValue(Value(1e21)), "1e+21");
  EXPECT_EQ(FormatValue(Value(kNaN)), "NaN");
  EXPECT_EQ(FormatValue(Value(kInf)), "+Inf");
  EXPECT_EQ(FormatValue(Value(-kInf)), "-Inf");
}

TEST(FormatValueTest, ScalarsListsAndObjects) {
  EXPECT_EQ(FormatValue(Value(nullptr)), "null");
  EXPECT_EQ(FormatValue(Value(true)), "true");
  EXPECT_EQ(FormatValue(Value("ok")), "\"ok\"");
  EXPECT_EQ(FormatValue(Value::array({0.5, kNaN, "x"})), "[0.5,NaN,\"x\"]");
  EXPECT_EQ(FormatValue(Value::array()), "[]");
  EXPECT_EQ(FormatValue(Value{{"a", 1}, {"b", Value::array({true})}}), "{\"a\":1,\"b\":[true]}");
}

TEST(FormatValueTest, EscapesStringsAndReplacesInvalidUtf8) {
  EXPECT_EQ(FormatValue(Value("a\"b\\c\nd\x01")), "\"a\\\"b\\\\c\\nd\\u0001\"");
  EXPECT_EQ(FormatValue(Value("caf\xC3\xA9")), "\"caf\xC3\xA9\"");
  EXPECT_EQ(FormatValue(Value("bad\xFF\xC3")), "\"bad\xEF\xBF\xBD\xEF\xBF\xBD\"");
  // An overlong encoding and a UTF-16 surrogate are not well-formed UTF-8 either.
  EXPECT_EQ(FormatValue(Value("\xC0\xAF")), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(FormatValue(Value("\xED\xA0\x80")), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(FormatValueTest, CutsLongOutputAtACharacterBoundary) {
  Value list = Value::array();
  for (int i = 0; i < 1000; ++i) list.push_back(i);
  const std::string text = FormatValue(list, 20);
  EXPECT_EQ(text, "[0,1,2,3,4,5,6,7,8,9...");
  // "é" is two bytes; a cut after one of them backs up to before it.
  EXPECT_EQ(FormatValue(Value("\xC3\xA9\xC3\xA9"), 4), "\"\xC3\xA9...");
}

TEST(FormatValueTest, DeepNestingPrintsAnEllipsisInsteadOfRecursingForever) {
  Value deep = 1;
  for (size_t i = 0; i < kMaxValueDepth + 10; ++i) deep = Value::array({std::move(deep)});
  const std::string text = FormatValue(deep);
  EXPECT_NE(text.find("[...]"), std::string::npos);
  EXPECT_EQ(text.find('1'), std::string::npos);
}

TEST(QuoteTextTest, QuotesEscapesAndCuts) {
  EXPECT_EQ(QuoteText("plain"), "\"plain\"");
  EXPECT_EQ(QuoteText("tab\there"), "\"tab\\there\"");
  EXPECT_EQ(QuoteText("abcdef", 3), "\"abc\"...");
  EXPECT_EQ(QuoteText("\x7f"), "\"\\u007f\"");
}

TEST(PrintableTextTest, ReplacesControlCharactersAndInvalidUtf8) {
  EXPECT_EQ(PrintableText("line one\nline\ttwo"), "line one line two");
  EXPECT_EQ(PrintableText("ok \"quoted\" caf\xC3\xA9"), "ok \"quoted\" caf\xC3\xA9");
  EXPECT_EQ(PrintableText("bad\xFF"), "bad\xEF\xBF\xBD");
  EXPECT_EQ(PrintableText("abcdef", 3), "abc...");
  EXPECT_EQ(PrintableText("\xC3\xA9\xC3\xA9", 3), "\xC3\xA9...");
  EXPECT_EQ(QuoteText("\xC3\xA9\xC3\xA9", 3), "\"\xC3\xA9\"...");
}

TEST(CountCharactersTest, CountsCodePointsAndInvalidBytesOneEach) {
  EXPECT_EQ(CountCharacters(""), 0u);
  EXPECT_EQ(CountCharacters("abc"), 3u);
  EXPECT_EQ(CountCharacters("caf\xC3\xA9"), 4u);
  EXPECT_EQ(CountCharacters("\xF0\x9F\x98\x80"), 1u);  // one emoji, four bytes
  EXPECT_EQ(CountCharacters("\xFF\xFE"), 2u);
}

TEST(NestsDeeperThanTest, CountsLevelsOfListsAndObjects) {
  EXPECT_FALSE(NestsDeeperThan(Value(1), 0));
  EXPECT_TRUE(NestsDeeperThan(Value::array(), 0));
  EXPECT_FALSE(NestsDeeperThan(Value::array(), 1));
  const Value nested = {{"a", Value::array({Value::array({1})})}, {"b", 2}};
  EXPECT_FALSE(NestsDeeperThan(nested, 3));
  EXPECT_TRUE(NestsDeeperThan(nested, 2));
}

TEST(NestsDeeperThanTest, HandlesDocumentsFarDeeperThanTheStackCouldRecurse) {
  const std::string text = std::string(200000, '[') + std::string(200000, ']');
  const Value deep = Value::parse(text);
  EXPECT_TRUE(NestsDeeperThan(deep, kMaxValueDepth));
  EXPECT_FALSE(NestsDeeperThan(deep, 200000));
}

TEST(ParseFloatTest, AcceptsWhatGoParseFloatAcceptsForPlainDecimals) {
  EXPECT_EQ(ParseFloat("0.95"), 0.95);
  EXPECT_EQ(ParseFloat("-3"), -3.0);
  EXPECT_EQ(ParseFloat("+3"), 3.0);
  EXPECT_EQ(ParseFloat("1e3"), 1000.0);
  EXPECT_EQ(ParseFloat("2.5E-1"), 0.25);
  EXPECT_EQ(ParseFloat(".5"), 0.5);
  EXPECT_EQ(ParseFloat("5."), 5.0);
  EXPECT_EQ(ParseFloat("+Inf"), kInf);
  EXPECT_EQ(ParseFloat("-Inf"), -kInf);
  EXPECT_EQ(ParseFloat("inf"), kInf);
  EXPECT_EQ(ParseFloat("Infinity"), kInf);
  ASSERT_TRUE(ParseFloat("NaN").has_value());
  EXPECT_TRUE(std::isnan(*ParseFloat("NaN")));
  EXPECT_TRUE(std::isnan(*ParseFloat("nan")));
}

TEST(ParseFloatTest, RefusesEverythingElse) {
  for (const char* text : {"", " 1", "1 ", "abc", "1,5", "0x10", "+-1", "-NaN", "1e", "e5", "--1",
                           "nan(1)", "1e400", "Inff", "+", "."}) {
    EXPECT_FALSE(ParseFloat(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace gantry::analysis
