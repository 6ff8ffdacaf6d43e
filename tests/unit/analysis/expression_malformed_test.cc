// Fuzz-style unit tests of the condition parser: malformed text, made deterministically from
// valid conditions (every truncation, every deletion, random mutations) and from random token
// soup. Whatever the text, ParseExpression returns a value: an expression that evaluates
// without crashing against every kind of result, or an InvalidArgument that says where (a
// column inside the text) or which limit was hit. The libFuzzer target
// tests/fuzz/analysis/fuzz_expression explores further; this runs in every `make test`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "operator/analysis/expression.h"

namespace gantry::analysis {
namespace {

// Conditions as users write them, and some that exercise every part of the grammar.
const std::vector<std::string>& Seeds() {
  static const auto* seeds = new std::vector<std::string>{
      "result[0] >= 0.95 && !isNaN(result[0])",
      "len(result) == 0 || default(result[0], 0) < 5",
      "result.status == \"ok\" and asInt(result.code) == 200",
      "result[-1] * 100 / (result[0] + 1e-3) <= 2.5E+1",
      "not (result.data['weird key'] != nil) or result.items[2].value > -1",
      "asFloat('0.5') + 1 == 1.5 && 'a\\u00e9\\n\\'' + \"x\" != \"\"",
      "isInf(result[0] / 0) || isNaN(0 / 0)",
      "default(result.missing, true) == true",
      "(((1)))",
      "'\xC3\xA9t\xC3\xA9' < result.name",
  };
  return *seeds;
}

// Results of every kind, for evaluating whatever parses.
const std::vector<Value>& Results() {
  static const auto* results = new std::vector<Value>{
      Value(nullptr),
      Value(true),
      Value(0.97),
      Value(std::numeric_limits<double>::quiet_NaN()),
      Value(-std::numeric_limits<double>::infinity()),
      Value("0.5"),
      Value::array(),
      Value::array({0.1, 0.2, std::numeric_limits<double>::quiet_NaN()}),
      Value::parse(R"({"status":"ok","code":"200","data":{"weird key":1},
                       "items":[{"value":1},{"value":2},{"value":3}],"name":"api"})"),
  };
  return *results;
}

// Checks the contract on one text; returns a description of a breach, or "".
std::string Check(const std::string& text) {
  Result<std::unique_ptr<Expression>> parsed = ParseExpression(text);
  if (!parsed.ok()) {
    const Status& s = parsed.status();
    if (s.code() != StatusCode::kInvalidArgument) return "parse: code " + s.ToString();
    if (s.message().find("nests more than") != std::string::npos ||
        s.message().find("bytes long; the limit is") != std::string::npos) {
      return "";
    }
    static const std::regex kAtColumn("^at column ([0-9]+): .+");
    std::smatch m;
    if (!std::regex_match(s.message(), m, kAtColumn)) return "parse: message " + s.message();
    const size_t column = std::stoul(m[1].str());
    if (column < 1 || column > CountCharacters(text) + 1) {
      return "parse: column " + m[1].str() + " outside the text: " + s.message();
    }
    return "";
  }
  if ((*parsed)->source() != text) return "source() differs from the text";
  for (const Value& result : Results()) {
    Result<Value> value = (*parsed)->Evaluate(result);
    if (!value.ok() && value.status().code() != StatusCode::kInvalidArgument) {
      return "evaluate: " + value.status().ToString();
    }
    Result<bool> condition = (*parsed)->EvaluateCondition(result);
    if (!condition.ok() && condition.status().code() != StatusCode::kInvalidArgument) {
      return "condition: " + condition.status().ToString();
    }
    // A value that is a boolean is the condition's answer, and nothing else is.
    if (value.ok() && value->is_boolean() != condition.ok()) {
      return "Evaluate gave " + FormatValue(*value) + " but EvaluateCondition " +
             (condition.ok() ? "accepted it" : condition.status().message());
    }
  }
  return "";
}

std::string Printable(const std::string& text) { return QuoteText(text); }

TEST(MalformedExpressionTest, SeedsParse) {
  for (const std::string& seed : Seeds()) {
    EXPECT_TRUE(ParseExpression(seed).ok()) << seed;
    EXPECT_EQ(Check(seed), "") << seed;
  }
}

TEST(MalformedExpressionTest, EveryTruncationAndDeletion) {
  int failures_found = 0;
  for (const std::string& seed : Seeds()) {
    for (size_t i = 0; i <= seed.size(); ++i) {
      const std::string prefix = seed.substr(0, i);
      const std::string deleted = seed.substr(0, i) + (i < seed.size() ? seed.substr(i + 1) : "");
      for (const std::string& text : {prefix, deleted}) {
        if (!ParseExpression(text).ok()) ++failures_found;
        const std::string breach = Check(text);
        ASSERT_EQ(breach, "") << "text " << Printable(text) << " from " << Printable(seed);
      }
    }
  }
  // Most truncations of a valid condition are invalid: the check above saw real errors.
  EXPECT_GT(failures_found, 100);
}

TEST(MalformedExpressionTest, RandomMutationsOfValidConditions) {
  // Characters that matter to the lexer, bytes that are not UTF-8, and plain letters.
  static const std::string kAlphabet =
      std::string("()[]{}.,'\"\\!&|=<>+-*/ 0123456789eEaxnrt_#$\t\n") + '\0' + "\xC3\xA9\xFF\x80";
  std::mt19937 rng(20261129);  // fixed: a failure reproduces
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int parsed = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = Seeds()[pick(Seeds().size())];
    const size_t edits = 1 + pick(4);
    for (size_t e = 0; e < edits; ++e) {
      const size_t at = text.empty() ? 0 : pick(text.size() + 1);
      switch (pick(4)) {
        case 0:  // insert
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at),
                      kAlphabet[pick(kAlphabet.size())]);
          break;
        case 1:  // delete
          if (at < text.size()) text.erase(at, 1);
          break;
        case 2:  // replace
          if (at < text.size()) text[at] = kAlphabet[pick(kAlphabet.size())];
          break;
        default:  // duplicate a slice: unbalanced brackets, doubled operators
          if (at < text.size()) {
            const size_t len = 1 + pick(std::min<size_t>(8, text.size() - at));
            text.insert(at, text.substr(at, len));
          }
          break;
      }
    }
    ParseExpression(text).ok() ? ++parsed : ++refused;
    const std::string breach = Check(text);
    ASSERT_EQ(breach, "") << "iteration " << i << ": " << Printable(text);
  }
  EXPECT_GT(parsed, 0);
  EXPECT_GT(refused, 10000);
}

