#include "operator/rollout/pod_template_hash.h"

#include <array>
#include <nlohmann/json.hpp>
#include <string>

namespace gantry::rollout {

uint32_t Fnv32a(std::string_view data, uint32_t state) {
  for (unsigned char c : data) {
    state ^= c;
    state *= 16777619u;
  }
  return state;
}

std::string SafeEncodeString(std::string_view text) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) out.push_back(kAlphabet[c % kAlphabet.size()]);
  return out;
}

std::string ComputePodTemplateHash(const nlohmann::json& pod_template,
                                   std::optional<int32_t> collision_count) {
  nlohmann::json canonical = pod_template;
  // The label is an output of the hash; a template that already carries it (one read back
  // from a ReplicaSet) must hash the same as the Rollout's own template.
  if (canonical.is_object()) {
    auto metadata = canonical.find("metadata");
    if (metadata != canonical.end() && metadata->is_object()) {
      auto labels = metadata->find("labels");
      if (labels != metadata->end() && labels->is_object()) {
        labels->erase(std::string(kPodTemplateHashLabel));
        if (labels->empty()) metadata->erase("labels");
      }
      if (metadata->empty()) canonical.erase("metadata");
    }
  }
  // nlohmann::json keeps object keys sorted, so dump() is canonical.
  uint32_t hash = Fnv32a(canonical.dump());
  if (collision_count) {
    // Eight bytes, the low four little-endian, like Kubernetes' controller.ComputeHash.
    std::array<char, 8> bytes{};
    const auto count = static_cast<uint32_t>(*collision_count);
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((count >> (8 * i)) & 0xff);
    hash = Fnv32a(std::string_view(bytes.data(), bytes.size()), hash);
  }
  return SafeEncodeString(std::to_string(hash));
}

}  // namespace gantry::rollout
