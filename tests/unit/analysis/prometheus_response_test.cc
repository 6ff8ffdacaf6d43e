#include "operator/analysis/prometheus_response.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "operator/analysis/measurement.h"

namespace gantry::analysis {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Vector(std::string_view series) {
  return fmt::format(R"({{"status":"success","data":{{"resultType":"vector","result":[{}]}}}})",
                     series);
}

std::string Sample(std::string_view value, std::string_view labels = R"({"job":"api"})") {
  return fmt::format(R"({{"metric":{},"value":[1700000000.123,"{}"]}})", labels, value);
}

Status ErrorOf(std::string_view body) {
  Result<Value> value = ParsePrometheusResponse(body);
  if (value.ok()) return Internal("parsed to " + FormatValue(*value));
  return value.status();
}

TEST(PrometheusResponseTest, VectorIsAListOfNumbersEvenWithOneSeries) {
  // As documented at prometheus.io/docs/prometheus/latest/querying/api/.
  Result<Value> value = ParsePrometheusResponse(R"({
    "status": "success",
    "data": {
      "resultType": "vector",
      "result": [
        {"metric": {"__name__": "up", "job": "prometheus", "instance": "localhost:9090"},
         "value": [1435781451.781, "1"]}
      ]
    }
  })");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, Value::array({1.0}));
}

TEST(PrometheusResponseTest, VectorKeepsTheSeriesOrder) {
  Result<Value> value = ParsePrometheusResponse(
      Vector(Sample("0.97") + "," + Sample("0.5", R"({"job":"b"})") + "," + Sample("1e-3")));
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, Value::array({0.97, 0.5, 0.001}));
}

TEST(PrometheusResponseTest, SpecialSampleValues) {
  Result<Value> value = ParsePrometheusResponse(
      Vector(Sample("NaN") + "," + Sample("+Inf") + "," + Sample("-Inf") + "," + Sample("-0")));
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  ASSERT_EQ(value->size(), 4u);
  EXPECT_TRUE(std::isnan((*value)[0].get<double>()));
  EXPECT_EQ((*value)[1].get<double>(), kInf);
  EXPECT_EQ((*value)[2].get<double>(), -kInf);
  EXPECT_EQ((*value)[3].get<double>(), 0.0);
  EXPECT_EQ(FormatValue(*value), "[NaN,+Inf,-Inf,-0]");
}

TEST(PrometheusResponseTest, EmptyVectorIsAnEmptyList) {
  Result<Value> value = ParsePrometheusResponse(Vector(""));
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, Value::array());
}

TEST(PrometheusResponseTest, ScalarIsANumber) {
  Result<Value> value = ParsePrometheusResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1435781451.781,"0.95"]}})");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, Value(0.95));
  value = ParsePrometheusResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1435781451,"NaN"]}})");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_TRUE(std::isnan(value->get<double>()));
}

TEST(PrometheusResponseTest, StringIsAString) {
  Result<Value> value = ParsePrometheusResponse(
      R"({"status":"success","data":{"resultType":"string","result":[1435781451.781,"ok"]}})");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, Value("ok"));
}

TEST(PrometheusResponseTest, WarningsAndExtraFieldsAreIgnored) {
  Result<Value> value = ParsePrometheusResponse(
      R"({"status":"success","warnings":["partial response"],"infos":["x"],
          "data":{"resultType":"scalar","result":[1,"2"],"stats":{}}})");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, Value(2.0));
}

TEST(PrometheusResponseTest, ErrorAnswersKeepTheirTypeAndMessage) {
  Status status = ErrorOf(R"({"status":"error","errorType":"bad_data",
      "error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"})");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "Prometheus answered with an error (bad_data): invalid parameter \"query\": 1:5: "
            "parse error: unclosed left parenthesis");
  EXPECT_EQ(ErrorOf(R"({"status":"error","errorType":"timeout","error":"query timed out"})").code(),
            StatusCode::kTimeout);
  EXPECT_EQ(ErrorOf(R"({"status":"error","errorType":"canceled","error":"x"})").code(),
            StatusCode::kCancelled);
  EXPECT_EQ(ErrorOf(R"({"status":"error","errorType":"unavailable","error":"x"})").code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(ErrorOf(R"({"status":"error","errorType":"not_found","error":"x"})").code(),
            StatusCode::kNotFound);
  status = ErrorOf(R"({"status":"error","errorType":"execution","error":"many\nlines\u0000"})");
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "Prometheus answered with an error (execution): many lines ");
  status = ErrorOf(R"({"status":"error"})");
  EXPECT_EQ(status.message(), "Prometheus answered with an error (unknown): (no message)");
}

TEST(PrometheusResponseTest, BodyThatIsNotJsonIsQuoted) {
  Status status = ErrorOf("<html><body><h1>502 Bad Gateway</h1></body></html>");
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_THAT(status.message(), StartsWith("unexpected Prometheus response: the body is not JSON "
                                           "(at byte 1: syntax error while parsing value"));
  EXPECT_THAT(status.message(),
              HasSubstr("; it begins \"<html><body><h1>502 Bad Gateway</h1></body></html>\""));
  const std::string long_body = "Error: " + std::string(500, 'x');
  status = ErrorOf(long_body);
  EXPECT_THAT(status.message(), HasSubstr("it begins \"Error: " + std::string(93, 'x') + "\"..."));
  status = ErrorOf("{\"status\":\"success\"} trailing");
  EXPECT_THAT(status.message(), HasSubstr("expected end of input); it begins"));
  status = ErrorOf("\x01\xFF{");
  EXPECT_THAT(status.message(), HasSubstr("it begins \"\\u0001\xEF\xBF\xBD{\""));
  EXPECT_EQ(ErrorOf("").message(), "unexpected Prometheus response: the body is empty");
}

