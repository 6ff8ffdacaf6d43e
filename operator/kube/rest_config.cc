#include "operator/kube/rest_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "operator/common/version.h"
#include "operator/kube/encoding.h"

namespace gantry::kube {
namespace {

namespace fs = std::filesystem;

// One named entry of a kubeconfig file, with where it was found so errors can point at it.
struct Origin {
  std::string file;
  int line = 0;
  std::string Where() const { return fmt::format("kubeconfig {} line {}", file, line); }
};

struct ClusterEntry {
  Origin origin;
  std::string server, ca_file, ca_data, tls_server_name;
  bool insecure = false;
};

struct UserEntry {
  Origin origin;
  std::string token, token_file, cert_file, cert_data, key_file, key_data, username, password;
  bool exec = false;
  bool auth_provider = false;
};

struct ContextEntry {
  Origin origin;
  std::string cluster, user, ns;
};

struct Kubeconfig {
  std::optional<std::pair<std::string, Origin>> current_context;
  std::map<std::string, ClusterEntry> clusters;
  std::map<std::string, UserEntry> users;
  std::map<std::string, ContextEntry> contexts;
};

Status ErrorAt(const Origin& at, std::string_view what) {
  return InvalidArgument(fmt::format("{}: {}", at.Where(), what));
}

Origin At(std::string_view file, const YAML::Node& node) {
  return Origin{std::string(file), node.Mark().line + 1};
}

// Reads parent[key] as a string; absent or null gives "". A map or list is an error at its
// line.
Result<std::string> ScalarField(std::string_view file, const YAML::Node& parent, const char* key,
                                std::string_view entry) {
  YAML::Node node = parent[key];
  if (!node || node.IsNull()) return std::string();
  if (!node.IsScalar()) {
    return ErrorAt(At(file, node), fmt::format("{}: {} must be a string", entry, key));
  }
  return node.Scalar();
}

Result<bool> BoolField(std::string_view file, const YAML::Node& parent, const char* key,
                       std::string_view entry) {
  YAML::Node node = parent[key];
  if (!node || node.IsNull()) return false;
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    return ErrorAt(At(file, node), fmt::format("{}: {} must be true or false", entry, key));
  }
  return value;
}

// Parses the list under `key` (clusters, users, contexts): each item has a name and a body
// under `body_key`. Calls add(name, body, origin) for each.
template <typename AddFn>
Status ForEachNamed(std::string_view file, const YAML::Node& root, const char* key,
                    const char* body_key, AddFn add) {
  YAML::Node list = root[key];
  if (!list || list.IsNull()) return Status::Ok();
  if (!list.IsSequence()) return ErrorAt(At(file, list), fmt::format("{} must be a list", key));
  for (const YAML::Node& item : list) {
    Origin origin = At(file, item);
    if (!item.IsMap()) return ErrorAt(origin, fmt::format("{} entries must be maps", key));
    Result<std::string> name = ScalarField(file, item, "name", key);
    if (!name.ok()) return name.status();
    if (name->empty()) return ErrorAt(origin, fmt::format("an entry of {} has no name", key));
    YAML::Node body = item[body_key];
    if (!body || body.IsNull()) body = YAML::Node(YAML::NodeType::Map);
    if (!body.IsMap()) {
      return ErrorAt(At(file, body),
                     fmt::format("{} \"{}\": {} must be a map", key, *name, body_key));
    }
    GANTRY_RETURN_IF_ERROR(add(*name, body, origin));
  }
  return Status::Ok();
}

// Parses one file into `config`, keeping entries already present (first file wins).
Status ParseInto(std::string_view yaml, std::string_view file, Kubeconfig& config) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("kubeconfig {} line {}: {}", file, e.mark.line + 1, e.msg));
  }
  if (!root || root.IsNull()) return Status::Ok();  // an empty file is an empty config
  if (!root.IsMap()) return ErrorAt(At(file, root), "a kubeconfig must be a YAML map");

  try {
    if (YAML::Node cc = root["current-context"];
        cc && cc.IsScalar() && !cc.Scalar().empty() && !config.current_context) {
      config.current_context = std::make_pair(cc.Scalar(), At(file, cc));
    }
    GANTRY_RETURN_IF_ERROR(ForEachNamed(
        file, root, "clusters", "cluster",
        [&](const std::string& name, const YAML::Node& body, const Origin& origin) -> Status {
          if (config.clusters.count(name)) return Status::Ok();
          std::string entry = fmt::format("cluster \"{}\"", name);
          ClusterEntry c;
          c.origin = origin;
          for (auto [key, out] :
               {std::pair{"server", &c.server}, std::pair{"certificate-authority", &c.ca_file},
                std::pair{"certificate-authority-data", &c.ca_data},
                std::pair{"tls-server-name", &c.tls_server_name}}) {
            Result<std::string> v = ScalarField(file, body, key, entry);
            if (!v.ok()) return v.status();
            *out = *v;
          }
          Result<bool> insecure = BoolField(file, body, "insecure-skip-tls-verify", entry);
          if (!insecure.ok()) return insecure.status();
          c.insecure = *insecure;
          config.clusters.emplace(name, std::move(c));
          return Status::Ok();
        }));
    GANTRY_RETURN_IF_ERROR(ForEachNamed(
        file, root, "users", "user",
        [&](const std::string& name, const YAML::Node& body, const Origin& origin) -> Status {
          if (config.users.count(name)) return Status::Ok();
          std::string entry = fmt::format("user \"{}\"", name);
          UserEntry u;
          u.origin = origin;
          for (auto [key, out] :
               {std::pair{"token", &u.token}, std::pair{"tokenFile", &u.token_file},
                std::pair{"client-certificate", &u.cert_file},
                std::pair{"client-certificate-data", &u.cert_data},
                std::pair{"client-key", &u.key_file}, std::pair{"client-key-data", &u.key_data},
                std::pair{"username", &u.username}, std::pair{"password", &u.password}}) {
            Result<std::string> v = ScalarField(file, body, key, entry);
            if (!v.ok()) return v.status();
            *out = *v;
          }
          u.exec = body["exec"] && !body["exec"].IsNull();
          u.auth_provider = body["auth-provider"] && !body["auth-provider"].IsNull();
          config.users.emplace(name, std::move(u));
          return Status::Ok();
        }));
    GANTRY_RETURN_IF_ERROR(ForEachNamed(
        file, root, "contexts", "context",
        [&](const std::string& name, const YAML::Node& body, const Origin& origin) -> Status {
          if (config.contexts.count(name)) return Status::Ok();
          std::string entry = fmt::format("context \"{}\"", name);
          ContextEntry c;
          c.origin = origin;
          for (auto [key, out] : {std::pair{"cluster", &c.cluster}, std::pair{"user", &c.user},
                                  std::pair{"namespace", &c.ns}}) {
            Result<std::string> v = ScalarField(file, body, key, entry);
            if (!v.ok()) return v.status();
            *out = *v;
          }
          config.contexts.emplace(name, std::move(c));
          return Status::Ok();
        }));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(fmt::format("kubeconfig {} line {}: {}", file, e.mark.line + 1, e.msg));
  }
  return Status::Ok();
}

