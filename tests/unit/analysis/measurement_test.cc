#include "operator/analysis/measurement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gantry::analysis {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Conditions over result = [0.5] that hold, do not hold, or cannot be evaluated.
constexpr std::string_view kAbsent = "";
constexpr std::string_view kHolds = "result[0] < 1";
constexpr std::string_view kFails = "result[0] > 1";
constexpr std::string_view kErrs = "result[3] > 1";

struct Case {
  std::string_view success;
  std::string_view failure;
  MeasurementPhase phase;
  std::string_view error_prefix;  // for kError: which condition the message names
};

std::string Name(std::string_view condition) {
  if (condition == kAbsent) return "absent";
  if (condition == kHolds) return "true";
  if (condition == kFails) return "false";
  return "error";
}

class DecideMeasurementTest : public ::testing::TestWithParam<Case> {};

TEST_P(DecideMeasurementTest, FollowsArgoRollouts) {
  const Case& c = GetParam();
  Result<MetricConditions> conditions = ParseMetricConditions(c.success, c.failure);
  ASSERT_TRUE(conditions.ok()) << conditions.status().ToString();
  const MeasurementDecision decision = DecideMeasurement(*conditions, Value::array({0.5}));
  EXPECT_EQ(MeasurementPhaseName(decision.phase), MeasurementPhaseName(c.phase))
      << "success " << Name(c.success) << ", failure " << Name(c.failure) << ": "
      << decision.message;
  if (c.phase == MeasurementPhase::kError) {
    EXPECT_THAT(decision.message, StartsWith(std::string(c.error_prefix) + ": in `result[3]`: "));
    EXPECT_THAT(decision.message, HasSubstr("index 3 is out of range for a list of 1 element"));
  } else {
    EXPECT_EQ(decision.message, "");
  }
}

constexpr MeasurementPhase kSuccessful = MeasurementPhase::kSuccessful;
constexpr MeasurementPhase kFailed = MeasurementPhase::kFailed;
constexpr MeasurementPhase kInconclusive = MeasurementPhase::kInconclusive;
constexpr MeasurementPhase kError = MeasurementPhase::kError;

// Every combination of {absent, true, false, error} for the two conditions.
INSTANTIATE_TEST_SUITE_P(
    AllCombinations, DecideMeasurementTest,
    ::testing::Values(
        // Neither condition: a value came back, so the measurement succeeded.
        Case{kAbsent, kAbsent, kSuccessful, ""},
        // Only a failure condition: Failed when it holds, else Successful.
        Case{kAbsent, kHolds, kFailed, ""}, Case{kAbsent, kFails, kSuccessful, ""},
        Case{kAbsent, kErrs, kError, "failureCondition"},
        // Only a success condition: Successful when it holds, else Failed.
        Case{kHolds, kAbsent, kSuccessful, ""}, Case{kFails, kAbsent, kFailed, ""},
        Case{kErrs, kAbsent, kError, "successCondition"},
        // Both: failure wins, then success, else Inconclusive.
        Case{kHolds, kHolds, kFailed, ""}, Case{kHolds, kFails, kSuccessful, ""},
        Case{kFails, kHolds, kFailed, ""}, Case{kFails, kFails, kInconclusive, ""},
        // An error in either is an Error even when the other would have decided.
        Case{kHolds, kErrs, kError, "failureCondition"},
        Case{kFails, kErrs, kError, "failureCondition"},
        Case{kErrs, kHolds, kError, "successCondition"},
        Case{kErrs, kFails, kError, "successCondition"},
        Case{kErrs, kErrs, kError, "successCondition"}));

TEST(DecideMeasurementTest, ConditionsThatAreNotBooleansAreErrors) {
  Result<MetricConditions> conditions = ParseMetricConditions("result[0]", "");
  ASSERT_TRUE(conditions.ok());
  const MeasurementDecision decision = DecideMeasurement(*conditions, Value::array({0.5}));
  EXPECT_EQ(decision.phase, MeasurementPhase::kError);
  EXPECT_EQ(decision.message,
            "successCondition: in `result[0]`: a condition must be true or false, but this is "
            "number 0.5");
}

TEST(DecideMeasurementTest, TypicalPrometheusConditions) {
  Result<MetricConditions> conditions =
      ParseMetricConditions("len(result) > 0 && result[0] >= 0.95", "default(result[0], 0) < 0.5");
  ASSERT_TRUE(conditions.ok());
  EXPECT_EQ(DecideMeasurement(*conditions, Value::array({0.99})).phase, kSuccessful);
  EXPECT_EQ(DecideMeasurement(*conditions, Value::array({0.7})).phase, kInconclusive);
  EXPECT_EQ(DecideMeasurement(*conditions, Value::array({0.2})).phase, kFailed);
  // No series at all: the failure condition's default makes it 0, which fails.
  EXPECT_EQ(DecideMeasurement(*conditions, Value::array()).phase, kFailed);
  // NaN (e.g. 0/0 when there was no traffic) satisfies neither condition.
  EXPECT_EQ(DecideMeasurement(*conditions, Value::array({std::numeric_limits<double>::quiet_NaN()}))
                .phase,
            kInconclusive);
}

TEST(ParseMetricConditionsTest, EmptyMeansAbsent) {
  Result<MetricConditions> conditions = ParseMetricConditions("", "");
  ASSERT_TRUE(conditions.ok());
  EXPECT_EQ(conditions->success, nullptr);
  EXPECT_EQ(conditions->failure, nullptr);
  conditions = ParseMetricConditions("result > 1", "");
  ASSERT_TRUE(conditions.ok());
  ASSERT_NE(conditions->success, nullptr);
  EXPECT_EQ(conditions->success->source(), "result > 1");
  EXPECT_EQ(conditions->failure, nullptr);
}

TEST(ParseMetricConditionsTest, ParseErrorsNameTheCondition) {
  Result<MetricConditions> conditions = ParseMetricConditions("result >", "");
  ASSERT_FALSE(conditions.ok());
  EXPECT_EQ(conditions.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(conditions.status().message(),
            "successCondition: at column 9: expected a value but found end of input");
  conditions = ParseMetricConditions("result > 1", "result[0");
  ASSERT_FALSE(conditions.ok());
  EXPECT_EQ(conditions.status().message(),
            "failureCondition: at column 9: expected \"]\" but found end of input");
  conditions = ParseMetricConditions("  ", "");
  ASSERT_FALSE(conditions.ok());
  EXPECT_THAT(conditions.status().message(), StartsWith("successCondition: at column 3"));
}

TEST(MeasurementPhaseNameTest, SpellsPhasesAsInAnalysisRunStatus) {
  EXPECT_EQ(MeasurementPhaseName(kSuccessful), "Successful");
  EXPECT_EQ(MeasurementPhaseName(kFailed), "Failed");
  EXPECT_EQ(MeasurementPhaseName(kInconclusive), "Inconclusive");
  EXPECT_EQ(MeasurementPhaseName(kError), "Error");
}

}  // namespace
}  // namespace gantry::analysis
