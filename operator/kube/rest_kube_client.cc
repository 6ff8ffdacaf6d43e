#include "operator/kube/rest_kube_client.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <thread>
#include <vector>

#include "operator/common/version.h"
#include "operator/kube/api_status.h"
#include "operator/kube/encoding.h"
#include "operator/kube/http_transport.h"
#include "operator/kube/json_stream.h"
#include "operator/kube/rate_limiter.h"
#include "operator/kube/rest_mapper.h"

namespace gantry::kube {
namespace {

constexpr int kMaxThrottleRetries = 3;
constexpr std::chrono::seconds kMaxRetryAfter{10};

constexpr std::string_view kJson = "application/json";

// Builds "?a=b&c=d" with escaped values.
class Query {
 public:
  Query& Add(std::string_view key, std::string_view value) {
    if (value.empty()) return *this;
    out_ += out_.empty() ? '?' : '&';
    out_ += key;
    out_ += '=';
    out_ += UrlEscape(value);
    return *this;
  }
  Query& AddIf(bool cond, std::string_view key, std::string_view value) {
    return cond ? Add(key, value) : *this;
  }
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategic:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

std::string_view PropagationName(PropagationPolicy p) {
  switch (p) {
    case PropagationPolicy::kForeground:
      return "Foreground";
    case PropagationPolicy::kBackground:
      return "Background";
    case PropagationPolicy::kOrphan:
      return "Orphan";
    case PropagationPolicy::kDefault:
      return "";
  }
  return "";
}

constexpr char kLastApplied[] = "kubectl.kubernetes.io/last-applied-configuration";

// Parses an answer, dropping managedFields and the last-applied annotation of the objects
// whose "metadata" key sits at `metadata_depth` (nlohmann's depth of that key: 1 for a single
// object, 2 in a watch event, 3 in a list's items), so they are never allocated. The key path
// is tracked so that a data key that happens to be called "managedFields" is kept.
Object ParseStripping(std::string_view body, int metadata_depth) {
  std::vector<std::string> keys;  // keys[d]: the last key read at depth d
  return Object::parse(
      body,
      [&](int depth, Object::parse_event_t event, Object& parsed) {
        if (event != Object::parse_event_t::key) return true;
        size_t d = static_cast<size_t>(depth);
        if (keys.size() <= d) keys.resize(d + 1);
        keys[d] = parsed.get<std::string>();
        if (depth == metadata_depth + 1 && keys[d - 1] == "metadata" &&
            keys[d] == "managedFields") {
          return false;
        }
        if (depth == metadata_depth + 2 && keys[d - 1] == "annotations" &&
            keys[d - 2] == "metadata" && keys[d] == kLastApplied) {
          return false;
        }
        return true;
      },
      /*allow_exceptions=*/false);
}

Result<Object> ParseJson(std::string_view body, std::string_view what,
                         int strip_metadata_depth = 0) {
  Object parsed = strip_metadata_depth > 0
                      ? ParseStripping(body, strip_metadata_depth)
                      : Object::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Internal(
        fmt::format("{}: the server's answer is not JSON: {}", what, body.substr(0, 200)));
  }
  return parsed;
}

class RestKubeClient final : public KubeClient {
 public:
  RestKubeClient(RestConfig config, std::unique_ptr<HttpTransport> transport, Clock& clock)
      : config_(std::move(config)),
        transport_(std::move(transport)),
        clock_(clock),
        limiter_(config_.qps, config_.burst, clock),
        mapper_([this](const std::string& path) { return GetJson(path, "discovery"); }) {
    if (!config_.bearer_token_file.empty()) {
      token_file_ = std::make_unique<BearerTokenFile>(config_.bearer_token_file, clock_);
    }
    if (config_.user_agent.empty()) config_.user_agent = fmt::format("gantry/{}", Version());
  }

