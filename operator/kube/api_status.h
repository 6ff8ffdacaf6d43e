// How an answer of the Kubernetes API server becomes a gantry::Status.
//
// The API server answers every failure with an HTTP code and, usually, a metav1.Status body
// ({"kind":"Status","reason":"Conflict","message":...,"details":{"causes":[...]}}). The reason
// decides the code where it is more precise than the HTTP code (409 AlreadyExists versus
// Conflict, 410 Expired versus Gone); the server's message is kept verbatim after a context
// that names the request; field causes of a 422 and the Retry-After of a 429/503 are carried
// on the Status. Pure functions, safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/common/status.h"
#include "operator/kube/object.h"

namespace gantry::kube {

// Maps a non-2xx HTTP answer. `body` may be a metav1.Status JSON or anything else (a proxy's
// HTML, an empty body); `retry_after` is the Retry-After header if present; `context` names
// the request, e.g. "PUT apps/v1 Deployment web/api". Never returns OK.
Status StatusFromHttp(int http_code, std::string_view body,
                      std::optional<std::string_view> retry_after, std::string_view context);

// Maps a metav1.Status object, as it arrives inside a watch ERROR event. Returns OK only when
// the object says status "Success".
Status StatusFromApiStatus(const Object& status, std::string_view context);

// The StatusCode for an HTTP code when the body gives no reason.
StatusCode CodeForHttp(int http_code);

}  // namespace gantry::kube
