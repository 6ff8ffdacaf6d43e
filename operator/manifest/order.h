// The order in which desired objects are applied, and live ones pruned.
//
// Apply order (DESIGN.md §2): Namespaces and CustomResourceDefinitions first, whatever their
// wave, so that everything after can be created in them and of their kinds; then annotation
// gantry.io/sync-wave (an integer, default 0, may be negative), lowest first; then kind order
// (the list Helm and Argo CD use: Namespace, NetworkPolicy, ..., Service, workloads, Ingress,
// APIService; kinds not in the list, custom resources included, last); then namespace and name,
// so the order never depends on file layout. Prune order is the exact reverse.
//
// Waves group the sorted objects: the applier applies one wave, optionally waits until it is
// healthy, then goes on. Pure functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "operator/common/status.h"
#include "operator/manifest/object.h"

namespace gantry::manifest {

inline constexpr std::string_view kSyncWaveAnnotation = "gantry.io/sync-wave";

// The object's gantry.io/sync-wave: 0 without the annotation. InvalidArgument when the value
// is not a string holding an integer in int32 range ("-1", "+3" and "10" are fine).
Result<int> ParseSyncWave(const nlohmann::json& object);

// As ParseSyncWave, but 0 for an invalid value. For live objects someone may have edited; the
// loader has already rejected desired objects with a bad value.
int SyncWaveOrDefault(const nlohmann::json& object);

// Position of `kind` in the kind order; every unknown kind gets the same, last, position.
int KindOrder(std::string_view kind);

// True for Namespace (core) and CustomResourceDefinition (apiextensions.k8s.io), which go
// before every wave.
bool IsDefinition(const nlohmann::json& object);

// Strict weak order: true when `a` is applied before `b`.
bool AppliesBefore(const nlohmann::json& a, const nlohmann::json& b);

// Stable sorts into apply order, or into prune order (the reverse).
void SortForApply(std::vector<Object>& objects);
void SortForPrune(std::vector<Object>& objects);

struct Wave {
  // The Namespaces and CustomResourceDefinitions that precede every numbered wave.
  bool definitions = false;
  // The gantry.io/sync-wave value shared by the wave's objects; 0 when `definitions`.
  int number = 0;
  std::vector<Object> objects;  // in apply (or prune) order
};

// Sorts `objects` for apply and cuts them into waves: first the definitions (if any), then one
// wave per distinct sync-wave value in increasing order. No empty waves.
std::vector<Wave> GroupIntoWaves(std::vector<Object> objects);

// The prune plan: GroupIntoWaves reversed, each wave's objects in prune order, definitions
// last (a Namespace goes only after everything in it).
std::vector<Wave> GroupIntoPruneWaves(std::vector<Object> objects);

}  // namespace gantry::manifest