  // KubeClient
  Result<RestMapping> Mapping(const GroupVersionKind& gvk) override { return mapper_.Mapping(gvk); }
  Result<RestMapping> MappingForResource(const std::string& group, const std::string& version,
                                         const std::string& resource) override {
    return mapper_.MappingForResource(group, version, resource);
  }
  Result<Object> ServerVersion() override { return GetJson("/version", "get server version"); }
  Result<Object> Get(const ResourceRef& ref, const GetOptions& options) override;
  Result<ObjectList> List(const GroupVersionKind& gvk, const std::string& ns,
                          const ListOptions& options) override;
  Result<Object> Create(const Object& object, const WriteOptions& options) override;
  Result<Object> Update(const Object& object, const WriteOptions& options) override {
    return Put(object, "", options);
  }
  Result<Object> UpdateStatus(const Object& object, const WriteOptions& options) override {
    return Put(object, "status", options);
  }
  Status Delete(const ResourceRef& ref, const DeleteOptions& options) override;
  Result<Object> Patch(const ResourceRef& ref, PatchType type, const Object& patch,
                       const PatchOptions& options) override;
  Result<Object> Apply(const Object& object, const ApplyOptions& options) override;
  Result<Object> GetScale(const ResourceRef& ref) override;
  Result<Object> UpdateScale(const ResourceRef& ref, int32_t replicas,
                             const WriteOptions& options) override;
  Result<Object> CreateSubresource(const ResourceRef& parent, const std::string& subresource,
                                   const Object& body, const WriteOptions& options) override;
  Status Watch(const GroupVersionKind& gvk, const std::string& ns, const WatchOptions& options,
               const std::function<Status(const WatchEvent&)>& on_event,
               std::stop_token stop) override;

 private:
  // "/api/v1/namespaces/ns/pods" (+ "/name" (+ "/sub")). `name` empty: the collection.
  Result<std::string> PathFor(const GroupVersionKind& gvk, const std::string& ns,
                              const std::string& name, const std::string& subresource,
                              bool require_namespace);
  Result<std::string> PathFor(const ResourceRef& ref, const std::string& subresource = "") {
    return PathFor(ref.gvk, ref.ns, ref.name, subresource, true);
  }
  Status AddAuth(HttpRequest& request);
  // Sends with throttling, auth and retries; returns the answer if 2xx, else its Status.
  // `verb` names the request in RestConfig::on_request ("get", "apply_dry_run", ...).
  Result<HttpResponse> Send(std::string_view verb, HttpRequest request, std::string_view what,
                            std::chrono::milliseconds timeout);
  Result<Object> SendJson(std::string_view verb, std::string method, std::string target,
                          std::string body, std::string_view content_type, std::string_view what,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
                          int strip_metadata_depth = 0);
  Result<Object> GetJson(const std::string& path, std::string_view what) {
    return SendJson("get", "GET", path, "", "", what);
  }
  void CountRequest(std::string_view verb, int code) {
    if (config_.on_request) config_.on_request(verb, code);
  }
  Result<Object> Put(const Object& object, const std::string& subresource,
                     const WriteOptions& options);
  void Throttle() {
    Clock::Duration wait = limiter_.Reserve();
    if (wait > Clock::Duration::zero()) std::this_thread::sleep_for(wait);
  }

