// Pausing and aborting, as intents gathered during one reconcile pass and applied to the new
// status at its end (the Argo Rollouts pattern): sub-steps say "pause for this reason", "this
// pause is over", "abort"; none of them writes status itself, so the decisions of one pass land
// together in one status write.
//
// Who pauses and who resumes:
//   * The controller adds a pause condition (a canary pause step, blue/green waiting for
//     promotion, an inconclusive analysis) and sets status.controllerPause.
//   * A user resumes by removing the condition (`gantry rollout promote`), leaving
//     controllerPause set; a pause step is over when its duration elapsed or when the
//     controller paused and the condition is gone.
//   * status.abort is set by a user (`gantry rollout abort`) or by the controller (failed
//     analysis, progress deadline with progressDeadlineAbort) and cleared by `retry` or a new
//     template.
// Not thread-safe; one per pass.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "operator/api/rollout.h"
#include "operator/common/clock.h"

namespace gantry::rollout {

class PauseState {
 public:
  // `old_status` is the status read at the start of the pass; it must outlive this object.
  explicit PauseState(const api::RolloutStatus& old_status) : old_(old_status) {}
  PauseState(const PauseState&) = delete;
  PauseState& operator=(const PauseState&) = delete;

  void AddPause(api::PauseReason reason);
  void RemovePause(api::PauseReason reason);
  // Drops every pause condition (a new template, promote --full, an abort).
  void ClearPauses();
  // `message` says why, for status.message and the event.
  void AddAbort(std::string message);
  // A user's resume (condition removed while controllerPause is set) has been acted on: the
  // pause step advanced, blue/green promoted, an inconclusive analysis was rerun. Until a
  // sub-step consumes it, controllerPause stays set, so a pass that cannot act yet (blue/green
  // still scaling the preview to full size) does not lose the user's promotion.
  void ConsumeResume() { consume_resume_ = true; }

  void RemoveAbort();

  bool IsAborted() const;
  bool HasAddedPause() const { return !add_.empty(); }
  const std::string& abort_message() const { return abort_message_; }

  // The condition of `reason` in the old status, or nullptr.
  const api::PauseCondition* Find(api::PauseReason reason) const;
  // True when the old status is paused by the controller for `reason`, or will be after this
  // pass.
  bool IsPausedFor(api::PauseReason reason) const;

  // Whether a pause that started when the controller set condition `reason` is over. With a
  // duration: once `duration` has passed since the condition's start (`remaining` says how
  // long is left). Without: once a user removed the condition after the controller had paused.
  struct Progress {
    bool done = false;
    std::optional<Clock::Duration> remaining;
  };
  Progress PauseProgress(api::PauseReason reason, std::optional<Millis> duration,
                         Clock::TimePoint now) const;

  // Writes pauseConditions, controllerPause, abort and abortedAt into `status`, starting new
  // conditions at `now`. Conditions already present keep their start time.
  void ApplyTo(api::RolloutStatus& status, Clock::TimePoint now) const;

 private:
  const api::RolloutStatus& old_;
  std::vector<api::PauseReason> add_;
  std::vector<api::PauseReason> remove_;
  bool clear_ = false;
  bool consume_resume_ = false;
  bool add_abort_ = false;
  bool remove_abort_ = false;
  std::string abort_message_;
};

}  // namespace gantry::rollout