// Found by fuzz_prometheus_response: nlohmann reports numbers that overflow a double with an
// out_of_range exception, not a parse_error; it used to surface as an unexpected exception.
TEST(PrometheusResponseTest, NumbersBeyondADoubleAreNotJson) {
  Status status = ErrorOf("888e888888888888888888\"888888888\"metric\"");
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_THAT(status.message(),
              StartsWith("unexpected Prometheus response: the body is not JSON (number overflow"));
  EXPECT_THAT(status.message(), HasSubstr("it begins \"888e888888888888888888"));
  status = ErrorOf(R"({"status":"success","data":{"resultType":"scalar","result":[1e999,"1"]}})");
  EXPECT_THAT(status.message(),
              HasSubstr("the body is not JSON (number overflow parsing '1e999')"));
}

TEST(PrometheusResponseTest, WrongShapesNameWhatIsWrong) {
  EXPECT_EQ(ErrorOf("[1,2]").message(),
            "unexpected Prometheus response: the body is a JSON list, not an object with a "
            "\"status\"");
  EXPECT_THAT(ErrorOf("{}").message(), HasSubstr("its \"status\" is absent"));
  EXPECT_THAT(ErrorOf(R"({"status":"ok"})").message(),
              HasSubstr("its \"status\" is \"ok\", not \"success\" or \"error\""));
  EXPECT_THAT(ErrorOf(R"({"status":"success"})").message(), HasSubstr("no \"data\" object"));
  EXPECT_THAT(ErrorOf(R"({"status":"success","data":{}})").message(),
              HasSubstr("no data.resultType"));
  EXPECT_THAT(ErrorOf(R"({"status":"success","data":{"resultType":"vector"}})").message(),
              HasSubstr("no data.result"));
  EXPECT_THAT(
      ErrorOf(R"({"status":"success","data":{"resultType":"vector","result":{}}})").message(),
      HasSubstr("data.result of a vector is not a list"));
  EXPECT_THAT(
      ErrorOf(R"({"status":"success","data":{"resultType":"scalar","result":["1"]}})").message(),
      HasSubstr("a scalar's data.result is not [<time>, \"<number>\"]"));
  EXPECT_THAT(
      ErrorOf(R"({"status":"success","data":{"resultType":"string","result":[1,2]}})").message(),
      HasSubstr("a string's data.result is not [<time>, \"<string>\"]"));
  EXPECT_THAT(
      ErrorOf(R"({"status":"success","data":{"resultType":"scalar","result":[1,"x"]}})").message(),
      HasSubstr("the scalar \"x\" is not a number"));
  EXPECT_THAT(
      ErrorOf(R"({"status":"success","data":{"resultType":"table","result":[]}})").message(),
      HasSubstr("unknown data.resultType \"table\""));
}

TEST(PrometheusResponseTest, BadSeriesAreNamedByIndexAndLabels) {
  EXPECT_EQ(
      ErrorOf(Vector(Sample("1") + "," + Sample("fast", R"({"job":"api","le":"0.5"})"))).message(),
      "unexpected Prometheus response: series 1 {job=\"api\",le=\"0.5\"} has the value "
      "\"fast\", which is not a number");
  EXPECT_THAT(ErrorOf(Vector(R"({"metric":{},"value":[1, 2]})")).message(),
              HasSubstr("series 0 {} has no value of the form [<time>, \"<number>\"]"));
  EXPECT_THAT(ErrorOf(Vector(R"({"metric":{"a":"b"}})")).message(),
              HasSubstr("series 0 {a=\"b\"} has no value"));
  EXPECT_THAT(ErrorOf(Vector(R"({"metric":{},"histogram":[1,{"count":"3","sum":"4"}]})")).message(),
              HasSubstr("series 0 {} is a native histogram"));
}

TEST(PrometheusResponseTest, MatrixIsRefusedWithAHint) {
  EXPECT_THAT(
      ErrorOf(R"({"status":"success","data":{"resultType":"matrix","result":[
          {"metric":{},"values":[[1,"1"],[2,"2"]]}]}})")
          .message(),
      HasSubstr("the query returned a matrix (a range vector); conditions need a scalar, a vector "
                "or a string, so wrap a range selector such as [5m] in a function like rate()"));
}

TEST(PrometheusResponseTest, FeedsConditionsTheWayArgoUsersWriteThem) {
  Result<MetricConditions> conditions =
      ParseMetricConditions("len(result) == 0 || result[0] >= 0.95", "");
  ASSERT_TRUE(conditions.ok());
  auto phase = [&](const std::string& body) {
    Result<Value> value = ParsePrometheusResponse(body);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return MeasurementPhaseName(DecideMeasurement(*conditions, *value).phase);
  };
  EXPECT_EQ(phase(Vector(Sample("0.99"))), "Successful");
  EXPECT_EQ(phase(Vector(Sample("0.5"))), "Failed");
  EXPECT_EQ(phase(Vector("")), "Successful");
  EXPECT_EQ(phase(Vector(Sample("NaN"))), "Failed");
}

}  // namespace
}  // namespace gantry::analysis