  RestConfig config_;
  std::unique_ptr<HttpTransport> transport_;
  Clock& clock_;
  TokenBucket limiter_;
  RestMapper mapper_;
  std::unique_ptr<BearerTokenFile> token_file_;
};

Result<std::string> RestKubeClient::PathFor(const GroupVersionKind& gvk, const std::string& ns,
                                            const std::string& name, const std::string& subresource,
                                            bool require_namespace) {
  Result<RestMapping> mapping = mapper_.Mapping(gvk);
  if (!mapping.ok()) return mapping.status();
  std::string path = gvk.group.empty() ? fmt::format("/api/{}", gvk.version)
                                       : fmt::format("/apis/{}/{}", gvk.group, gvk.version);
  if (mapping->namespaced) {
    if (!ns.empty()) {
      path += "/namespaces/" + UrlEscape(ns);
    } else if (require_namespace) {
      return InvalidArgument(
          fmt::format("{} {} is namespaced but no namespace was given", gvk.kind, name));
    }
  }
  path += "/" + mapping->resource;
  if (!name.empty()) path += "/" + UrlEscape(name);
  if (!subresource.empty()) path += "/" + subresource;
  return path;
}

Status RestKubeClient::AddAuth(HttpRequest& request) {
  if (token_file_) {
    Result<std::string> token = token_file_->Token();
    if (!token.ok()) return token.status();
    request.headers.emplace_back("Authorization", "Bearer " + *token);
  } else if (!config_.bearer_token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + config_.bearer_token);
  } else if (!config_.username.empty()) {
    request.headers.emplace_back(
        "Authorization", "Basic " + Base64Encode(config_.username + ":" + config_.password));
  }
  return Status::Ok();
}

Result<HttpResponse> RestKubeClient::Send(std::string_view verb, HttpRequest request,
                                          std::string_view what,
                                          std::chrono::milliseconds timeout) {
  request.headers.emplace_back("User-Agent", config_.user_agent);
  if (timeout <= std::chrono::milliseconds::zero()) timeout = config_.timeout;
  const size_t base_headers = request.headers.size();
  bool reauthenticated = false;
  for (int attempt = 0;; ++attempt) {
    request.headers.resize(base_headers);
    GANTRY_RETURN_IF_ERROR(AddAuth(request));
    Throttle();
    Result<HttpResponse> response = transport_->RoundTrip(request, timeout);
    CountRequest(verb, response.ok() ? response->status : 0);
    if (!response.ok()) return response.status().WithContext(what);
    int code = response->status;
    if (code >= 200 && code <= 299) return response;

    if (code == 401 && token_file_ && !reauthenticated) {
      // The token may have rotated since it was last read.
      token_file_->Invalidate();
      reauthenticated = true;
      continue;
    }
    std::string_view retry_after = response->Header("retry-after");
    Status status =
        StatusFromHttp(code, response->body,
                       retry_after.empty() ? std::nullopt : std::optional(retry_after), what);
    bool throttled = code == 429 || (code == 503 && !retry_after.empty());
    if (throttled && attempt < kMaxThrottleRetries && status.retry_after() &&
        *status.retry_after() <= kMaxRetryAfter) {
      spdlog::debug("{}: server asked to retry after {}s", what, status.retry_after()->count());
      std::this_thread::sleep_for(*status.retry_after());
      continue;
    }
    return status;
  }
}

Result<Object> RestKubeClient::SendJson(std::string_view verb, std::string method,
                                        std::string target, std::string body,
                                        std::string_view content_type, std::string_view what,
                                        std::chrono::milliseconds timeout,
                                        int strip_metadata_depth) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  request.headers.emplace_back("Accept", std::string(kJson));
  if (!content_type.empty())
    request.headers.emplace_back("Content-Type", std::string(content_type));
  Result<HttpResponse> response = Send(verb, std::move(request), what, timeout);
  if (!response.ok()) return response.status();
  return ParseJson(response->body, what, strip_metadata_depth);
}

Result<Object> RestKubeClient::Get(const ResourceRef& ref, const GetOptions& options) {
  std::string what = fmt::format("get {} {}", ref.gvk.kind, ObjectKey{ref.ns, ref.name}.ToString());
  if (ref.name.empty()) return InvalidArgument(what + ": no name given");
  Result<std::string> path = PathFor(ref);
  if (!path.ok()) return path.status().WithContext(what);
  return GetJson(*path + Query().Add("resourceVersion", options.resource_version).str(), what);
}

