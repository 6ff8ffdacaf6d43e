// The reconcile contract (controller-runtime's, with flux's typed outcomes).
//
// A Reconciler is asked about one object by key only. It re-reads what it needs (from
// informer caches), computes what should be, writes, and says how it went:
//   Done      the object is as it should be; optionally look again after requeue_after
//             (periodic drift check). Resets the key's backoff.
//   Waiting   progress depends on something outside (pods becoming ready, a pause); look
//             again after the given duration. Resets the key's backoff.
//   Stalled   the object cannot progress until a human changes it (invalid spec); the
//             reconciler has said why in the object's status. No retry: the next change to
//             the object brings it back.
//   Error     something failed that may pass (API unavailable, conflict); retry with the
//             key's exponential backoff, or after the Status's retry_after when it has one.
// A Reconciler is called from several worker threads at once, never twice at once for the
// same key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "operator/common/clock.h"
#include "operator/common/status.h"
#include "operator/kube/object.h"

namespace gantry::controller {

class ReconcileResult {
 public:
  enum class Kind { kDone, kWaiting, kStalled, kError };

  static ReconcileResult Done(std::optional<Clock::Duration> requeue_after = std::nullopt) {
    return ReconcileResult(Kind::kDone, requeue_after, "", Status::Ok());
  }
  static ReconcileResult Waiting(Clock::Duration after, std::string reason = "") {
    return ReconcileResult(Kind::kWaiting, after, std::move(reason), Status::Ok());
  }
  static ReconcileResult Stalled(std::string reason) {
    return ReconcileResult(Kind::kStalled, std::nullopt, std::move(reason), Status::Ok());
  }
  static ReconcileResult Error(Status status) {
    return ReconcileResult(Kind::kError, std::nullopt, "", std::move(status));
  }

  Kind kind() const { return kind_; }
  std::optional<Clock::Duration> requeue_after() const { return requeue_after_; }
  const std::string& reason() const { return reason_; }
  const Status& status() const { return status_; }
  // "done", "waiting", "stalled" or "error": the result label of gantry_reconcile_total.
  std::string_view Label() const;

 private:
  ReconcileResult(Kind kind, std::optional<Clock::Duration> after, std::string reason,
                  Status status)
      : kind_(kind),
        requeue_after_(after),
        reason_(std::move(reason)),
        status_(std::move(status)) {}

  Kind kind_;
  std::optional<Clock::Duration> requeue_after_;
  std::string reason_;
  Status status_;
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  virtual ReconcileResult Reconcile(const kube::ObjectKey& key) = 0;
};

}  // namespace gantry::controller