std::string ResolvePath(const Origin& origin, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(origin.file).parent_path() / path).lexically_normal().string();
}

// Inline base64 data wins over a file, as in client-go.
Result<std::string> Credential(const Origin& origin, std::string_view entry,
                               const std::string& data_b64, std::string_view data_key,
                               const std::string& file, std::string_view file_key) {
  if (!data_b64.empty()) {
    Result<std::string> decoded = Base64Decode(data_b64);
    if (!decoded.ok()) {
      return ErrorAt(origin,
                     fmt::format("{}: {}: {}", entry, data_key, decoded.status().message()));
    }
    return decoded;
  }
  if (!file.empty()) {
    Result<std::string> content =
        ReadFileToString(ResolvePath(origin, file), fmt::format("{} {}", entry, file_key));
    if (!content.ok()) return content.status().WithContext(origin.Where());
    return content;
  }
  return std::string();
}

Result<RestConfig> Resolve(const Kubeconfig& config, std::string_view files,
                           std::string_view context_override) {
  std::string context_name(context_override);
  if (context_name.empty()) {
    if (!config.current_context) {
      return InvalidArgument(fmt::format(
          "kubeconfig {}: no current-context is set; pass --context to choose one", files));
    }
    context_name = config.current_context->first;
  }
  auto ctx = config.contexts.find(context_name);
  if (ctx == config.contexts.end()) {
    std::vector<std::string> known;
    for (const auto& [name, _] : config.contexts) known.push_back(name);
    return InvalidArgument(
        fmt::format("kubeconfig {}: context \"{}\" not found (have: {})", files, context_name,
                    known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
  }
  const ContextEntry& context = ctx->second;
  std::string context_entry = fmt::format("context \"{}\"", context_name);
  auto cl = config.clusters.find(context.cluster);
  if (context.cluster.empty() || cl == config.clusters.end()) {
    return ErrorAt(context.origin,
                   fmt::format("{}: cluster \"{}\" not found", context_entry, context.cluster));
  }
  const ClusterEntry& cluster = cl->second;
  std::string cluster_entry = fmt::format("cluster \"{}\"", context.cluster);

  RestConfig rc;
  rc.origin = fmt::format("kubeconfig {} (context {})", files, context_name);
  rc.server = cluster.server;
  if (rc.server.empty()) return ErrorAt(cluster.origin, cluster_entry + ": server is not set");
  while (rc.server.size() > 1 && rc.server.back() == '/') rc.server.pop_back();
  if (rc.server.rfind("https://", 0) != 0 && rc.server.rfind("http://", 0) != 0) {
    return ErrorAt(cluster.origin, fmt::format("{}: server \"{}\" must start with https://",
                                               cluster_entry, rc.server));
  }
  rc.insecure_skip_tls_verify = cluster.insecure;
  rc.tls_server_name = cluster.tls_server_name;
  Result<std::string> ca =
      Credential(cluster.origin, cluster_entry, cluster.ca_data, "certificate-authority-data",
                 cluster.ca_file, "certificate-authority");
  if (!ca.ok()) return ca.status();
  rc.ca_pem = *ca;
  if (rc.insecure_skip_tls_verify && !rc.ca_pem.empty()) {
    // The API server would refuse such a kubeconfig in kubectl too: one of them is a mistake.
    return ErrorAt(cluster.origin,
                   cluster_entry +
                       ": insecure-skip-tls-verify and a certificate authority are both set; "
                       "remove one");
  }
  rc.ns = context.ns.empty() ? "default" : context.ns;

  if (!context.user.empty()) {
    auto us = config.users.find(context.user);
    if (us == config.users.end()) {
      return ErrorAt(context.origin,
                     fmt::format("{}: user \"{}\" not found", context_entry, context.user));
    }
    const UserEntry& user = us->second;
    std::string user_entry = fmt::format("user \"{}\"", context.user);
    if (user.exec || user.auth_provider) {
      return ErrorAt(user.origin,
                     fmt::format("{}: {} credential plugins are not supported by gantry; use a "
                                 "token, a client certificate or a service account",
                                 user_entry, user.exec ? "exec" : "auth-provider"));
    }
    Result<std::string> cert =
        Credential(user.origin, user_entry, user.cert_data, "client-certificate-data",
                   user.cert_file, "client-certificate");
    if (!cert.ok()) return cert.status();
    Result<std::string> key = Credential(user.origin, user_entry, user.key_data, "client-key-data",
                                         user.key_file, "client-key");
    if (!key.ok()) return key.status();
    if (cert->empty() != key->empty()) {
      return ErrorAt(user.origin, fmt::format("{}: a client certificate needs both the "
                                              "certificate and the key; only the {} is set",
                                              user_entry, cert->empty() ? "key" : "certificate"));
    }
    rc.client_cert_pem = *cert;
    rc.client_key_pem = *key;
    rc.bearer_token = user.token;
    rc.bearer_token_file = ResolvePath(user.origin, user.token_file);
    rc.username = user.username;
    rc.password = user.password;
  }
  return rc;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\n')) ++start;
  return s.substr(start);
}

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Result<std::string> ReadFileToString(const std::string& path, std::string_view what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return NotFound(fmt::format("{}: file {} does not exist", what, path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(fmt::format("{}: cannot read {}", what, path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

Result<RestConfig> ParseKubeconfig(std::string_view yaml, std::string_view path,
                                   std::string_view context) {
  Kubeconfig config;
  GANTRY_RETURN_IF_ERROR(ParseInto(yaml, path, config));
  return Resolve(config, path, context);
}

Result<RestConfig> LoadKubeconfig(const std::vector<std::string>& paths, std::string_view context) {
  if (paths.empty()) return InvalidArgument("no kubeconfig file given");
  Kubeconfig config;
  int loaded = 0;
  for (const std::string& path : paths) {
    Result<std::string> text = ReadFileToString(path, "kubeconfig");
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound && paths.size() > 1) continue;
      return text.status();
    }
    GANTRY_RETURN_IF_ERROR(ParseInto(*text, path, config));
    ++loaded;
  }
  std::string files = fmt::format("{}", fmt::join(paths, ":"));
  if (loaded == 0) return NotFound(fmt::format("kubeconfig: none of {} exists", files));
  return Resolve(config, files, context);
}

InClusterEnvironment InClusterEnvironment::FromProcess() {
  InClusterEnvironment env;
  env.service_host = Getenv("KUBERNETES_SERVICE_HOST");
  env.service_port = Getenv("KUBERNETES_SERVICE_PORT");
  if (std::string dir = Getenv("GANTRY_SERVICEACCOUNT_DIR"); !dir.empty()) {
    env.token_path = dir + "/token";
    env.ca_path = dir + "/ca.crt";
    env.namespace_path = dir + "/namespace";
  }
  return env;
}

bool InClusterEnvironment::Available() const {
  std::error_code ec;
  return !service_host.empty() && !service_port.empty() && fs::exists(token_path, ec);
}

Result<RestConfig> InClusterConfig(const InClusterEnvironment& env) {
  if (env.service_host.empty() || env.service_port.empty()) {
    return InvalidArgument(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set "
        "(is this running in a pod?)");
  }
  RestConfig rc;
  rc.origin = "in-cluster service account";
  bool ipv6 = env.service_host.find(':') != std::string::npos;
  rc.server = ipv6 ? fmt::format("https://[{}]:{}", env.service_host, env.service_port)
                   : fmt::format("https://{}:{}", env.service_host, env.service_port);
  // Read the token once now so a missing mount fails at start-up, not at the first request.
  Result<std::string> token = ReadFileToString(env.token_path, "service account token");
  if (!token.ok()) return token.status().WithContext("in-cluster config");
  rc.bearer_token_file = env.token_path;
  Result<std::string> ca = ReadFileToString(env.ca_path, "service account CA");
  if (!ca.ok()) return ca.status().WithContext("in-cluster config");
  rc.ca_pem = *ca;
  Result<std::string> ns = ReadFileToString(env.namespace_path, "service account namespace");
  if (ns.ok() && !Trimmed(*ns).empty()) rc.ns = Trimmed(*ns);
  return rc;
}

ConfigSources ConfigSources::FromProcess(std::string kubeconfig_flag, std::string context) {
  ConfigSources s;
  s.kubeconfig_flag = std::move(kubeconfig_flag);
  s.context = std::move(context);
  s.kubeconfig_env = Getenv("KUBECONFIG");
  s.home = Getenv("HOME");
  s.in_cluster = InClusterEnvironment::FromProcess();
  return s;
}

Result<RestConfig> ResolveRestConfig(const ConfigSources& sources) {
  Result<RestConfig> config = [&]() -> Result<RestConfig> {
    if (!sources.kubeconfig_flag.empty()) {
      return LoadKubeconfig({sources.kubeconfig_flag}, sources.context);
    }
    if (sources.in_cluster.Available()) return InClusterConfig(sources.in_cluster);
    if (!sources.kubeconfig_env.empty()) {
      std::vector<std::string> paths;
      std::stringstream in(sources.kubeconfig_env);
      for (std::string p; std::getline(in, p, ':');) {
        if (!p.empty()) paths.push_back(p);
      }
      return LoadKubeconfig(paths, sources.context);
    }
    if (sources.home.empty()) {
      return InvalidArgument(
          "no Kubernetes config: pass --kubeconfig, run in a pod, or set $KUBECONFIG");
    }
    return LoadKubeconfig({sources.home + "/.kube/config"}, sources.context);
  }();
  if (config.ok() && config->user_agent.empty()) {
    config->user_agent = fmt::format("gantry/{}", Version());
  }
  return config;
}

BearerTokenFile::BearerTokenFile(std::string path, Clock& clock, std::chrono::seconds refresh)
    : path_(std::move(path)), clock_(clock), refresh_(refresh) {}

Result<std::string> BearerTokenFile::Token() {
  std::lock_guard lock(mu_);
  Clock::TimePoint now = clock_.Now();
  if (read_at_ && now - *read_at_ < refresh_ && !token_.empty()) return token_;
  Result<std::string> content = ReadFileToString(path_, "bearer token file");
  if (!content.ok() || Trimmed(*content).empty()) {
    if (!token_.empty()) return token_;  // keep using the last token until the file is back
    if (!content.ok()) return content.status();
    return InvalidArgument(fmt::format("bearer token file {} is empty", path_));
  }
  token_ = Trimmed(*content);
  read_at_ = now;
  return token_;
}

void BearerTokenFile::Invalidate() {
  std::lock_guard lock(mu_);
  read_at_.reset();
}

}  // namespace gantry::kube
