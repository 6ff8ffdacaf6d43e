#include "operator/reconcilers/application_controllers.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "operator/git/libgit2_source.h"
#include "operator/reconcilers/application_metrics.h"
#include "operator/reconcilers/application_reconciler.h"
#include "operator/reconcilers/application_watcher.h"
#include "operator/reconcilers/git_repository_reconciler.h"
#include "operator/reconcilers/webhook_receiver.h"

namespace gantry::reconcilers {
namespace {

const kube::GroupVersionKind kApplicationGvk{"gantry.io", "v1alpha1", "Application"};
const kube::GroupVersionKind kGitRepositoryGvk{"gantry.io", "v1alpha1", "GitRepository"};

// A change a controller must act on: the spec (generation) or the annotations (manual sync
// requests). Status writes, including our own, are not.
bool SpecOrAnnotationsChanged(const kube::Object& before, const kube::Object& after) {
  if (kube::GenerationOf(before) != kube::GenerationOf(after)) return true;
  auto annotations = [](const kube::Object& o) {
    const kube::Object& meta = o.value("metadata", kube::Object::object());
    return meta.is_object() ? meta.value("annotations", kube::Object::object())
                            : kube::Object::object();
  };
  return annotations(before) != annotations(after);
}

kube::EventHandler EnqueueOnChange(controller::WorkQueue& queue) {
  return kube::EventHandler{[&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); },
                            [&queue](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
                              if (SpecOrAnnotationsChanged(*before, *after))
                                queue.Add(kube::KeyOf(*after));
                            },
                            [&queue](const kube::ObjectPtr& o) { queue.Add(kube::KeyOf(*o)); }};
}

class SyncControllersImpl final : public SyncControllers {
 public:
  std::unique_ptr<SyncMetrics> metrics;
  std::unique_ptr<git::GitSource> source;
  ArtifactRegistry artifacts;
  std::unique_ptr<ManagedObjectWatcher> watcher;
  std::unique_ptr<GitRepositoryReconciler> git_reconciler;
  std::unique_ptr<ApplicationReconciler> app_reconciler;
  std::unique_ptr<WebhookReceiver> webhooks;
  controller::WorkQueue* git_queue = nullptr;
  controller::WorkQueue* app_queue = nullptr;
};

}  // namespace

std::filesystem::path DefaultGitCacheDir() {
  if (const char* dir = std::getenv("GANTRY_GIT_CACHE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return std::filesystem::temp_directory_path() / ("gantry-git-" + std::to_string(::getuid()));
}

Result<std::unique_ptr<SyncControllers>> SetUpSyncControllers(controller::Manager& manager,
                                                              SyncControllersOptions options) {
  if (options.git_cache_dir.empty()) options.git_cache_dir = DefaultGitCacheDir();
  std::error_code ec;
  std::filesystem::create_directories(options.git_cache_dir, ec);
  if (ec) {
    return InvalidArgument("git cache directory " + options.git_cache_dir.string() + ": " +
                           ec.message());
  }
  auto c = std::make_unique<SyncControllersImpl>();
  SyncControllersImpl* self = c.get();
  c->metrics = NewPrometheusSyncMetrics(manager.metrics().registry());
  c->source = git::NewLibgit2Source(options.git_cache_dir, manager.clock());
  // Packed (see object_cache.h): an Application's status lists every object it manages, so
  // this cache grows with them, and it is read only by the handlers and when a source moves.
  kube::InformerOptions app_options;
  app_options.storage = kube::CacheStorage::kPacked;
  kube::SharedInformer& apps = manager.Informer(kApplicationGvk, app_options);
  kube::SharedInformer& repos = manager.Informer(kGitRepositoryGvk);

  // The queues exist only once the controllers are added, and the controllers need these
  // callbacks first; the callbacks run only after Manager::Run starts the informers.
  c->watcher = std::make_unique<ManagedObjectWatcher>(
      manager.client(), [self](const kube::ObjectKey& app) { self->app_queue->Add(app); },
      manager.options().ns);
  c->git_reconciler = std::make_unique<GitRepositoryReconciler>(GitRepositoryReconcilerDeps{
      manager.client(), *c->source, manager.clock(), c->artifacts, *c->metrics, &manager.events(),
      [self, &apps](const kube::ObjectKey& repository) {
        std::vector<kube::Object> all;
        for (const kube::ObjectPtr& app : apps.List()) all.push_back(*app);
        for (const kube::ObjectKey& key : ApplicationsUsingSource(all, repository)) {
          self->app_queue->Add(key);
        }
      }});
  ApplicationReconcilerDeps app_deps{manager.client(), manager.clock(),   c->artifacts,
                                     *c->metrics,      &manager.events(), c->watcher.get()};
  app_deps.scope_namespace = manager.options().ns;
  c->app_reconciler = std::make_unique<ApplicationReconciler>(std::move(app_deps));
  c->webhooks = std::make_unique<WebhookReceiver>(
      manager.client(), *c->metrics, [self, &manager](const kube::ObjectKey& repository) {
        return manager.RequestReconcile(
            *self->git_queue, kube::ResourceRef{kGitRepositoryGvk, repository.ns, repository.name});
      });

  c->git_queue = &manager.AddController("gitrepository", *c->git_reconciler);
  c->app_queue = &manager.AddController("application", *c->app_reconciler);
  repos.AddEventHandler(EnqueueOnChange(*c->git_queue));
  apps.AddEventHandler(EnqueueOnChange(*c->app_queue));
  if (controller::HttpServer* server = manager.webhook_server(); server != nullptr) {
    server->Handle(std::string(kWebhookPathPrefix),
                   [self](const controller::HttpServerRequest& request) {
                     return self->webhooks->Handle(request);
                   });
  }
  spdlog::info("GitOps sync controllers set up; git cache in {}", options.git_cache_dir.string());
  return std::unique_ptr<SyncControllers>(std::move(c));
}

}  // namespace gantry::reconcilers
