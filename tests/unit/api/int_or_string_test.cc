#include "operator/api/int_or_string.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace gantry::api {
namespace {

using ::testing::HasSubstr;

int64_t Resolved(const IntOrString& v, int64_t total, bool round_up) {
  Result<int64_t> r = v.Resolve(total, round_up);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : -999;
}

TEST(ApiIntOrStringTest, HoldsEitherKind) {
  IntOrString i = 3;
  EXPECT_TRUE(i.is_int());
  EXPECT_EQ(i.int_value(), 3);
  EXPECT_EQ(i.ToString(), "3");
  IntOrString s = "25%";
  EXPECT_TRUE(s.is_string());
  EXPECT_TRUE(s.IsPercent());
  EXPECT_EQ(s.string_value(), "25%");
  EXPECT_FALSE(IntOrString("25").IsPercent());
  EXPECT_FALSE(IntOrString(25).IsPercent());
  EXPECT_NE(IntOrString(25), IntOrString("25"));
  EXPECT_EQ(IntOrString(), IntOrString(0));
}

TEST(ApiIntOrStringTest, ResolvesPercentagesLikeKubernetes) {
  // maxSurge rounds up, maxUnavailable rounds down (GetScaledValueFromIntOrPercent).
  EXPECT_EQ(Resolved("25%", 10, true), 3);
  EXPECT_EQ(Resolved("25%", 10, false), 2);
  EXPECT_EQ(Resolved("25%", 4, true), 1);
  EXPECT_EQ(Resolved("25%", 4, false), 1);
  EXPECT_EQ(Resolved("33%", 3, true), 1);
  EXPECT_EQ(Resolved("33%", 3, false), 0);
  EXPECT_EQ(Resolved("100%", 7, false), 7);
  EXPECT_EQ(Resolved("0%", 7, true), 0);
  EXPECT_EQ(Resolved("150%", 2, true), 3);
  EXPECT_EQ(Resolved("25%", 0, true), 0);
  EXPECT_EQ(Resolved("-15%", 10, true), -1);
  EXPECT_EQ(Resolved("-15%", 10, false), -2);
}

TEST(ApiIntOrStringTest, ResolvesIntsAndDigitStringsAsThemselves) {
  EXPECT_EQ(Resolved(4, 10, true), 4);
  EXPECT_EQ(Resolved(4, 10, false), 4);
  EXPECT_EQ(Resolved("5", 10, true), 5);
}

TEST(ApiIntOrStringTest, RejectsWhatIsNeitherNumberNorPercentage) {
  for (const char* bad : {"abc", "%", "", "2.5%", "25 %", "{{args.surge}}"}) {
    Result<int64_t> r = IntOrString(bad).Resolve(10, true);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(std::string("invalid value \"") + bad + "\""));
  }
  Result<int64_t> overflow = IntOrString("9223372036854775807%").Resolve(10, true);
  ASSERT_FALSE(overflow.ok());
  EXPECT_THAT(overflow.status().message(), HasSubstr("out of range"));
}

TEST(ApiIntOrStringTest, AsIntTakesIntsAndIntegerStringsOnly) {
  EXPECT_EQ(*IntOrString(7).AsInt(), 7);
  EXPECT_EQ(*IntOrString("7").AsInt(), 7);
  EXPECT_EQ(*IntOrString("+7").AsInt(), 7);
  EXPECT_EQ(*IntOrString("-3").AsInt(), -3);
  for (const char* bad : {"7%", "{{args.count}}", "", "1.5", "seven"}) {
    Result<int64_t> r = IntOrString(bad).AsInt();
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.status().message(), HasSubstr("must be an integer"));
  }
}

}  // namespace
}  // namespace gantry::api
