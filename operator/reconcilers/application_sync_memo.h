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
// Thread-safe: one mutex guards the map; passes of different Applications run concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "operator/kube/object.h"

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

  SyncMemo() = default;
  SyncMemo(const SyncMemo&) = delete;
  SyncMemo& operator=(const SyncMemo&) = delete;

  // The remembered entry of object `id` of `app` when it is known in sync (see above), its
  // resource_version updated to that of `cached`, the watch cache's copy of the object (to be
  // passed back to Remember); nullopt when the object must take the full path.
  std::optional<Entry> InSync(const kube::ObjectKey& app, const std::string& revision,
                              int64_t generation, const std::string& id,
                              const std::string& desired_hash, const kube::Object& cached) const;

  // Replaces what is remembered of `app` with the objects of a successful pass.
  void Remember(const kube::ObjectKey& app, const std::string& revision, int64_t generation,
                std::vector<Entry> entries);
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
  };

  mutable std::mutex mu_;  // guards apps_
  std::map<kube::ObjectKey, AppState> apps_;
};

}  // namespace gantry::reconcilers
