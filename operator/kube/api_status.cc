#include "operator/kube/api_status.h"

#include <fmt/format.h>

#include <charconv>

namespace gantry::kube {
namespace {

// metav1.StatusReason values, see k8s.io/apimachinery/pkg/apis/meta/v1/types.go.
std::optional<StatusCode> CodeForReason(std::string_view reason) {
  if (reason == "NotFound") return StatusCode::kNotFound;
  if (reason == "AlreadyExists") return StatusCode::kAlreadyExists;
  if (reason == "Conflict") return StatusCode::kConflict;
  if (reason == "Gone" || reason == "Expired") return StatusCode::kGone;
  if (reason == "Invalid") return StatusCode::kInvalid;
  if (reason == "BadRequest" || reason == "MethodNotAllowed" || reason == "NotAcceptable" ||
      reason == "UnsupportedMediaType" || reason == "RequestEntityTooLarge") {
    return StatusCode::kBadRequest;
  }
  if (reason == "Unauthorized") return StatusCode::kUnauthorized;
  if (reason == "Forbidden") return StatusCode::kForbidden;
  if (reason == "TooManyRequests") return StatusCode::kTooManyRequests;
  if (reason == "Timeout" || reason == "ServerTimeout") return StatusCode::kTimeout;
  if (reason == "ServiceUnavailable") return StatusCode::kUnavailable;
  if (reason == "InternalError") return StatusCode::kInternal;
  return std::nullopt;
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  long long secs = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), secs);
  if (ec != std::errc() || end != text.data() + text.size() || secs < 0) return std::nullopt;
  return std::chrono::seconds(secs);
}

Status FromParts(StatusCode code, std::string message, const Object* details,
                 std::optional<std::chrono::seconds> retry_after, std::string_view context) {
  Status status(code,
                context.empty() ? std::move(message) : fmt::format("{}: {}", context, message));
  if (details != nullptr && details->is_object()) {
    if (auto causes = details->find("causes"); causes != details->end() && causes->is_array()) {
      for (const Object& c : *causes) {
        if (!c.is_object()) continue;
        status.add_cause(
            StatusCause{c.value("field", ""), c.value("reason", ""), c.value("message", "")});
      }
    }
    if (!retry_after) {
      if (auto ra = details->find("retryAfterSeconds");
          ra != details->end() && ra->is_number_integer() && ra->get<int64_t>() > 0) {
        retry_after = std::chrono::seconds(ra->get<int64_t>());
      }
    }
  }
  if (retry_after) status.set_retry_after(*retry_after);
  return status;
}

}  // namespace

StatusCode CodeForHttp(int http_code) {
  switch (http_code) {
    case 400:
      return StatusCode::kBadRequest;
    case 401:
      return StatusCode::kUnauthorized;
    case 403:
      return StatusCode::kForbidden;
    case 404:
      return StatusCode::kNotFound;
    case 405:
    case 406:
    case 413:
    case 415:
      return StatusCode::kBadRequest;
    case 409:
      return StatusCode::kConflict;
    case 410:
      return StatusCode::kGone;
    case 422:
      return StatusCode::kInvalid;
    case 429:
      return StatusCode::kTooManyRequests;
    case 502:
    case 503:
      return StatusCode::kUnavailable;
    case 504:
      return StatusCode::kTimeout;
    default:
      return http_code >= 500 ? StatusCode::kInternal : StatusCode::kBadRequest;
  }
}

Status StatusFromHttp(int http_code, std::string_view body,
                      std::optional<std::string_view> retry_after_header,
                      std::string_view context) {
  std::optional<std::chrono::seconds> retry_after;
  if (retry_after_header) retry_after = ParseRetryAfter(*retry_after_header);

  Object parsed = Object::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    StatusCode code = CodeForHttp(http_code);
    std::string reason = parsed.value("reason", "");
    if (auto by_reason = CodeForReason(reason)) code = *by_reason;
    std::string message = parsed.value("message", "");
    if (message.empty()) {
      message = fmt::format("HTTP {}{}", http_code, reason.empty() ? "" : " " + reason);
    }
    const Object* details = parsed.contains("details") ? &parsed["details"] : nullptr;
    return FromParts(code, std::move(message), details, retry_after, context);
  }
  // Not a metav1.Status: a proxy or load balancer answered. Keep a bounded piece of the body
  // so the message stays readable.
  std::string text(body.substr(0, 512));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string message = text.empty() ? fmt::format("HTTP {}", http_code)
                                     : fmt::format("HTTP {}: {}", http_code, text);
  return FromParts(CodeForHttp(http_code), std::move(message), nullptr, retry_after, context);
}

Status StatusFromApiStatus(const Object& status, std::string_view context) {
  if (!status.is_object()) {
    return Status(StatusCode::kInternal,
                  fmt::format("{}: unexpected error object {}", context, status.dump()));
  }
  if (status.value("status", "") == "Success") return Status::Ok();
  int http_code = status.contains("code") && status["code"].is_number_integer()
                      ? status["code"].get<int>()
                      : 500;
  return StatusFromHttp(http_code, status.dump(), std::nullopt, context);
}

}  // namespace gantry::kube
