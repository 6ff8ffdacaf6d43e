#include "operator/analysis/expression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace gantry::analysis {
namespace {

using ::testing::HasSubstr;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A result shaped like what the web provider returns, used by most cases below.
const Value& Document() {
  static const Value* document = new Value(Value::parse(R"({
    "data": {"ok": true, "rate": 0.97, "count": 12, "name": "api", "code": "200",
             "ratio": "0.5", "empty": "", "nothing": null, "weird key": 7},
    "items": [{"value": 1}, {"value": 2}, {"value": 3}],
    "none": []
  })"));
  return *document;
}

Result<Value> Eval(std::string_view source, const Value& result) {
  Result<std::unique_ptr<Expression>> expression = ParseExpression(source);
  if (!expression.ok()) return expression.status();
  return (*expression)->Evaluate(result);
}

Result<bool> Condition(std::string_view source, const Value& result) {
  Result<std::unique_ptr<Expression>> expression = ParseExpression(source);
  if (!expression.ok()) return expression.status();
  return (*expression)->EvaluateCondition(result);
}

std::string ParseError(std::string_view source) {
  Result<std::unique_ptr<Expression>> expression = ParseExpression(source);
  if (expression.ok()) return "parsed fine";
  EXPECT_EQ(expression.status().code(), StatusCode::kInvalidArgument);
  return expression.status().message();
}

std::string EvalError(std::string_view source, const Value& result) {
  Result<Value> value = Eval(source, result);
  if (value.ok()) return "evaluated to " + FormatValue(*value);
  EXPECT_EQ(value.status().code(), StatusCode::kInvalidArgument);
  return value.status().message();
}

struct ValueCase {
  std::string source;
  Value result;
  Value expected;
};

class EvaluatesTo : public ::testing::TestWithParam<ValueCase> {};

TEST_P(EvaluatesTo, Value) {
  const ValueCase& c = GetParam();
  Result<Value> value = Eval(c.source, c.result);
  ASSERT_TRUE(value.ok()) << c.source << ": " << value.status().ToString();
  if (c.expected.is_number_float() && std::isnan(c.expected.get<double>())) {
    ASSERT_TRUE(value->is_number()) << c.source;
    EXPECT_TRUE(std::isnan(value->get<double>())) << c.source << " = " << FormatValue(*value);
  } else {
    EXPECT_EQ(*value, c.expected) << c.source << " = " << FormatValue(*value);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Literals, EvaluatesTo,
    ::testing::Values(ValueCase{"1", nullptr, 1.0}, ValueCase{"2.5", nullptr, 2.5},
                      ValueCase{"1e3", nullptr, 1000.0}, ValueCase{"1E-2", nullptr, 0.01},
                      ValueCase{"\"a\\\"b\"", nullptr, "a\"b"},
                      ValueCase{"'it\\'s'", nullptr, "it's"},
                      ValueCase{"'say \"hi\"'", nullptr, "say \"hi\""},
                      ValueCase{R"("\u00e9\n\t")", nullptr, "\xC3\xA9\n\t"},
                      ValueCase{R"("\ud83d\ude00")", nullptr, "\xF0\x9F\x98\x80"},
                      ValueCase{"true", nullptr, true}, ValueCase{"false", nullptr, false},
                      ValueCase{"null", 1, nullptr}, ValueCase{"nil", 1, nullptr},
                      ValueCase{"  result  ", 0.5, 0.5}));

INSTANTIATE_TEST_SUITE_P(
    Access, EvaluatesTo,
    ::testing::Values(ValueCase{"result[0]", Value::array({0.97, 0.5}), 0.97},
                      ValueCase{"result[1]", Value::array({0.97, 0.5}), 0.5},
                      ValueCase{"result[-1]", Value::array({0.97, 0.5}), 0.5},
                      ValueCase{"result[1 + 0]", Value::array({0.97, 0.5}), 0.5},
                      ValueCase{"result.data.rate", Document(), 0.97},
                      ValueCase{"result[\"data\"]['weird key']", Document(), 7},
                      ValueCase{"result.items[2].value", Document(), 3},
                      ValueCase{"result.data.nothing", Document(), nullptr},
                      ValueCase{"result.none", Document(), Value::array()},
                      ValueCase{"result.items[0]", Document(), Value{{"value", 1}}},
                      // Keywords are fine as field names.
                      ValueCase{"result.not.true", Value{{"not", {{"true", 5}}}}, 5}));

INSTANTIATE_TEST_SUITE_P(
    Arithmetic, EvaluatesTo,
    ::testing::Values(ValueCase{"1 + 2 * 3", nullptr, 7.0}, ValueCase{"(1 + 2) * 3", nullptr, 9.0},
                      ValueCase{"10 - 4 - 3", nullptr, 3.0}, ValueCase{"8 / 4 / 2", nullptr, 1.0},
                      ValueCase{"-result", 2, -2.0}, ValueCase{"- -3", nullptr, 3.0},
                      ValueCase{"+4", nullptr, 4.0}, ValueCase{"-2 * -2", nullptr, 4.0},
                      ValueCase{"1 / 0", nullptr, kInf}, ValueCase{"-1 / 0", nullptr, -kInf},
                      ValueCase{"1 / -0", nullptr, -kInf}, ValueCase{"0 / 0", nullptr, kNaN},
                      ValueCase{"result / 0", kNaN, kNaN}, ValueCase{"result - result", kInf, kNaN},
                      ValueCase{"'ab' + \"cd\"", nullptr, "abcd"},
                      ValueCase{"result.data.rate * 100", Document(), 97.0}));

INSTANTIATE_TEST_SUITE_P(
    Functions, EvaluatesTo,
    ::testing::Values(
        ValueCase{"len(result)", Value::array({1, 2, 3}), 3.0},
        ValueCase{"len(result)", Value::array(), 0.0},
        ValueCase{"len(result)", Value{{"a", 1}, {"b", 2}}, 2.0},
        ValueCase{"len(result)", "caf\xC3\xA9", 4.0}, ValueCase{"len('')", nullptr, 0.0},
        ValueCase{"isNaN(result)", kNaN, true}, ValueCase{"isNaN(result)", 1, false},
        ValueCase{"isInf(result)", kInf, true}, ValueCase{"isInf(result)", -kInf, true},
        ValueCase{"isInf(result)", kNaN, false},
        ValueCase{"default(result[0], 0)", Value::array(), 0.0},
        ValueCase{"default(result[0], 0)", Value::array({0.4}), 0.4},
        ValueCase{"default(result.data.nothing, 'x')", Document(), "x"},
        ValueCase{"default(result.data.missing, 'x')", Document(), "x"},
        ValueCase{"default(result.absent.deeper[3].still, 1)", Document(), 1.0},
        ValueCase{"default(result.data.empty, 'x')", Document(), ""},
        ValueCase{"default(result, 1)", nullptr, 1.0},
        // NaN is a number, not an absent value: default keeps it.
        ValueCase{"default(result, 1)", kNaN, kNaN},
        ValueCase{"asFloat(result.data.ratio)", Document(), 0.5},
        ValueCase{"asFloat('NaN')", nullptr, kNaN}, ValueCase{"asFloat('+Inf')", nullptr, kInf},
        ValueCase{"asFloat(2)", nullptr, 2.0},
        ValueCase{"asInt(result.data.code)", Document(), 200.0},
        ValueCase{"asInt('-7')", nullptr, -7.0}, ValueCase{"asInt('+7')", nullptr, 7.0},
        ValueCase{"asInt(2.9)", nullptr, 2.0}, ValueCase{"asInt(-2.9)", nullptr, -2.0}));

struct ConditionCase {
  std::string source;
  Value result;
  bool expected;
};

class ConditionHolds : public ::testing::TestWithParam<ConditionCase> {};

TEST_P(ConditionHolds, Value) {
  const ConditionCase& c = GetParam();
  Result<bool> holds = Condition(c.source, c.result);
  ASSERT_TRUE(holds.ok()) << c.source << ": " << holds.status().ToString();
  EXPECT_EQ(*holds, c.expected) << c.source << " with result " << FormatValue(c.result);
}

INSTANTIATE_TEST_SUITE_P(
    Comparisons, ConditionHolds,
    ::testing::Values(
        // A Prometheus vector is a list even with one series.
        ConditionCase{"result[0] >= 0.95", Value::array({0.97}), true},
        ConditionCase{"result[0] >= 0.95", Value::array({0.90}), false},
        ConditionCase{"result >= 0.95", 0.95, true}, ConditionCase{"result > 0.95", 0.95, false},
        ConditionCase{"result < 1", 0.5, true}, ConditionCase{"result <= 0.5", 0.5, true},
        ConditionCase{"result == 3", 3, true}, ConditionCase{"result != 3", 3, false},
        ConditionCase{"result == 'ok'", "ok", true}, ConditionCase{"result != 'ok'", "no", true},
        ConditionCase{"'abc' < 'abd'", nullptr, true}, ConditionCase{"'b' > 'abc'", nullptr, true},
        ConditionCase{"'a' <= 'a'", nullptr, true}, ConditionCase{"'a' >= 'b'", nullptr, false},
        ConditionCase{"result == true", true, true}, ConditionCase{"result != false", true, true},
        ConditionCase{"result.data.ok", Document(), true},
        // NaN: every ordering and == are false, != is true.
        ConditionCase{"result < 1", kNaN, false}, ConditionCase{"result >= 1", kNaN, false},
        ConditionCase{"result <= 1", kNaN, false}, ConditionCase{"result > 1", kNaN, false},
        ConditionCase{"result == result", kNaN, false},
        ConditionCase{"result != result", kNaN, true},
        ConditionCase{"result[0] > 5", Value::array({kInf}), true},
        ConditionCase{"result < 0", -kInf, true},
        // null and missing are equal to each other and unequal to everything else.
        ConditionCase{"result == null", nullptr, true},
        ConditionCase{"result == nil", nullptr, true},
        ConditionCase{"result.data.nothing == null", Document(), true},
        ConditionCase{"result.data.absent == null", Document(), true},
        ConditionCase{"result.data.absent != 1", Document(), true},
        ConditionCase{"result[5] == null", Value::array({1}), true},
        ConditionCase{"result == 0", nullptr, false}, ConditionCase{"'' != null", nullptr, true}));

INSTANTIATE_TEST_SUITE_P(
    Logic, ConditionHolds,
    ::testing::Values(
        ConditionCase{"true && false", nullptr, false},
        ConditionCase{"true || false", nullptr, true},
        ConditionCase{"true and true", nullptr, true},
        ConditionCase{"false or true", nullptr, true}, ConditionCase{"!true", nullptr, false},
        ConditionCase{"!!true", nullptr, true}, ConditionCase{"not false", nullptr, true},
        ConditionCase{"true || false && false", nullptr, true},
        ConditionCase{"(true || false) && false", nullptr, false},
        ConditionCase{"1 < 2 == true", nullptr, true},
        // Short circuit: the right side would be an error if evaluated.
        ConditionCase{"len(result) > 0 && result[0] > 1", Value::array(), false},
        ConditionCase{"len(result) == 0 || result[0] > 1", Value::array(), true},
        ConditionCase{"false && 'not a bool'", nullptr, false},
        ConditionCase{"true or result.x.y > 1", nullptr, true},
        ConditionCase{"len(result) == 0", Value::array(), true},
        ConditionCase{"default(result[0], 0) < 5", Value::array(), true},
        ConditionCase{"result.data.count > 10 and result.data.name == 'api'", Document(), true},
        ConditionCase{"asInt(result.data.code) == 200", Document(), true},
        ConditionCase{"result[0] >= 0.95 && !isNaN(result[0])", Value::array({kNaN}), false}));

TEST(ExpressionTest, NotBindsTighterThanComparison) {
  // As in expr: `not result == 1` is `(not result) == 1`, which compares a boolean with a
  // number.
  EXPECT_THAT(EvalError("not result == 1", true),
              HasSubstr("cannot compare boolean false with number 1"));
}

TEST(ExpressionTest, ParsesOnceAndEvaluatesManyTimes) {
  Result<std::unique_ptr<Expression>> expression = ParseExpression("result[0] >= 0.95");
  ASSERT_TRUE(expression.ok());
  EXPECT_EQ((*expression)->source(), "result[0] >= 0.95");
  for (int i = 0; i < 100; ++i) {
    const double value = i / 100.0;
    Result<bool> holds = (*expression)->EvaluateCondition(Value::array({value}));
    ASSERT_TRUE(holds.ok());
    EXPECT_EQ(*holds, value >= 0.95);
  }
}

TEST(ExpressionTest, EvaluatesConcurrently) {
  Result<std::unique_ptr<Expression>> expression =
      ParseExpression("default(result.items[1].value, 0) * 2 == 4 && len(result.items) == 3");
  ASSERT_TRUE(expression.ok());
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        Result<bool> holds = (*expression)->EvaluateCondition(Document());
        if (!holds.ok() || !*holds) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(ExpressionTest, ResultNeedNotOutliveTheCall) {
  Result<std::unique_ptr<Expression>> expression = ParseExpression("result.items");
  ASSERT_TRUE(expression.ok());
  Result<Value> value = [&] {
    Value temporary = Document();
    return (*expression)->Evaluate(temporary);
  }();
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(value->size(), 3u);
}

// ---- Parse errors: the column (1-based, in characters) and what was expected.

TEST(ParseErrorTest, SaysColumnAndWhatWasExpected) {
  EXPECT_EQ(ParseError("len(result"),
            "at column 11: expected \",\" or \")\" but found end of input");
  EXPECT_EQ(ParseError("(result[0] > 1"), "at column 15: expected \")\" but found end of input");
  EXPECT_EQ(ParseError("result[0"), "at column 9: expected \"]\" but found end of input");
  EXPECT_EQ(ParseError(""), "at column 1: expected a value but found end of input");
  EXPECT_EQ(ParseError("   "), "at column 4: expected a value but found end of input");
  EXPECT_EQ(ParseError("result >"), "at column 9: expected a value but found end of input");
  EXPECT_EQ(ParseError("result > > 1"), "at column 10: expected a value but found \">\"");
  EXPECT_EQ(ParseError("result 1"),
            "at column 8: expected an operator or the end but found number 1");
  EXPECT_EQ(ParseError("result )"), "at column 8: expected an operator or the end but found \")\"");
  EXPECT_EQ(ParseError("result."),
            "at column 8: expected a field name after \".\" but found end "
            "of input");
  EXPECT_EQ(ParseError("result.0"),
            "at column 8: expected a field name after \".\" (index lists "
            "with [i]) but found number 0");
  EXPECT_EQ(ParseError("len result"), "at column 5: expected \"(\" after len but found \"result\"");
  EXPECT_EQ(ParseError("result and"), "at column 11: expected a value but found end of input");
  EXPECT_EQ(ParseError("and"), "at column 1: expected a value but found \"and\"");
  EXPECT_EQ(ParseError("f(1,)"),
            "at column 1: unknown function \"f\"; the functions are len, "
            "isNaN, isInf, default, asFloat and asInt");
  EXPECT_EQ(ParseError("len(1,)"), "at column 7: expected a value but found \")\"");
}

TEST(ParseErrorTest, ColumnsCountCharactersNotBytes) {
  EXPECT_EQ(ParseError("'\xC3\xA9\xC3\xA9' == result)"),
            "at column 15: expected an operator or the end but found \")\"");
}

TEST(ParseErrorTest, UnknownNamesAndWrongArgumentCounts) {
  EXPECT_EQ(ParseError("reslt > 1"),
            "at column 1: unknown name \"reslt\"; a condition can use result, true, false, null "
            "and the functions len, isNaN, isInf, default, asFloat and asInt");
  EXPECT_THAT(ParseError("result > 1 && sum(result) > 2"),
              HasSubstr("at column 15: unknown function \"sum\""));
  EXPECT_EQ(ParseError("len(result, 1)"), "at column 1: len takes 1 argument but was given 2");
  EXPECT_EQ(ParseError("1 + default(result)"),
            "at column 5: default takes 2 arguments but was given 1");
  EXPECT_EQ(ParseError("isNaN()"), "at column 1: isNaN takes 1 argument but was given 0");
}

TEST(ParseErrorTest, LexicalErrors) {
  EXPECT_EQ(ParseError("result = 1"), "at column 8: unexpected \"=\"; compare with \"==\"");
  EXPECT_EQ(ParseError("a & b"),
            "at column 3: unexpected \"&\"; the logical and is \"&&\" (or "
            "\"and\")");
  EXPECT_EQ(ParseError("true | false"),
            "at column 6: unexpected \"|\"; the logical or is \"||\" "
            "(or \"or\")");
  EXPECT_EQ(ParseError("result # 1"), "at column 8: unexpected character \"#\"");
  EXPECT_EQ(ParseError("result \xE2\x89\xA5 1"),
            "at column 8: unexpected character \"\xE2\x89\xA5\"");
  EXPECT_EQ(ParseError("\"abc"),
            "at column 1: unterminated string: no closing '\"' before the end");
  EXPECT_EQ(ParseError("result == 'abc"),
            "at column 11: unterminated string: no closing \"'\" before "
            "the end");
  EXPECT_EQ(ParseError("'abc\\"), "at column 1: unterminated string: it ends in a lone backslash");
  EXPECT_EQ(ParseError("'a\\qb'"), "at column 3: unknown escape \"\\\\q\" in a string");
  EXPECT_EQ(ParseError("'\\u12'"), "at column 2: expected four hex digits after \"\\u\"");
  EXPECT_EQ(ParseError("'\\ud800'"),
            "at column 2: a \"\\u\" high surrogate must be followed by a low surrogate");
  EXPECT_EQ(ParseError("'\\udc00'"),
            "at column 2: a \"\\u\" low surrogate without a high surrogate before it");
  EXPECT_EQ(ParseError("1."), "at column 3: expected a digit after \"1.\"");
  EXPECT_EQ(ParseError("1e+"), "at column 4: expected the digits of an exponent after \"1e+\"");
  EXPECT_EQ(ParseError("12abc"), "at column 3: unexpected \"a\" after the number 12");
  EXPECT_EQ(ParseError("1e999"), "at column 1: the number 1e999 is out of range");
  EXPECT_EQ(ParseError(".5"), "at column 1: expected a value but found \".\"");
}

TEST(ParseErrorTest, LengthLimit) {
  const std::string longest = "1" + std::string(kMaxExpressionLength - 1, ' ');
  EXPECT_TRUE(ParseExpression(longest).ok());
  const std::string too_long = longest + " ";
  EXPECT_EQ(ParseError(too_long), "the expression is 4097 bytes long; the limit is 4096");
}

TEST(ParseErrorTest, DepthLimitStopsHostileNesting) {
  auto nested = [](int n, std::string_view open, std::string_view middle, std::string_view close) {
    std::string s;
    for (int i = 0; i < n; ++i) s += open;
    s += middle;
    for (int i = 0; i < n; ++i) s += close;
    return s;
  };
  const std::string kTooDeep = "the expression nests more than 64 levels deep";
  EXPECT_TRUE(ParseExpression(nested(60, "(", "1", ")")).ok());
  EXPECT_THAT(ParseError(nested(65, "(", "1", ")")), HasSubstr(kTooDeep));
  EXPECT_THAT(ParseError(nested(2000, "(", "1", ")")), HasSubstr(kTooDeep));
  EXPECT_THAT(ParseError(nested(2000, "!", "true", "")), HasSubstr(kTooDeep));
  EXPECT_THAT(ParseError(nested(2000, "-", "1", "")), HasSubstr(kTooDeep));
  EXPECT_THAT(ParseError(nested(500, "len(", "1", ")")), HasSubstr(kTooDeep));
  EXPECT_THAT(ParseError(nested(500, "result[", "0", "]")), HasSubstr(kTooDeep));
  // Operator chains build tall trees without any nesting in the text.
  std::string chain = "1";
  for (int i = 0; i < 2000; ++i) chain += "+1";
  EXPECT_THAT(ParseError(chain), HasSubstr(kTooDeep));
  std::string members = "result";
  for (int i = 0; i < 2000; ++i) members += ".a";
  EXPECT_THAT(ParseError(members), HasSubstr(kTooDeep));
  std::string conditions = "result[0] > 0";
  for (int i = 0; i < 20; ++i) conditions += " && result[0] > 0";
  EXPECT_TRUE(ParseExpression(conditions).ok());
}

// ---- Evaluation errors name the sub-expression that failed.

TEST(EvaluationErrorTest, ComparingAStringWithANumberIsAnError) {
  EXPECT_EQ(EvalError("result.data.ratio > 0.4", Document()),
            "in `result.data.ratio > 0.4`: cannot compare string \"0.5\" with number 0.4 using "
            "\">\"; convert the string with asFloat() first");
  EXPECT_EQ(EvalError("result == 1", "1"),
            "in `result == 1`: cannot compare string \"1\" with number 1 using \"==\"; convert the "
            "string with asFloat() first");
  EXPECT_THAT(EvalError("true == 1", nullptr),
              HasSubstr("cannot compare boolean true with number 1 using \"==\""));
  EXPECT_THAT(EvalError("null < 1", nullptr), HasSubstr("cannot compare null with number 1"));
}

TEST(EvaluationErrorTest, AListIsNotANumber) {
  EXPECT_EQ(EvalError("result >= 0.95", Value::array({0.97})),
            "in `result >= 0.95`: cannot compare a list of 1 element with number 0.95 using "
            "\">=\"; pick an element of the list first, e.g. result[0]");
  EXPECT_THAT(EvalError("result == result", Value::array()),
              HasSubstr("cannot compare a list of 0 elements with a list of 0 elements"));
  EXPECT_THAT(EvalError("result + 1", Value{{"a", 1}}),
              HasSubstr("\"+\" needs two numbers or two strings, not an object with 1 field and "
                        "number 1"));
}

TEST(EvaluationErrorTest, MissingValuesAreErrorsOutsideDefaultAndEquality) {
  EXPECT_EQ(EvalError("result[0] >= 0.95", Value::array()),
            "in `result[0]`: index 0 is out of range for a list of 0 elements; use default(x, "
            "value) where x may be absent");
  EXPECT_EQ(EvalError("result.data.rat > 0.9", Document()),
            "in `result.data.rat`: no field \"rat\" (fields: \"code\", \"count\", \"empty\", "
            "\"name\", \"nothing\" and 4 more); use default(x, value) where x may be absent");
  EXPECT_THAT(EvalError("result.none.x.y + 1", Value{{"none", nullptr}}),
              HasSubstr("in `result.none.x`: `result.none` is null"));
  EXPECT_THAT(EvalError("result.a", Value::object()),
              HasSubstr("no field \"a\" (the object is empty)"));
  EXPECT_THAT(EvalError("result.a", Value::object()), HasSubstr("in `result.a`"));
  EXPECT_THAT(EvalError("len(result[3])", Value::array({1})),
              HasSubstr("index 3 is out of range for a list of 1 element;"));
  EXPECT_THAT(EvalError("!result.x", Value::object()), HasSubstr("no field \"x\""));
}

TEST(EvaluationErrorTest, WrongKindsOfAccess) {
  EXPECT_EQ(EvalError("result.value", Value::array({1})),
            "in `result.value`: `result` is a list of 1 element, not an object; pick an element "
            "first, e.g. [0]");
  EXPECT_THAT(EvalError("result.value", 3), HasSubstr("`result` is number 3, not an object"));
  EXPECT_THAT(EvalError("result[0]", Value{{"a", 1}}),
              HasSubstr("`result` is an object with 1 field, not a list; look its fields up by "
                        "name, e.g. [\"name\"]"));
  EXPECT_THAT(EvalError("result['a']", Value::array({1})),
              HasSubstr("`result` is a list of 1 element, not an object with fields; index it "
                        "with [i]"));
  EXPECT_THAT(EvalError("result[0.5]", Value::array({1})),
              HasSubstr("the index 0.5 is not a whole number"));
  EXPECT_THAT(EvalError("result[0/0]", Value::array({1})),
              HasSubstr("the index NaN is not a whole number"));
  EXPECT_THAT(EvalError("result[true]", Value::array({1})),
              HasSubstr("an index must be a number or a string, but `true` is boolean true"));
  EXPECT_THAT(EvalError("result[result.x]", Value::array({1})),
              HasSubstr("`result` is a list of 1 element, not an object"));
  EXPECT_THAT(EvalError("'abc'[0]", nullptr), HasSubstr("string \"abc\", not a list"));
  EXPECT_THAT(EvalError("default(result[1e300], 5) + result[-1e300]", Value::array({1})),
              HasSubstr("index -1e+300 is out of range"));
}

TEST(EvaluationErrorTest, OperatorsNeedTheRightKinds) {
  EXPECT_EQ(EvalError("result && true", 1),
            "in `result && true`: \"&&\" needs true or false, but `result` is number 1");
  EXPECT_THAT(EvalError("false or 'x'", nullptr),
              HasSubstr("\"or\" needs true or false, but `'x'` is string \"x\""));
  EXPECT_THAT(EvalError("!result", "yes"),
              HasSubstr("in `!result`: \"!\" needs true or false, but `result` is string \"yes\""));
  EXPECT_THAT(EvalError("not 1", nullptr), HasSubstr("\"not\" needs true or false"));
  EXPECT_THAT(EvalError("-result", "1"), HasSubstr("\"-\" needs a number, but `result` is string"));
  EXPECT_THAT(EvalError("'a' * 2", nullptr),
              HasSubstr("\"*\" needs two numbers, not string \"a\" and number 2"));
  EXPECT_THAT(EvalError("1 - null", nullptr), HasSubstr("not number 1 and null"));
}

TEST(EvaluationErrorTest, FunctionsCheckTheirArguments) {
  EXPECT_EQ(EvalError("len(result)", 5),
            "in `len(result)`: len needs a string, a list or an object, but `result` is number 5");
  EXPECT_THAT(EvalError("len(null)", nullptr), HasSubstr("but `null` is null"));
  EXPECT_THAT(EvalError("isNaN(result)", "NaN"),
              HasSubstr("isNaN needs a number, but `result` is string \"NaN\""));
  EXPECT_THAT(EvalError("isInf(result)", Value::array({1})), HasSubstr("isInf needs a number"));
  EXPECT_THAT(EvalError("asFloat('abc')", nullptr), HasSubstr("string \"abc\" is not a number"));
  EXPECT_THAT(EvalError("asFloat(true)", nullptr), HasSubstr("asFloat needs a number or a string"));
  EXPECT_THAT(EvalError("asInt('2.5')", nullptr),
              HasSubstr("string \"2.5\" is not a decimal integer"));
  EXPECT_THAT(EvalError("asInt('+-2')", nullptr), HasSubstr("is not a decimal integer"));
  EXPECT_THAT(EvalError("asInt(1/0)", nullptr),
              HasSubstr("number +Inf does not fit in an integer"));
  EXPECT_THAT(EvalError("asInt(1e19)", nullptr), HasSubstr("does not fit in an integer"));
  EXPECT_THAT(EvalError("asInt('99999999999999999999')", nullptr),
              HasSubstr("is not a decimal integer"));
}

TEST(EvaluationErrorTest, LongSubExpressionsAreShortenedInMessages) {
  const std::string source = "result.data.count + 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12";
  Result<bool> holds = Condition(source, Document());
  ASSERT_FALSE(holds.ok());
  EXPECT_EQ(holds.status().message(), "in `" + source.substr(0, 57) +
                                          "...`: a condition must be true or false, but this is "
                                          "number 90");
}

TEST(EvaluationErrorTest, ConditionMustBeABoolean) {
  Result<bool> holds = Condition("result[0]", Value::array({0.97}));
  ASSERT_FALSE(holds.ok());
  EXPECT_EQ(holds.status().message(),
            "in `result[0]`: a condition must be true or false, but this is number 0.97");
  holds = Condition("result.data", Document());
  ASSERT_FALSE(holds.ok());
  EXPECT_THAT(holds.status().message(), HasSubstr("but this is an object with 9 fields"));
  holds = Condition("result[2]", Value::array());
  ASSERT_FALSE(holds.ok());
  EXPECT_THAT(holds.status().message(), HasSubstr("index 2 is out of range"));
}

TEST(EvaluationErrorTest, StringGrowthIsBounded) {
  const Value big(std::string(600 * 1024, 'x'));
  EXPECT_TRUE(Eval("result + 'y'", big).ok());
  EXPECT_THAT(EvalError("result + result", big),
              HasSubstr("the joined string would be longer than 1048576 bytes"));
}

TEST(EvaluationErrorTest, DeeplyNestedResultsAreReadButNotCopiedOut) {
  Value deep = 1;
  for (size_t i = 0; i < kMaxValueDepth + 1; ++i) deep = Value::array({std::move(deep)});
  EXPECT_TRUE(Condition("len(result) == 1", deep).ok());
  EXPECT_THAT(EvalError("result", deep), HasSubstr("the value nests more than 256 levels deep"));
  EXPECT_TRUE(Eval("result[0]", deep).ok());
}

}  // namespace
}  // namespace gantry::analysis
