// Status conditions (metav1.Condition) and the kstatus conventions every Gantry resource
// follows, so that `kubectl wait --for=condition=Ready`, Flux's and Argo CD's health checks and
// kstatus-based tools understand Gantry objects:
//
//   Ready        True when the last reconcile of observedGeneration fully succeeded; False on
//                failure; Unknown while work is in progress.
//   Reconciling  present (True) only while the controller is working toward the desired state,
//                including retries after a transient failure.
//   Stalled      present (True) only when the controller cannot make progress until the user
//                changes something (invalid spec, missing source): no retry loop.
//
// Reconcilers read the conditions from status, change them with the functions below, and write
// status back. Every function is pure (no clock inside: pass `now` from the injected Clock) and
// returns whether it changed anything, so a reconciler can skip a status write that would change
// nothing. Not thread-safe on the same vector; distinct vectors are independent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operator/api/meta.h"

namespace gantry::api {

inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionReconciling = "Reconciling";
inline constexpr std::string_view kConditionStalled = "Stalled";

inline constexpr std::string_view kConditionTrue = "True";
inline constexpr std::string_view kConditionFalse = "False";
inline constexpr std::string_view kConditionUnknown = "Unknown";

// Reasons used by the kstatus helpers; kind-specific reasons live with the reconcilers.
inline constexpr std::string_view kReasonProgressing = "Progressing";
inline constexpr std::string_view kReasonProgressingWithRetry = "ProgressingWithRetry";

// metav1.Condition. `reason` must be a non-empty CamelCase word (the API rejects an empty one);
// `message` may be empty but is always written, as the schema requires it.
struct Condition {
  std::string type;
  std::string status;  // True | False | Unknown
  int64_t observed_generation = 0;
  std::optional<Time> last_transition_time;
  std::string reason;
  std::string message;
  nlohmann::json extra = nlohmann::json::object();

  bool operator==(const Condition&) const = default;
};

// The condition of `type`, or nullptr. The pointer is valid until `conditions` changes.
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);

// True if the condition of `type` exists with status True.
bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

// Sets `condition` in `conditions`, replacing one of the same type in place (order is kept, a
// new type is appended). lastTransitionTime is kept from the old condition when the status did
// not change and set to `now` when it did (or the type is new), so that it records when the
// status last flipped, not when the reconciler last ran. Returns true if anything changed.
bool SetCondition(std::vector<Condition>& conditions, Condition condition, Time now);

// Removes the condition of `type`. Returns true if there was one.
bool RemoveCondition(std::vector<Condition>& conditions, std::string_view type);

// kstatus transitions. `generation` is metadata.generation of the object being reconciled and
// becomes each touched condition's observedGeneration.
//
// Work toward `generation` has started or continues: Reconciling=True, Ready=Unknown (both with
// `reason`/`message`), Stalled removed.
bool MarkReconciling(std::vector<Condition>& conditions, int64_t generation,
                     std::string_view reason, std::string_view message, Time now);
// The reconcile succeeded: Ready=True, Reconciling and Stalled removed.
bool MarkReady(std::vector<Condition>& conditions, int64_t generation, std::string_view reason,
               std::string_view message, Time now);
// A failure that a retry may fix (network, conflict): Ready=False with `reason`/`message`,
// Reconciling=True with reason ProgressingWithRetry, Stalled removed.
bool MarkFailed(std::vector<Condition>& conditions, int64_t generation, std::string_view reason,
                std::string_view message, Time now);
// A failure only the user can fix: Stalled=True and Ready=False with `reason`/`message`,
// Reconciling removed.
bool MarkStalled(std::vector<Condition>& conditions, int64_t generation, std::string_view reason,
                 std::string_view message, Time now);

}  // namespace gantry::api
