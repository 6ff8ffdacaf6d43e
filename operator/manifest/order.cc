#include "operator/manifest/order.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <tuple>

namespace gantry::manifest {
namespace {

using nlohmann::json;

// Helm's InstallOrder, which Argo CD also follows.
constexpr std::array<std::string_view, 35> kKindOrder = {
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
};

const std::string& StringAt(const json& object, const char* a, const char* b = nullptr) {
  static const std::string kEmpty;
  if (!object.is_object()) return kEmpty;
  auto it = object.find(a);
  if (it == object.end()) return kEmpty;
  if (b != nullptr) {
    if (!it->is_object()) return kEmpty;
    auto inner = it->find(b);
    if (inner == it->end()) return kEmpty;
    it = inner;
  }
  return it->is_string() ? it->get_ref<const std::string&>() : kEmpty;
}

std::string_view GroupOf(const json& object) {
  std::string_view api_version = StringAt(object, "apiVersion");
  size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

// Everything the order compares, in priority order.
auto SortKey(const json& object) {
  const std::string& kind = StringAt(object, "kind");
  bool definition = IsDefinition(object);
  return std::make_tuple(definition ? 0 : 1, definition ? 0 : SyncWaveOrDefault(object),
                         KindOrder(kind), std::string_view(kind), GroupOf(object),
                         std::string_view(StringAt(object, "metadata", "namespace")),
                         std::string_view(StringAt(object, "metadata", "name")));
}

}  // namespace

Result<int> ParseSyncWave(const json& object) {
  if (!object.is_object()) return 0;
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return 0;
  auto annotations = metadata->find("annotations");
  if (annotations == metadata->end() || !annotations->is_object()) return 0;
  auto value = annotations->find(std::string(kSyncWaveAnnotation));
  if (value == annotations->end()) return 0;
  if (!value->is_string()) {
    return InvalidArgument(
        fmt::format("annotation {} must be a string holding an integer (quote it: \"{}\")",
                    kSyncWaveAnnotation, value->dump()));
  }
  std::string_view text = value->get_ref<const std::string&>();
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  int wave = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), wave);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      (text.front() == '+' && digits.front() == '-')) {
    return InvalidArgument(
        fmt::format("annotation {} is \"{}\", which is not an integer (like \"-1\" or \"2\")",
                    kSyncWaveAnnotation, text));
  }
  return wave;
}

int SyncWaveOrDefault(const json& object) {
  Result<int> wave = ParseSyncWave(object);
  return wave.ok() ? *wave : 0;
}

int KindOrder(std::string_view kind) {
  auto it = std::find(kKindOrder.begin(), kKindOrder.end(), kind);
  return static_cast<int>(it - kKindOrder.begin());
}

bool IsDefinition(const json& object) {
  const std::string& kind = StringAt(object, "kind");
  if (kind == "Namespace") return GroupOf(object).empty();
  if (kind == "CustomResourceDefinition") return GroupOf(object) == "apiextensions.k8s.io";
  return false;
}

bool AppliesBefore(const json& a, const json& b) { return SortKey(a) < SortKey(b); }

void SortForApply(std::vector<Object>& objects) {
  std::stable_sort(objects.begin(), objects.end(),
                   [](const Object& a, const Object& b) { return AppliesBefore(a.json, b.json); });
}

void SortForPrune(std::vector<Object>& objects) {
  SortForApply(objects);
  std::reverse(objects.begin(), objects.end());
}

std::vector<Wave> GroupIntoWaves(std::vector<Object> objects) {
  SortForApply(objects);
  std::vector<Wave> waves;
  for (Object& object : objects) {
    bool definition = IsDefinition(object.json);
    int number = definition ? 0 : SyncWaveOrDefault(object.json);
    if (waves.empty() || waves.back().definitions != definition || waves.back().number != number) {
      waves.push_back(Wave{definition, number, {}});
    }
    waves.back().objects.push_back(std::move(object));
  }
  return waves;
}

std::vector<Wave> GroupIntoPruneWaves(std::vector<Object> objects) {
  std::vector<Wave> waves = GroupIntoWaves(std::move(objects));
  std::reverse(waves.begin(), waves.end());
  for (Wave& wave : waves) std::reverse(wave.objects.begin(), wave.objects.end());
  return waves;
}

}  // namespace gantry::manifest