Result<ObjectList> RestKubeClient::List(const GroupVersionKind& gvk, const std::string& ns,
                                        const ListOptions& options) {
  std::string what = ns.empty() ? fmt::format("list {}", gvk.ToString())
                                : fmt::format("list {} in namespace {}", gvk.ToString(), ns);
  Result<std::string> path = PathFor(gvk, ns, "", "", false);
  if (!path.ok()) return path.status().WithContext(what);
  Query q;
  q.Add("labelSelector", options.label_selector)
      .Add("fieldSelector", options.field_selector)
      .AddIf(options.limit > 0, "limit", std::to_string(options.limit))
      .Add("continue", options.continue_token)
      .Add("resourceVersion", options.resource_version)
      .AddIf(options.timeout.count() > 0, "timeoutSeconds",
             std::to_string(options.timeout.count()));
  std::chrono::milliseconds timeout =
      options.timeout.count() > 0
          ? std::chrono::milliseconds(options.timeout) + std::chrono::seconds(5)
          : std::chrono::milliseconds(0);
  Result<Object> list = SendJson("list", "GET", *path + q.str(), "", "", what, timeout,
                                 options.strip_managed_fields ? 3 : 0);
  if (!list.ok()) return list.status();
  ObjectList out;
  const Object& meta = (*list)["metadata"];
  if (meta.is_object()) {
    out.resource_version = meta.value("resourceVersion", "");
    out.continue_token = meta.value("continue", "");
    if (auto rc = meta.find("remainingItemCount"); rc != meta.end() && rc->is_number_integer()) {
      out.remaining_item_count = rc->get<int64_t>();
    }
  }
  // Items of a list carry no apiVersion/kind; restore them so each object stands alone.
  if (auto items = list->find("items"); items != list->end() && items->is_array()) {
    out.items.reserve(items->size());
    std::string api_version = gvk.ApiVersion();
    for (Object& item : *items) {
      item["apiVersion"] = api_version;
      item["kind"] = gvk.kind;
      out.items.push_back(std::move(item));
    }
  }
  return out;
}

Result<Object> RestKubeClient::Create(const Object& object, const WriteOptions& options) {
  Result<ResourceRef> ref = ResourceRef::FromObject(object);
  if (!ref.ok()) return ref.status().WithContext("create");
  std::string what =
      fmt::format("create {} {}", ref->gvk.kind, ObjectKey{ref->ns, ref->name}.ToString());
  Result<std::string> path = PathFor(ref->gvk, ref->ns, "", "", true);
  if (!path.ok()) return path.status().WithContext(what);
  Query q;
  q.AddIf(options.dry_run, "dryRun", "All").Add("fieldManager", options.field_manager);
  return SendJson(options.dry_run ? "create_dry_run" : "create", "POST", *path + q.str(),
                  object.dump(), kJson, what);
}

Result<Object> RestKubeClient::Put(const Object& object, const std::string& subresource,
                                   const WriteOptions& options) {
  Result<ResourceRef> ref = ResourceRef::FromObject(object);
  if (!ref.ok()) return ref.status().WithContext("update");
  std::string what =
      fmt::format("update {}{} {}", ref->gvk.kind, subresource.empty() ? "" : " " + subresource,
                  ObjectKey{ref->ns, ref->name}.ToString());
  if (ref->name.empty()) return InvalidArgument(what + ": object has no metadata.name");
  Result<std::string> path = PathFor(*ref, subresource);
  if (!path.ok()) return path.status().WithContext(what);
  Query q;
  q.AddIf(options.dry_run, "dryRun", "All").Add("fieldManager", options.field_manager);
  return SendJson(options.dry_run ? "update_dry_run" : "update", "PUT", *path + q.str(),
                  object.dump(), kJson, what);
}

Status RestKubeClient::Delete(const ResourceRef& ref, const DeleteOptions& options) {
  std::string what =
      fmt::format("delete {} {}", ref.gvk.kind, ObjectKey{ref.ns, ref.name}.ToString());
  if (ref.name.empty()) return InvalidArgument(what + ": no name given");
  Result<std::string> path = PathFor(ref);
  if (!path.ok()) return path.status().WithContext(what);
  Object body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (options.propagation_policy != PropagationPolicy::kDefault) {
    body["propagationPolicy"] = PropagationName(options.propagation_policy);
  }
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  if (options.dry_run) body["dryRun"] = Object::array({"All"});
  Query q;
  q.AddIf(options.dry_run, "dryRun", "All");
  return SendJson(options.dry_run ? "delete_dry_run" : "delete", "DELETE", *path + q.str(),
                  body.dump(), kJson, what)
      .status();
}