TEST(MalformedExpressionTest, RandomTokenSoup) {
  static const std::vector<std::string> kTokens = {
      "result",  "[",     "]",           "(",        ")",   ".",    "len",  "isNaN",
      "default", ",",     "&&",          "||",       "!",   "and",  "or",   "not",
      "==",      "!=",    "<=",          ">",        "+",   "-",    "*",    "/",
      "0",       "-1",    "1e308",       "1e",       "2.",  "'",    "\"",   "'a'",
      "\"\\u",   "\\",    "nil",         "true",     " ",   "x",    "\xC3", "asInt",
      "asFloat", "isInf", "\"\\ud800\"", "result.a", "[0]", "1e999"};
  std::mt19937 rng(6);
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    const size_t n = std::uniform_int_distribution<size_t>(0, 40)(rng);
    for (size_t t = 0; t < n; ++t) {
      text += kTokens[std::uniform_int_distribution<size_t>(0, kTokens.size() - 1)(rng)];
    }
    const std::string breach = Check(text);
    ASSERT_EQ(breach, "") << "iteration " << i << ": " << Printable(text);
  }
}

TEST(MalformedExpressionTest, LongAndDeepGarbageHitsTheLimitsNotTheStack) {
  std::mt19937 rng(42);
  const std::string kOpeners = "([!-";
  for (int i = 0; i < 200; ++i) {
    std::string text;
    const size_t n = std::uniform_int_distribution<size_t>(50, 5000)(rng);
    for (size_t c = 0; c < n; ++c) {
      text += kOpeners[std::uniform_int_distribution<size_t>(0, kOpeners.size() - 1)(rng)];
    }
    text += "result";
    const std::string breach = Check(text);
    ASSERT_EQ(breach, "") << "length " << text.size();
    EXPECT_FALSE(ParseExpression(text).ok()) << "length " << text.size();
  }
}

}  // namespace
}  // namespace gantry::analysis
