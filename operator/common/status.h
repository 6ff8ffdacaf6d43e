// Status and Result<T>: how errors cross module edges in Gantry.
//
// A Status is a code plus a human message that names the object, file and line where it can,
// and what the user can do. Result<T> holds either a value or a non-OK Status. Both are plain
// values: cheap to move, safe to pass between threads, never thrown. Adapters around
// cpprestsdk, yaml-cpp, nlohmann::json and libgit2 catch what those throw or return and turn
// it into a Status.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gantry {

// The codes follow the Kubernetes API's failure kinds, so a Status from the API server keeps
// its meaning all the way up to a reconciler.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad input from a user: a spec, a file, a flag
  kNotFound,          // HTTP 404
  kAlreadyExists,     // HTTP 409 with reason AlreadyExists
  kConflict,          // HTTP 409: resourceVersion or field-manager conflict
  kGone,              // HTTP 410: resourceVersion too old, relist
  kInvalid,           // HTTP 422: the API rejected the object; see causes
  kBadRequest,        // HTTP 400
  kUnauthorized,      // HTTP 401
  kForbidden,         // HTTP 403
  kTooManyRequests,   // HTTP 429; retry_after says when
  kTimeout,           // HTTP 504 or a client-side deadline
  kUnavailable,       // HTTP 503, connection refused or reset: try again
  kCancelled,         // the caller asked to stop
  kInternal,          // a bug or an unexpected answer
};

// Name of a code as it appears in logs and conditions, e.g. "NotFound".
std::string_view StatusCodeName(StatusCode code);

// One field-level cause from a Kubernetes Status (details.causes).
struct StatusCause {
  std::string field;
  std::string reason;
  std::string message;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Set for kTooManyRequests and kUnavailable when the server sent Retry-After.
  std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }
  Status& set_retry_after(std::chrono::seconds s) {
    retry_after_ = s;
    return *this;
  }

  // Field causes from an API Invalid (422) answer.
  const std::vector<StatusCause>& causes() const { return causes_; }
  Status& add_cause(StatusCause cause) {
    causes_.push_back(std::move(cause));
    return *this;
  }

  // Returns a Status with the same code whose message is "<context>: <message>".
  Status WithContext(std::string_view context) const;

  // "NotFound: <message>", or "OK".
  std::string ToString() const;

  // True for failures that may go away by themselves (backoff and retry).
  bool IsTransient() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<std::chrono::seconds> retry_after_;
  std::vector<StatusCause> causes_;
};

inline Status InvalidArgument(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}
inline Status NotFound(std::string message) {
  return Status(StatusCode::kNotFound, std::move(message));
}
inline Status Internal(std::string message) {
  return Status(StatusCode::kInternal, std::move(message));
}
inline Status Unavailable(std::string message) {
  return Status(StatusCode::kUnavailable, std::move(message));
}

// Result<T>: a T, or the Status that says why there is none. Constructing it from an OK
// Status is a bug and yields kInternal.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(data_).ok()) {
      data_ = Status(StatusCode::kInternal, "Result constructed from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }

  // Precondition: ok().
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace gantry

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define GANTRY_RETURN_IF_ERROR(expr)         \
  do {                                       \
    ::gantry::Status gantry_status_ = (expr); \
    if (!gantry_status_.ok()) return gantry_status_; \
  } while (0)