Result<Object> RestKubeClient::Patch(const ResourceRef& ref, PatchType type, const Object& patch,
                                     const PatchOptions& options) {
  std::string what = fmt::format("patch {}{} {}", ref.gvk.kind,
                                 options.subresource.empty() ? "" : " " + options.subresource,
                                 ObjectKey{ref.ns, ref.name}.ToString());
  if (ref.name.empty()) return InvalidArgument(what + ": no name given");
  Result<std::string> path = PathFor(ref, options.subresource);
  if (!path.ok()) return path.status().WithContext(what);
  Query q;
  q.AddIf(options.dry_run, "dryRun", "All").Add("fieldManager", options.field_manager);
  return SendJson(options.dry_run ? "patch_dry_run" : "patch", "PATCH", *path + q.str(),
                  patch.dump(), PatchContentType(type), what);
}

Result<Object> RestKubeClient::Apply(const Object& object, const ApplyOptions& options) {
  Result<ResourceRef> ref = ResourceRef::FromObject(object);
  if (!ref.ok()) return ref.status().WithContext("apply");
  std::string what = fmt::format("apply {}{} {}", ref->gvk.kind,
                                 options.subresource.empty() ? "" : " " + options.subresource,
                                 ObjectKey{ref->ns, ref->name}.ToString());
  if (ref->name.empty()) return InvalidArgument(what + ": object has no metadata.name");
  if (options.field_manager.empty()) {
    return InvalidArgument(what + ": server-side apply needs a field manager");
  }
  Result<std::string> path = PathFor(*ref, options.subresource);
  if (!path.ok()) return path.status().WithContext(what);
  Query q;
  q.AddIf(options.dry_run, "dryRun", "All")
      .Add("fieldManager", options.field_manager)
      .AddIf(options.force, "force", "true");
  // JSON is YAML, so the object goes as it is under the apply content type.
  return SendJson(options.dry_run ? "apply_dry_run" : "apply", "PATCH", *path + q.str(),
                  object.dump(), "application/apply-patch+yaml", what);
}

Result<Object> RestKubeClient::GetScale(const ResourceRef& ref) {
  std::string what =
      fmt::format("get scale of {} {}", ref.gvk.kind, ObjectKey{ref.ns, ref.name}.ToString());
  Result<std::string> path = PathFor(ref, "scale");
  if (!path.ok()) return path.status().WithContext(what);
  return GetJson(*path, what);
}

Result<Object> RestKubeClient::UpdateScale(const ResourceRef& ref, int32_t replicas,
                                           const WriteOptions& options) {
  PatchOptions patch_options;
  patch_options.dry_run = options.dry_run;
  patch_options.field_manager = options.field_manager;
  patch_options.subresource = "scale";
  return Patch(ref, PatchType::kMerge, Object{{"spec", {{"replicas", replicas}}}}, patch_options);
}

Result<Object> RestKubeClient::CreateSubresource(const ResourceRef& parent,
                                                 const std::string& subresource, const Object& body,
                                                 const WriteOptions& options) {
  std::string what = fmt::format("create {} of {} {}", subresource, parent.gvk.kind,
                                 ObjectKey{parent.ns, parent.name}.ToString());
  Result<std::string> path = PathFor(parent, subresource);
  if (!path.ok()) return path.status().WithContext(what);
  Query q;
  q.AddIf(options.dry_run, "dryRun", "All").Add("fieldManager", options.field_manager);
  return SendJson(options.dry_run ? "create_dry_run" : "create", "POST", *path + q.str(),
                  body.dump(), kJson, what);
}

