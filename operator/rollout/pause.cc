#include "operator/rollout/pause.h"

#include <algorithm>

namespace gantry::rollout {

void PauseState::AddPause(api::PauseReason reason) {
  if (std::find(add_.begin(), add_.end(), reason) == add_.end()) add_.push_back(reason);
}

void PauseState::RemovePause(api::PauseReason reason) {
  if (std::find(remove_.begin(), remove_.end(), reason) == remove_.end()) {
    remove_.push_back(reason);
  }
}

void PauseState::ClearPauses() { clear_ = true; }

void PauseState::AddAbort(std::string message) {
  add_abort_ = true;
  remove_abort_ = false;
  abort_message_ = std::move(message);
}

void PauseState::RemoveAbort() {
  remove_abort_ = true;
  add_abort_ = false;
}

bool PauseState::IsAborted() const {
  if (remove_abort_) return false;
  return add_abort_ || old_.abort;
}

const api::PauseCondition* PauseState::Find(api::PauseReason reason) const {
  for (const auto& c : old_.pause_conditions) {
    if (c.reason == reason) return &c;
  }
  return nullptr;
}

bool PauseState::IsPausedFor(api::PauseReason reason) const {
  if (clear_ || std::find(remove_.begin(), remove_.end(), reason) != remove_.end()) return false;
  return Find(reason) != nullptr || std::find(add_.begin(), add_.end(), reason) != add_.end();
}

PauseState::Progress PauseState::PauseProgress(api::PauseReason reason,
                                               std::optional<Millis> duration,
                                               Clock::TimePoint now) const {
  const api::PauseCondition* cond = Find(reason);
  Progress p;
  if (cond == nullptr) {
    // The controller paused, and the condition is gone: a user promoted.
    p.done = old_.controller_pause;
    return p;
  }
  if (!duration) return p;
  const Clock::TimePoint start = cond->start_time.value_or(now);
  const Clock::TimePoint end = start + *duration;
  if (now >= end) {
    p.done = true;
  } else {
    p.remaining = end - now;
  }
  return p;
}

void PauseState::ApplyTo(api::RolloutStatus& status, Clock::TimePoint now) const {
  const bool aborted = IsAborted();
  status.abort = aborted;
  if (aborted) {
    status.aborted_at = old_.aborted_at.value_or(now);
  } else {
    status.aborted_at.reset();
  }
  status.pause_conditions.clear();
  status.controller_pause = false;
  // An aborted Rollout is not paused: it waits for a retry or a new template.
  if (clear_ || aborted) return;
  bool controller_pause = old_.controller_pause && !consume_resume_;
  for (const auto& c : old_.pause_conditions) {
    if (std::find(remove_.begin(), remove_.end(), c.reason) != remove_.end()) continue;
    status.pause_conditions.push_back(c);
  }
  for (api::PauseReason reason : add_) {
    auto present = std::find_if(status.pause_conditions.begin(), status.pause_conditions.end(),
                                [&](const api::PauseCondition& c) { return c.reason == reason; });
    if (present != status.pause_conditions.end()) continue;
    api::PauseCondition c;
    c.reason = reason;
    c.start_time = now;
    status.pause_conditions.push_back(std::move(c));
    controller_pause = true;
  }
  status.controller_pause = controller_pause;
}

}  // namespace gantry::rollout
