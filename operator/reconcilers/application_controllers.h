// Wiring of GitOps sync into the operator: the GitRepository and Application controllers, the
// self-heal watch and the webhook receiver, registered with a controller::Manager.
//
//   GitRepository informer --(spec or annotation change)--> gitrepository queue
//   POST /hooks/<ns>/<name> --(valid signature)-----------> gitrepository queue
//   artifact moved -----(Applications with that sourceRef)-> application queue
//   Application informer --(spec or annotation change)----> application queue
//   managed object edited or deleted (selfHeal) ----------> application queue
//
// Call SetUpSyncControllers once, before Manager::Run, from the thread that sets up the
// manager; keep the returned object alive until Run has returned, and destroy it before the
// Manager: the self-heal watcher's informers use the Manager's KubeClient.
#pragma once

#include <filesystem>
#include <memory>

#include "operator/common/status.h"
#include "operator/controller/manager.h"

namespace gantry::reconcilers {

struct SyncControllersOptions {
  // Where Git clones and exported commits live; created if missing.
  std::filesystem::path git_cache_dir;
};

class SyncControllers {
 public:
  virtual ~SyncControllers() = default;
};

Result<std::unique_ptr<SyncControllers>> SetUpSyncControllers(controller::Manager& manager,
                                                              SyncControllersOptions options);

// The default git cache directory: $GANTRY_GIT_CACHE_DIR, else <tmp>/gantry-git-<uid>.
std::filesystem::path DefaultGitCacheDir();

}  // namespace gantry::reconcilers
