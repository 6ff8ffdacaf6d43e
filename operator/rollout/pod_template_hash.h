// The pod-template hash that names a Rollout's ReplicaSets (`<rollout>-<hash>`) and labels
// their pods (`rollouts-pod-template-hash`), computed the way Kubernetes Deployments and Argo
// Rollouts compute theirs: FNV-32a over the template, then the collision count, then the
// decimal value mapped onto an alphabet without vowels (so a hash never spells a word).
//
// The template is hashed as canonical JSON (keys sorted, no spaces), without the hash label
// itself, so the same template always gives the same hash across restarts and builds. Pure
// functions; safe from any thread.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace gantry::rollout {

// The label on ReplicaSets and pods that Services select to pin them to one revision.
inline constexpr std::string_view kPodTemplateHashLabel = "rollouts-pod-template-hash";

// FNV-1a, 32 bit, continuing from `state` (the offset basis by default).
uint32_t Fnv32a(std::string_view data, uint32_t state = 2166136261u);

// Maps every character onto "bcdfghjklmnpqrstvwxz2456789" by its code modulo 27, as
// Kubernetes' rand.SafeEncodeString does.
std::string SafeEncodeString(std::string_view text);

// The hash of a pod template (a Rollout's spec.template). `collision_count` is the Rollout's
// status.collisionCount: bumping it gives a new name when `<rollout>-<hash>` is taken by a
// ReplicaSet with another template.
std::string ComputePodTemplateHash(const nlohmann::json& pod_template,
                                   std::optional<int32_t> collision_count);

}  // namespace gantry::rollout
