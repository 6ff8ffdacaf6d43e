// SyncMemo: what each Application's last successful pass left each of its objects as, so that
// a resync with nothing new costs no API request for an object nobody touched since.
//
// Argo CD decides "in sync" by comparing Git with its watch cache, not by asking the API
// server; Gantry does the same, without giving up the server's dry run where it matters. An
// object is known in sync, and neither dry-run nor read, only when all of these hold:
//   - the pass is for the same revision and Application generation as the remembered pass
//     (a new commit or spec is validated whole by dry runs, so an invalid commit still
//     applies nothing);
//   - the object's desired content (DesiredHash of the rendered manifest) is the one applied;
//   - the watch cache holds the object, and it is exactly as Gantry left it: the same
//     metadata.resourceVersion (any write by anyone moves it, and the watch delivers the
//     move), or, when the version moved, the same ContentHash (everything WouldChange
//     compares: a write of status alone, such as a Deployment's controller makes all the
//     time, leaves it equal, while a hand edit of any field does not).
// Anything else takes the full path. The memo lives in memory only, so the first pass after a
// restart is a full one.
//
// It also remembers what the pass rendered (Render): each object's identity and apply order, and
// how each kind was placed (namespaced or not). The render is a function of the revision's
// content, the Application's spec (its generation) and those placements, so a later pass of the
// same revision and generation, with the same placements, would render the same objects with the
// same desired hashes. When every one of them is also known in sync, such a pass stands in the
// remembered render for reading, parsing, preparing and hashing the manifests again: a no-op
// resync costs no work per object beyond the cache lookup and its health. One object that is not
// known in sync sends the pass back to the full render.
//
// Thread-safe: one mutex guards the map; passes of different Applications run concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "operator/kube/object.h"
#include "operator/manifest/object_id.h"

namespace gantry::reconcilers {

// SHA-256 of the object as it is sent to server-side apply.
std::string DesiredHash(const kube::Object& applied);

class SyncMemo {
 public:
  // One object after a pass: the inventory id, the desired hash, and the object as the server
  // held it once the pass was done with it (its resourceVersion and ContentHash).
  struct Entry {
    std::string id;
    std::string desired_hash;
    std::string resource_version;
    std::string content_hash;
  };

  // One rendered object, in apply order: what a pass needs of it when it is known in sync. Its
  // inventory id and apiVersion follow from these.
  struct RenderedObject {
    uint32_t kind = 0;  // index into Render::kinds
    int sync_wave = 0;  // manifest::SyncWaveOrDefault of the object
    std::string ns;
    std::string name;
  };
  // How the render placed the objects of one kind: in a namespace or not, as told by a CRD of
  // the revision (from_crd) or else by API discovery of `version`.
  struct KindScope {
    manifest::GroupKind kind;
    std::string version;
    bool from_crd = false;
    bool namespaced = true;
  };
  struct Render {
    std::vector<kube::GroupVersionKind> kinds;  // a few, shared by many objects
    std::vector<RenderedObject> objects;
    std::vector<KindScope> scopes;
  };

  SyncMemo() = default;
  SyncMemo(const SyncMemo&) = delete;
  SyncMemo& operator=(const SyncMemo&) = delete;

  // The remembered entry of object `id` of `app` when it is known in sync (see above), its
  // resource_version updated to that of `cached`, the watch cache's copy of the object (to be
  // passed back to Remember); nullopt when the object must take the full path.
  std::optional<Entry> InSync(const kube::ObjectKey& app, const std::string& revision,
                              int64_t generation, const std::string& id,
                              const std::string& desired_hash, const kube::Object& cached) const;

  // InSync with the desired hash remembered for `id`: only for an object of the Render that
  // Recall returned for the same revision and generation.
  std::optional<Entry> RenderedInSync(const kube::ObjectKey& app, const std::string& revision,
                                      int64_t generation, const std::string& id,
                                      const kube::Object& cached) const;

  // Replaces what is remembered of `app` with the objects of a successful pass, and what it
  // rendered (none: a later pass renders again).
  void Remember(const kube::ObjectKey& app, const std::string& revision, int64_t generation,
                std::vector<Entry> entries, std::shared_ptr<const Render> render = nullptr);
  // What the last successful pass of `app` rendered, if it was of this revision and generation.
  std::shared_ptr<const Render> Recall(const kube::ObjectKey& app, const std::string& revision,
                                       int64_t generation) const;
  // Drops `app` (a failed pass, a deleted Application).
  void Forget(const kube::ObjectKey& app);
  // Objects remembered for `app` (tests).
  size_t Size(const kube::ObjectKey& app) const;

 private:
  struct ObjectState {
    std::string desired_hash;
    std::string resource_version;
    std::string content_hash;
  };
  struct AppState {
    std::string revision;
    int64_t generation = 0;
    std::unordered_map<std::string, ObjectState> objects;  // by inventory id
    std::shared_ptr<const Render> render;
  };

  // InSync, comparing the desired hash only when `desired_hash` is given.
  std::optional<Entry> Check(const kube::ObjectKey& app, const std::string& revision,
                             int64_t generation, const std::string& id,
                             const std::string* desired_hash, const kube::Object& cached) const;

  mutable std::mutex mu_;  // guards apps_
  std::map<kube::ObjectKey, AppState> apps_;
};

}  // namespace gantry::reconcilers
