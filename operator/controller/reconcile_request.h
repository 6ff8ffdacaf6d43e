// Asking for an immediate reconcile of an object from any replica of the operator.
//
// Only the leader runs controllers, so a key that a standby adds to its own work queue is
// never handled. A standby that must pass on a request (a Git webhook that the Service sent to
// it) records it on the object instead, as Flux does with reconcile.fluxcd.io/requestedAt: it
// sets the annotation gantry.io/reconcile-requested-at to the current time, the leader's
// informer sees the object change and enqueues it, and the reconciler copies the value to
// status.lastHandledReconcileAt. Thread-safe as long as the client is.
#pragma once

#include <string>
#include <string_view>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/kube_client.h"

namespace gantry::controller {

inline constexpr std::string_view kReconcileRequestedAtAnnotation =
    "gantry.io/reconcile-requested-at";

// The annotation's value for `t`: RFC 3339 in UTC with nanoseconds, so that two requests in
// the same second still change the object (and so still reach the leader).
std::string ReconcileRequestStamp(Clock::TimePoint t);

// Sets the annotation on `object` with a JSON merge patch (metadata only: no conflict with the
// spec or status writers). Errors are the API server's (NotFound, Forbidden, ...), with the
// object named.
Status AnnotateReconcileRequest(kube::KubeClient& client, Clock& clock,
                                const kube::ResourceRef& object);

}  // namespace gantry::controller
