#include "operator/kube/informer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>

namespace gantry::kube {
namespace {

constexpr char kLastApplied[] = "kubectl.kubernetes.io/last-applied-configuration";

std::chrono::milliseconds Jittered(std::chrono::milliseconds d) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> factor(1.0, 1.5);
  return std::chrono::milliseconds(static_cast<int64_t>(d.count() * factor(rng)));
}

std::chrono::seconds WatchTimeout(std::chrono::seconds base) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  if (base.count() <= 0) return base;
  std::uniform_int_distribution<int64_t> extra(0, base.count() - 1);
  return base + std::chrono::seconds(extra(rng));
}

}  // namespace

void StripForCache(Object& object) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return;
  meta->erase("managedFields");
  auto annotations = meta->find("annotations");
  if (annotations != meta->end() && annotations->is_object()) {
    annotations->erase(kLastApplied);
    if (annotations->empty()) meta->erase(annotations);
  }
}

SharedInformer::SharedInformer(KubeClient& client, GroupVersionKind gvk, InformerOptions options)
    : client_(client),
      gvk_(std::move(gvk)),
      options_(std::move(options)),
      cache_(options_.storage) {}

SharedInformer::~SharedInformer() { Stop(); }

void SharedInformer::AddEventHandler(EventHandler handler) {
  std::lock_guard lock(handlers_mu_);
  if (handler.on_add) {
    for (const ObjectPtr& object : cache_.List()) handler.on_add(object);
  }
  handlers_.push_back(std::move(handler));
}

Status SharedInformer::AddIndex(const std::string& name, ObjectCache::IndexFunc func) {
  return cache_.AddIndex(name, std::move(func));
}

void SharedInformer::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Run(stop); });
}

void SharedInformer::Stop() {
  std::jthread thread;
  {
    std::lock_guard lock(mu_);
    thread = std::move(thread_);
  }
  if (thread.joinable()) {
    thread.request_stop();
    thread.join();
  }
}

bool SharedInformer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  synced_cv_.wait_for(lock, timeout, [this] { return synced_.load(); });
  return synced_.load();
}

std::string SharedInformer::LastResourceVersion() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

InformerStats SharedInformer::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

ObjectPtr SharedInformer::Prepare(Object object) const {
  StripForCache(object);
  if (options_.transform) options_.transform(object);
  return std::make_shared<const Object>(std::move(object));
}

void SharedInformer::Dispatch(const std::function<void(const EventHandler&)>& call) {
  std::lock_guard lock(handlers_mu_);
  for (const EventHandler& h : handlers_) call(h);
}

