#include "operator/api/conditions.h"

#include <algorithm>

namespace gantry::api {

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c != nullptr && c->status == kConditionTrue;
}

bool SetCondition(std::vector<Condition>& conditions, Condition condition, Time now) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const Condition& c) { return c.type == condition.type; });
  if (it == conditions.end()) {
    condition.last_transition_time = now;
    conditions.push_back(std::move(condition));
    return true;
  }
  if (it->status == condition.status && it->last_transition_time.has_value()) {
    condition.last_transition_time = it->last_transition_time;
  } else {
    condition.last_transition_time = now;
  }
  // Fields this version does not know about belong to the stored condition.
  if (condition.extra.empty()) condition.extra = it->extra;
  if (*it == condition) return false;
  *it = std::move(condition);
  return true;
}

bool RemoveCondition(std::vector<Condition>& conditions, std::string_view type) {
  auto it = std::remove_if(conditions.begin(), conditions.end(),
                           [&](const Condition& c) { return c.type == type; });
  bool removed = it != conditions.end();
  conditions.erase(it, conditions.end());
  return removed;
}

namespace {

Condition Make(std::string_view type, std::string_view status, int64_t generation,
               std::string_view reason, std::string_view message) {
  Condition c;
  c.type = type;
  c.status = status;
  c.observed_generation = generation;
  c.reason = reason;
  c.message = message;
  return c;
}

}  // namespace

bool MarkReconciling(std::vector<Condition>& conditions, int64_t generation,
                     std::string_view reason, std::string_view message, Time now) {
  bool changed = SetCondition(
      conditions, Make(kConditionReconciling, kConditionTrue, generation, reason, message), now);
  changed |= SetCondition(
      conditions, Make(kConditionReady, kConditionUnknown, generation, reason, message), now);
  changed |= RemoveCondition(conditions, kConditionStalled);
  return changed;
}

bool MarkReady(std::vector<Condition>& conditions, int64_t generation, std::string_view reason,
               std::string_view message, Time now) {
  bool changed = SetCondition(
      conditions, Make(kConditionReady, kConditionTrue, generation, reason, message), now);
  changed |= RemoveCondition(conditions, kConditionReconciling);
  changed |= RemoveCondition(conditions, kConditionStalled);
  return changed;
}

bool MarkFailed(std::vector<Condition>& conditions, int64_t generation, std::string_view reason,
                std::string_view message, Time now) {
  bool changed = SetCondition(
      conditions, Make(kConditionReady, kConditionFalse, generation, reason, message), now);
  changed |= SetCondition(
      conditions,
      Make(kConditionReconciling, kConditionTrue, generation, kReasonProgressingWithRetry, message),
      now);
  changed |= RemoveCondition(conditions, kConditionStalled);
  return changed;
}

bool MarkStalled(std::vector<Condition>& conditions, int64_t generation, std::string_view reason,
                 std::string_view message, Time now) {
  bool changed = SetCondition(
      conditions, Make(kConditionStalled, kConditionTrue, generation, reason, message), now);
  changed |= SetCondition(conditions,
                          Make(kConditionReady, kConditionFalse, generation, reason, message), now);
  changed |= RemoveCondition(conditions, kConditionReconciling);
  return changed;
}

}  // namespace gantry::api