Status RestKubeClient::Watch(const GroupVersionKind& gvk, const std::string& ns,
                             const WatchOptions& options,
                             const std::function<Status(const WatchEvent&)>& on_event,
                             std::stop_token stop) {
  std::string what = ns.empty() ? fmt::format("watch {}", gvk.ToString())
                                : fmt::format("watch {} in namespace {}", gvk.ToString(), ns);
  Result<std::string> path = PathFor(gvk, ns, "", "", false);
  if (!path.ok()) return path.status().WithContext(what);
  Query q;
  q.Add("watch", "true")
      .Add("labelSelector", options.label_selector)
      .Add("fieldSelector", options.field_selector)
      .Add("resourceVersion", options.resource_version)
      .AddIf(options.allow_bookmarks, "allowWatchBookmarks", "true")
      .AddIf(options.timeout.count() > 0, "timeoutSeconds",
             std::to_string(options.timeout.count()));
  HttpRequest request;
  request.method = "GET";
  request.target = *path + q.str();
  request.headers.emplace_back("Accept", std::string(kJson));
  request.headers.emplace_back("User-Agent", config_.user_agent);
  GANTRY_RETURN_IF_ERROR(AddAuth(request));
  Throttle();

  const std::string api_version = gvk.ApiVersion();
  JsonObjectSplitter splitter;
  auto on_frame = [&](std::string_view frame) -> Status {
    Object event = options.strip_managed_fields
                       ? ParseStripping(frame, 2)
                       : Object::parse(frame, nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || !event.is_object()) {
      return Internal(fmt::format("{}: malformed event: {}", what, frame.substr(0, 200)));
    }
    std::string type = event.value("type", "");
    WatchEvent out;
    if (type == "ADDED") {
      out.type = WatchEvent::Type::kAdded;
    } else if (type == "MODIFIED") {
      out.type = WatchEvent::Type::kModified;
    } else if (type == "DELETED") {
      out.type = WatchEvent::Type::kDeleted;
    } else if (type == "BOOKMARK") {
      out.type = WatchEvent::Type::kBookmark;
    } else if (type == "ERROR") {
      Status s = StatusFromApiStatus(event["object"], what);
      return s.ok() ? Internal(what + ": ERROR event without a failure") : s;
    } else {
      return Internal(fmt::format("{}: unknown event type \"{}\"", what, type));
    }
    out.object = std::move(event["object"]);
    if (out.object.is_object() && out.type != WatchEvent::Type::kBookmark) {
      if (!out.object.contains("apiVersion")) out.object["apiVersion"] = api_version;
      if (!out.object.contains("kind")) out.object["kind"] = gvk.kind;
    }
    return on_event(out);
  };
  std::chrono::seconds idle = options.idle_timeout.count() > 0
                                  ? options.idle_timeout
                                  : options.timeout + std::chrono::seconds(30);
  Result<HttpResponse> response = transport_->Stream(
      request, config_.timeout, idle,
      [&](std::string_view bytes) { return splitter.Feed(bytes, on_frame); }, stop);
  // Counted when it ends: a watch is one request however long it streams. A stream cut by
  // the client (Cancelled) or broken (no answer) counts with code 0.
  CountRequest("watch", response.ok() ? response->status : 0);
  if (!response.ok()) {
    const Status& s = response.status();
    // Errors from on_event or an ERROR event already carry their context.
    return s;
  }
  if (response->status < 200 || response->status > 299) {
    if (response->status == 401 && token_file_) token_file_->Invalidate();
    std::string_view retry_after = response->Header("retry-after");
    return StatusFromHttp(response->status, response->body,
                          retry_after.empty() ? std::nullopt : std::optional(retry_after), what);
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<KubeClient> NewRestKubeClientOverTransport(const RestConfig& config,
                                                           std::unique_ptr<HttpTransport> transport,
                                                           Clock& clock) {
  return std::make_unique<RestKubeClient>(config, std::move(transport), clock);
}

Result<std::unique_ptr<KubeClient>> NewRestKubeClient(const RestConfig& config, Clock& clock) {
  TransportOptions options;
  options.server = config.server;
  options.ca_pem = config.ca_pem;
  options.insecure_skip_tls_verify = config.insecure_skip_tls_verify;
  options.tls_server_name = config.tls_server_name;
  options.client_cert_pem = config.client_cert_pem;
  options.client_key_pem = config.client_key_pem;
  // Enough idle connections that a full set of workers never has to dial.
  options.max_idle_connections = std::max(16, config.burst);
  Result<std::unique_ptr<HttpTransport>> transport = NewBeastHttpTransport(options);
  if (!transport.ok()) return transport.status().WithContext(config.origin);
  return std::unique_ptr<KubeClient>(
      std::make_unique<RestKubeClient>(config, std::move(transport).value(), clock));
}

}  // namespace gantry::kube