bool SharedInformer::SleepFor(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

void SharedInformer::RecordError(const Status& s) {
  std::lock_guard lock(mu_);
  stats_.last_error = s.ToString();
}

Status SharedInformer::ListAndReplace(std::stop_token stop, std::string& resource_version) {
  ListOptions options;
  options.label_selector = options_.label_selector;
  options.field_selector = options_.field_selector;
  options.limit = options_.page_size;
  options.strip_managed_fields = true;
  Result<ObjectList> list = client_.ListAll(gvk_, options_.ns, options);
  if (!list.ok() && list.status().code() == StatusCode::kGone && !stop.stop_requested()) {
    // A continue token expired between pages: list again from the start.
    list = client_.ListAll(gvk_, options_.ns, options);
  }
  if (!list.ok()) return list.status();
  std::vector<ObjectPtr> objects;
  objects.reserve(list->items.size());
  for (Object& item : list->items) objects.push_back(Prepare(std::move(item)));
  list->items.clear();
  resource_version = list->resource_version;

  {
    // Recorded first, so a handler that looks sees the list it is told about.
    std::lock_guard lock(mu_);
    ++stats_.lists;
    resource_version_ = resource_version;
  }
  {
    // Holding the handler lock across the replace keeps a handler added concurrently from
    // hearing an object twice (once replayed, once as a delta).
    std::lock_guard lock(handlers_mu_);
    ObjectCache::ReplaceDelta delta = cache_.Replace(std::move(objects));
    for (const EventHandler& h : handlers_) {
      if (h.on_add) {
        for (const ObjectPtr& o : delta.added) h.on_add(o);
      }
      if (h.on_update) {
        for (const auto& [old_object, new_object] : delta.updated)
          h.on_update(old_object, new_object);
      }
      if (h.on_delete) {
        for (const ObjectPtr& o : delta.deleted) h.on_delete(o);
      }
    }
  }
  if (!synced_.exchange(true)) {
    std::lock_guard lock(mu_);
    synced_cv_.notify_all();
  }
  return Status::Ok();
}

Status SharedInformer::WatchOnce(std::stop_token stop, std::string& resource_version) {
  WatchOptions options;
  options.label_selector = options_.label_selector;
  options.field_selector = options_.field_selector;
  options.resource_version = resource_version;
  options.allow_bookmarks = true;
  options.strip_managed_fields = true;
  options.timeout = WatchTimeout(options_.watch_timeout);
  {
    std::lock_guard lock(mu_);
    ++stats_.watches;
  }
  return client_.Watch(
      gvk_, options_.ns, options,
      [&](const WatchEvent& event) -> Status {
        // Recorded first, so a handler that looks sees the version of what it was told.
        const std::string& rv = ResourceVersionOf(event.object);
        if (!rv.empty()) {
          resource_version = rv;
          std::lock_guard lock(mu_);
          resource_version_ = rv;
        }
        switch (event.type) {
          case WatchEvent::Type::kBookmark:
            break;
          case WatchEvent::Type::kAdded:
          case WatchEvent::Type::kModified: {
            ObjectPtr object = Prepare(event.object);
            std::lock_guard lock(handlers_mu_);
            ObjectPtr old = cache_.Upsert(object);
            for (const EventHandler& h : handlers_) {
              if (old == nullptr) {
                if (h.on_add) h.on_add(object);
              } else if (h.on_update) {
                h.on_update(old, object);
              }
            }
            break;
          }
          case WatchEvent::Type::kDeleted: {
            std::lock_guard lock(handlers_mu_);
            ObjectPtr old = cache_.Remove(KeyOf(event.object));
            if (old == nullptr) break;  // never cached: nothing to tell
            ObjectPtr last = Prepare(event.object);
            for (const EventHandler& h : handlers_) {
              if (h.on_delete) h.on_delete(last);
            }
            break;
          }
        }
        return Status::Ok();
      },
      stop);
}

void SharedInformer::Run(std::stop_token stop) {
  std::string what = options_.ns.empty()
                         ? gvk_.ToString()
                         : fmt::format("{} in namespace {}", gvk_.ToString(), options_.ns);
  std::chrono::milliseconds backoff = options_.initial_backoff;
  auto back_off = [&]() {
    bool go_on = SleepFor(stop, Jittered(backoff));
    backoff = std::min(backoff * 2, options_.max_backoff);
    return go_on;
  };
  bool need_list = true;
  std::string rv;
  while (!stop.stop_requested()) {
    if (need_list) {
      Status listed = ListAndReplace(stop, rv);
      if (!listed.ok()) {
        if (stop.stop_requested()) break;
        RecordError(listed);
        spdlog::warn("informer {}: list failed, retrying: {}", what, listed.ToString());
        if (!back_off()) break;
        continue;
      }
      spdlog::debug("informer {}: listed {} objects at resourceVersion {}", what, cache_.Size(),
                    rv);
      need_list = false;
      backoff = options_.initial_backoff;
    }
    auto started = std::chrono::steady_clock::now();
    Status watched = WatchOnce(stop, rv);
    if (stop.stop_requested()) break;
    if (watched.ok()) {
      backoff = options_.initial_backoff;
      continue;  // the server's timeout: resume from rv
    }
    RecordError(watched);
    if (watched.code() == StatusCode::kGone) {
      spdlog::info("informer {}: resourceVersion {} is gone, listing again", what, rv);
      need_list = true;
      continue;
    }
    // A watch that ran for a while before failing was healthy: start the backoff over.
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(30)) {
      backoff = options_.initial_backoff;
    }
    spdlog::warn("informer {}: watch ended, resuming from resourceVersion {}: {}", what, rv,
                 watched.ToString());
    if (!back_off()) break;
  }
}

}  // namespace gantry::kube
