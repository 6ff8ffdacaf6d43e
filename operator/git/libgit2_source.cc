#include "operator/git/libgit2_source.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <git2.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "operator/common/duration.h"
#include "operator/common/version.h"
#include "operator/git/artifact_store.h"
#include "operator/git/deadline_socket.h"
#include "operator/git/git_url.h"
#include "operator/git/known_hosts.h"
#include "operator/git/ref_resolver.h"
#include "operator/git/tls_verify.h"

namespace gantry::git {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const { Free(p); }
};
using RepoPtr = std::unique_ptr<git_repository, GitFree<git_repository, git_repository_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitFree<git_remote, git_remote_free>>;
using CommitPtr = std::unique_ptr<git_commit, GitFree<git_commit, git_commit_free>>;
using TreePtr = std::unique_ptr<git_tree, GitFree<git_tree, git_tree_free>>;
using BlobPtr = std::unique_ptr<git_blob, GitFree<git_blob, git_blob_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitFree<git_object, git_object_free>>;

// Deep enough for any real repository, shallow enough that a hostile tree cannot exhaust the
// stack of the recursive export.
constexpr int kMaxTreeDepth = 128;

void InitLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] {
    // libgit2 1.5.1's SSH transport reads $HOME/.ssh/known_hosts and fails every SSH fetch
    // when HOME is unset (as in some containers). Its verdict is overridden by our certificate
    // callback anyway, so any HOME will do.
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') setenv("HOME", "/", 1);
    git_libgit2_init();
    InstallDeadlineSockets();
    for (int level : {GIT_CONFIG_LEVEL_PROGRAMDATA, GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
                      GIT_CONFIG_LEVEL_GLOBAL}) {
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
    }
    const std::string agent = fmt::format("gantry/{}", Version());
    git_libgit2_opts(GIT_OPT_SET_USER_AGENT, agent.c_str());
  });
}

std::string LastGitError() {
  const git_error* e = git_error_last();
  return e != nullptr && e->message != nullptr ? e->message : "unknown libgit2 error";
}

int LastGitErrorClass() {
  const git_error* e = git_error_last();
  return e != nullptr ? e->klass : GIT_ERROR_NONE;
}

std::string OidHex(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), &oid);
  return buf;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

// Everything one Fetch shares with the libgit2 callbacks (their payload).
struct Session {
  const FetchRequest& request;
  const GitUrl& url;
  const std::string redacted_url;
  Clock& clock;
  NetworkScope& scope;
  int secret_credential_calls = 0;
  Status auth_error;   // why the credential callback refused
  Status trust_error;  // why the certificate callback refused
  bool aborted_by_deadline = false;

  // Removes anything secret from a message that came out of libgit2 or a server.
  std::string Scrub(std::string message) const {
    ReplaceAll(message, request.url, redacted_url);
    for (const std::string* secret :
         {&request.auth.password, &request.auth.bearer_token, &url.password}) {
      ReplaceAll(message, *secret, "<redacted>");
    }
    // Over http(s) the user name in a URL is often a token (https://<token>@github.com/...).
    if (url.scheme != "ssh") ReplaceAll(message, url.user, "<redacted>");
    return message;
  }

  // Turns a failed libgit2 call into a Status. What the callbacks and the socket layer saw
  // is more precise than libgit2's message, so it wins.
  Status Fail(int rc, std::string_view action) const {
    const std::string where = fmt::format("{} {}", action, redacted_url);
    if (scope.timed_out() || aborted_by_deadline) {
      return Status(StatusCode::kTimeout,
                    fmt::format("{}: no answer within the timeout of {} (spec.timeout)", where,
                                FormatDuration(request.timeout)));
    }
    if (!trust_error.ok()) return trust_error.WithContext(where);
    if (!auth_error.ok()) return auth_error.WithContext(where);
    const std::string detail = Scrub(LastGitError());
    if (int err = scope.connect_errno(); err != 0) {
      return Unavailable(fmt::format("{}: {}", where, detail));
    }
    const std::string lower = Lower(detail);
    auto has = [&](std::string_view s) { return lower.find(s) != std::string::npos; };
    StatusCode code = StatusCode::kInternal;
    const int klass = LastGitErrorClass();
    if (rc == GIT_EAUTH || has("401") || has("authentication required") ||
        has("authentication failed")) {
      code = StatusCode::kUnauthorized;
    } else if (rc == GIT_ECERTIFICATE || has("403") || has("certificate")) {
      code = StatusCode::kForbidden;
    } else if (rc == GIT_ENOTFOUND || has("404") || has("not found") ||
               has("does not appear to be a git repository") || has("not exported") ||
               has("could not find repository") || has("failed to resolve path") ||
               has("no such file")) {
      code = StatusCode::kNotFound;
    } else if (klass == GIT_ERROR_NET || klass == GIT_ERROR_SSH || klass == GIT_ERROR_HTTP ||
               klass == GIT_ERROR_SSL || has("early eof") || has("connection")) {
      code = StatusCode::kUnavailable;
    }
    if (code == StatusCode::kUnauthorized) {
      // libgit2 gives up without asking the credential callback when the server offers no
      // scheme it knows (e.g. "WWW-Authenticate: Bearer"); say what that means here.
      return Status(code, fmt::format("{}: {} ({})", where, UnauthorizedReason(), detail));
    }
    return Status(code, fmt::format("{}: {}", where, detail));
  }

  std::string UnauthorizedReason() const {
    if (!request.auth.bearer_token.empty()) return "the server rejected the bearer token";
    if (!request.auth.username.empty() || !request.auth.password.empty()) {
      return fmt::format("the server rejected the password of user \"{}\"", request.auth.username);
    }
    if (!url.password.empty()) return "the server rejected the user name and password in the URL";
    return "the server wants credentials and none were given (set username and password, or "
           "bearerToken, in the Secret)";
  }
};

int OnCredentials(git_credential** out, const char* /*url*/, const char* username_from_url,
                  unsigned int allowed, void* payload) {
  auto& s = *static_cast<Session*>(payload);
  const GitAuth& auth = s.request.auth;
  auto refuse = [&](std::string message) {
    s.auth_error = Status(StatusCode::kUnauthorized, message);
    git_error_set_str(GIT_ERROR_NET, message.c_str());
    return GIT_EAUTH;
  };
  if (s.url.scheme == "ssh") {
    const std::string user = username_from_url != nullptr && *username_from_url != '\0'
                                 ? username_from_url
                                 : (!auth.username.empty() ? auth.username : "git");
    if (allowed & GIT_CREDENTIAL_USERNAME) return git_credential_username_new(out, user.c_str());
    if (++s.secret_credential_calls > 1) {
      return refuse(fmt::format("the ssh server rejected the identity for user \"{}\"", user));
    }
    if (auth.identity.empty()) {
      return refuse("the ssh server wants a key and the Secret has no identity");
    }
    if (!(allowed & GIT_CREDENTIAL_SSH_MEMORY)) {
      return refuse(fmt::format("the ssh server offers user \"{}\" no public-key login", user));
    }
    return git_credential_ssh_key_memory_new(out, user.c_str(), nullptr, auth.identity.c_str(),
                                             auth.password.c_str());
  }
  // The credentials in the URL, or the bearer header, were sent already and refused; so were
  // the Secret's username and password if this is the second call.
  const bool nothing_to_offer = auth.username.empty() && auth.password.empty();
  if (!auth.bearer_token.empty() || nothing_to_offer || ++s.secret_credential_calls > 1) {
    return refuse(s.UnauthorizedReason());
  }
  if (!(allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT)) {
    return refuse("the server offers no username/password login");
  }
  return git_credential_userpass_plaintext_new(out, auth.username.c_str(), auth.password.c_str());
}

int OnCertificate(git_cert* cert, int valid, const char* host, void* payload) {
  auto& s = *static_cast<Session*>(payload);
  auto refuse = [&](Status why) {
    git_error_set_str(GIT_ERROR_SSL, why.message().c_str());
    s.trust_error = std::move(why);
    return GIT_ECERTIFICATE;
  };
  if (cert->cert_type == GIT_CERT_HOSTKEY_LIBSSH2) {
    // Only the request's known_hosts counts; libgit2's `valid` reflects ~/.ssh/known_hosts.
    const auto* key = reinterpret_cast<const git_cert_hostkey*>(cert);
    if (!(key->type & GIT_CERT_SSH_RAW) || key->hostkey == nullptr) {
      return refuse(
          Status(StatusCode::kForbidden, "the ssh library did not expose the server's host key"));
    }
    if (s.request.auth.known_hosts.empty()) {
      return refuse(InvalidArgument(
          fmt::format("ssh needs known_hosts in the Secret; the server presented {} {}",
                      SshKeyType(std::string_view(key->hostkey, key->hostkey_len)),
                      SshKeyFingerprint(std::string_view(key->hostkey, key->hostkey_len)))));
    }
    Status st = CheckKnownHost(s.request.auth.known_hosts, s.url.host, s.url.EffectivePort(),
                               std::string_view(key->hostkey, key->hostkey_len));
    return st.ok() ? 0 : refuse(std::move(st));
  }
  if (cert->cert_type == GIT_CERT_X509) {
    if (valid) return 0;  // the system trust store vouches for it; ca.crt only adds to that
    const auto* x509 = reinterpret_cast<const git_cert_x509*>(cert);
    if (s.request.auth.ca_pem.empty()) {
      return refuse(Status(
          StatusCode::kForbidden,
          fmt::format("the TLS certificate of {} is not trusted by the system's CAs; put the "
                      "CA that signed it in the Secret as ca.crt",
                      host != nullptr ? host : s.url.host)));
    }
    Status st =
        VerifyServerCertificate(std::string_view(static_cast<const char*>(x509->data), x509->len),
                                s.request.auth.ca_pem, s.url.host, s.clock.Now());
    return st.ok() ? 0 : refuse(std::move(st));
  }
  return valid ? 0 : refuse(Status(StatusCode::kForbidden, "the server's certificate is invalid"));
}

int OnTransferProgress(const git_indexer_progress* /*stats*/, void* payload) {
  auto& s = *static_cast<Session*>(payload);
  // Sockets enforce the deadline while waiting; this catches a server (or a local copy) that
  // keeps sending but too slowly to finish in time.
  if (s.scope.Expired()) {
    s.aborted_by_deadline = true;
    return -1;
  }
  return 0;
}

git_remote_callbacks Callbacks(Session& session) {
  git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
  callbacks.credentials = OnCredentials;
  callbacks.certificate_check = OnCertificate;
  callbacks.transfer_progress = OnTransferProgress;
  callbacks.payload = &session;
  return callbacks;
}

// Writes the tree `tree` into `dir` (which exists). `rel` is the path inside the repository
// for messages; `bytes` accumulates the size of the files written.
Status ExportTree(git_repository* repo, const git_tree* tree, const fs::path& dir,
                  const std::string& rel, int depth, uint64_t& bytes, uint64_t max_bytes) {
  if (depth > kMaxTreeDepth) {
    return InvalidArgument(
        fmt::format("directory {} is nested more than {} levels deep", rel, kMaxTreeDepth));
  }
  const size_t count = git_tree_entrycount(tree);
  for (size_t i = 0; i < count; ++i) {
    const git_tree_entry* entry = git_tree_entry_byindex(tree, i);
    const std::string name = git_tree_entry_name(entry);
    const std::string entry_rel = rel.empty() ? name : rel + "/" + name;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        Lower(name) == ".git") {
      return InvalidArgument(fmt::format("the tree has an unsafe entry \"{}\"", entry_rel));
    }
    const fs::path path = dir / name;
    const git_filemode_t mode = git_tree_entry_filemode(entry);
    if (mode == GIT_FILEMODE_COMMIT) continue;  // a submodule: not part of this repository
    if (mode == GIT_FILEMODE_TREE) {
      git_tree* raw = nullptr;
      if (git_tree_lookup(&raw, repo, git_tree_entry_id(entry)) != 0) {
        return Internal(fmt::format("cannot read directory {}: {}", entry_rel, LastGitError()));
      }
      TreePtr subtree(raw);
      if (mkdir(path.c_str(), 0755) != 0) {
        return Internal(fmt::format("cannot create {}: {}", path.string(), strerror(errno)));
      }
      GANTRY_RETURN_IF_ERROR(
          ExportTree(repo, subtree.get(), path, entry_rel, depth + 1, bytes, max_bytes));
      continue;
    }
    git_blob* raw = nullptr;
    if (git_blob_lookup(&raw, repo, git_tree_entry_id(entry)) != 0) {
      return Internal(fmt::format("cannot read file {}: {}", entry_rel, LastGitError()));
    }
    BlobPtr blob(raw);
    const auto size = static_cast<uint64_t>(git_blob_rawsize(blob.get()));
    bytes += size;
    if (bytes > max_bytes) {
      return InvalidArgument(fmt::format(
          "the files add up to more than {} MiB (at {}); Gantry refuses trees that large",
          max_bytes >> 20, entry_rel));
    }
    const char* content = static_cast<const char*>(git_blob_rawcontent(blob.get()));
    if (mode == GIT_FILEMODE_LINK) {
      const std::string target(content, size);
      if (target.empty() || target.find('\0') != std::string::npos) {
        return InvalidArgument(fmt::format("symlink {} has an invalid target", entry_rel));
      }
      if (symlink(target.c_str(), path.c_str()) != 0) {
        return Internal(
            fmt::format("cannot create symlink {}: {}", path.string(), strerror(errno)));
      }
      continue;
    }
    const mode_t perm = mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm);
    if (fd < 0) {
      return Internal(fmt::format("cannot create {}: {}", path.string(), strerror(errno)));
    }
    size_t off = 0;
    while (off < size) {
      ssize_t n = write(fd, content + off, size - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int err = errno;
        close(fd);
        return Internal(fmt::format("cannot write {}: {}", path.string(), strerror(err)));
      }
      off += static_cast<size_t>(n);
    }
    fchmod(fd, perm);  // whatever the umask says, the artifact mirrors the commit
    if (close(fd) != 0) {
      return Internal(fmt::format("cannot write {}: {}", path.string(), strerror(errno)));
    }
  }
  return Status::Ok();
}

bool HasCommit(git_repository* repo, std::string_view hex) {
  git_oid oid;
  if (git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0) return false;
  git_commit* raw = nullptr;
  if (git_commit_lookup(&raw, repo, &oid) != 0) {
    git_error_clear();
    return false;
  }
  git_commit_free(raw);
  return true;
}

// The commit `ref` (a local ref name) points at after peeling tags; "" if it has none.
std::string LocalCommit(git_repository* repo, const std::string& ref) {
  git_object* raw = nullptr;
  if (git_revparse_single(&raw, repo, (ref + "^{commit}").c_str()) != 0) {
    git_error_clear();
    return "";
  }
  ObjectPtr object(raw);
  return OidHex(*git_object_id(object.get()));
}

class Libgit2Source final : public GitSource {
 public:
  Libgit2Source(fs::path cache_dir, Clock& clock, Libgit2SourceOptions options)
      : store_(std::move(cache_dir), options.artifacts_to_keep), clock_(clock), options_(options) {}
  Libgit2Source(const Libgit2Source&) = delete;
  Libgit2Source& operator=(const Libgit2Source&) = delete;

  // GitSource
  Result<Artifact> Fetch(const FetchRequest& request) override;
  Status Gc(const std::vector<RepositoryKey>& keep) override;

 private:
  std::shared_ptr<std::mutex> LockFor(const std::string& id);
  Result<RepoPtr> OpenClone(const std::string& id);
  Result<Artifact> FetchLocked(const FetchRequest& request, const GitUrl& url,
                               const std::string& id);

  ArtifactStore store_;
  Clock& clock_;
  const Libgit2SourceOptions options_;

  std::mutex mu_;                                                  // guards repo_locks_
  std::map<std::string, std::shared_ptr<std::mutex>> repo_locks_;  // by repository id
};

std::shared_ptr<std::mutex> Libgit2Source::LockFor(const std::string& id) {
  std::lock_guard lock(mu_);
  auto& m = repo_locks_[id];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

Result<RepoPtr> Libgit2Source::OpenClone(const std::string& id) {
  const fs::path path = store_.ClonePath(id);
  git_repository* raw = nullptr;
  std::error_code ec;
  if (fs::exists(path / "HEAD", ec)) {
    if (git_repository_open_bare(&raw, path.c_str()) == 0) return RepoPtr(raw);
    spdlog::warn("git: clone {} is unreadable ({}); starting a new one", path.string(),
                 LastGitError());
    GANTRY_RETURN_IF_ERROR(store_.DropClone(id));
  }
  if (git_repository_init(&raw, path.c_str(), /*is_bare=*/1) != 0) {
    return Internal(fmt::format("cannot create a clone at {}: {}", path.string(), LastGitError()));
  }
  return RepoPtr(raw);
}

Result<Artifact> Libgit2Source::Fetch(const FetchRequest& request) {
  // Not at construction: libgit2's initialisation parses every system CA certificate and
  // costs an operator with no GitRepository about 1 MiB of resident memory for nothing.
  InitLibgit2();
  auto fail = [&](const Status& s) {
    return s.WithContext(fmt::format("GitRepository {}", request.name));
  };
  auto url = ParseGitUrl(request.url);
  if (!url.ok()) return fail(url.status());
  const std::string redacted = url->Redacted();
  if (request.name.empty()) return fail(InvalidArgument("FetchRequest.name is empty"));
  GANTRY_RETURN_IF_ERROR(fail(ValidateRef(request.ref)));
  const GitAuth& auth = request.auth;
  const bool http = url->scheme == "http" || url->scheme == "https";
  if (!http && (!auth.bearer_token.empty() || !auth.ca_pem.empty())) {
    return fail(InvalidArgument(
        fmt::format("bearerToken and ca.crt only apply to http(s) URLs, not {}", redacted)));
  }
  if (url->scheme != "ssh" && (!auth.identity.empty() || !auth.known_hosts.empty())) {
    return fail(InvalidArgument(
        fmt::format("identity and known_hosts only apply to ssh URLs, not {}", redacted)));
  }
  if (!auth.bearer_token.empty() && (!auth.username.empty() || !auth.password.empty())) {
    return fail(InvalidArgument("the Secret has both bearerToken and username/password; keep one"));
  }
  if (auth.bearer_token.find_first_of("\r\n") != std::string::npos) {
    return fail(InvalidArgument("bearerToken contains a line break"));
  }
  if (url->scheme == "ssh" && !auth.identity.empty() && auth.known_hosts.empty()) {
    return fail(InvalidArgument(
        "ssh needs known_hosts in the Secret next to identity (e.g. from `ssh-keyscan`)"));
  }

  const std::string id = ArtifactStore::RepositoryId(request.name, redacted);
  auto repo_lock = LockFor(id);
  std::lock_guard lock(*repo_lock);
  auto artifact = FetchLocked(request, *url, id);
  if (!artifact.ok()) return fail(artifact.status());
  return artifact;
}

Result<Artifact> Libgit2Source::FetchLocked(const FetchRequest& request, const GitUrl& url,
                                            const std::string& id) {
  const auto start = SteadyClock::now();
  FetchRequest req = request;
  if (req.timeout <= std::chrono::milliseconds(0)) req.timeout = std::chrono::seconds(60);
  const std::string redacted = url.Redacted();
  GANTRY_RETURN_IF_ERROR(store_.Prepare(id, req.name, redacted));
  auto repo_or = OpenClone(id);
  if (!repo_or.ok()) return repo_or.status();
  RepoPtr repo = std::move(*repo_or);

  NetworkScope scope(start + req.timeout);
  Session session{req, url, redacted, clock_, scope};
  Artifact artifact;
  ResolvedRef resolved;
  RemotePtr remote;

  const std::string pinned = Lower(req.ref.commit);
  if (!pinned.empty() &&
      (fs::is_directory(store_.ArtifactPath(id, pinned)) || HasCommit(repo.get(), pinned))) {
    // A pinned commit that is already here: nothing on the remote can change it.
    resolved = ResolvePinnedCommit(req.ref);
  } else {
    git_remote* raw_remote = nullptr;
    // Anonymous, so the URL is not written to the clone's config. Skipping url.insteadOf
    // (there is no config to apply anyway) also avoids a leak: libgit2 1.5 loses the PCRE
    // match data of every config pattern it tries.
    git_remote_create_options create_opts = GIT_REMOTE_CREATE_OPTIONS_INIT;
    create_opts.repository = repo.get();
    create_opts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    if (git_remote_create_with_opts(&raw_remote, req.url.c_str(), &create_opts) != 0) {
      return InvalidArgument(
          fmt::format("libgit2 rejects the URL {}: {}", redacted, session.Scrub(LastGitError())));
    }
    remote.reset(raw_remote);

    const std::string bearer = "Authorization: Bearer " + req.auth.bearer_token;
    char* header_list[] = {const_cast<char*>(bearer.c_str())};
    git_strarray headers{header_list, req.auth.bearer_token.empty() ? 0u : 1u};

    git_remote_connect_options connect_opts = GIT_REMOTE_CONNECT_OPTIONS_INIT;
    connect_opts.callbacks = Callbacks(session);
    connect_opts.custom_headers = headers;
    if (int rc = git_remote_connect_ext(remote.get(), GIT_DIRECTION_FETCH, &connect_opts);
        rc != 0) {
      return session.Fail(rc, "cannot list the refs of");
    }
    const git_remote_head** heads = nullptr;
    size_t count = 0;
    if (int rc = git_remote_ls(&heads, &count, remote.get()); rc != 0) {
      return session.Fail(rc, "cannot list the refs of");
    }
    std::vector<RemoteRef> refs;
    refs.reserve(count);
    for (size_t i = 0; i < count; ++i) {
      refs.push_back(RemoteRef{heads[i]->name, OidHex(heads[i]->oid),
                               heads[i]->symref_target != nullptr ? heads[i]->symref_target : ""});
    }
    auto r = ResolveRef(req.ref, refs, redacted);
    if (!r.ok()) return r.status();
    resolved = std::move(*r);

    // The remote did not move (or moved to a commit seen before): nothing to download.
    const bool have = fs::is_directory(store_.ArtifactPath(id, resolved.commit)) ||
                      HasCommit(repo.get(), resolved.commit);
    if (!have) {
      std::vector<char*> specs;
      for (auto& spec : resolved.refspecs) specs.push_back(spec.data());
      git_strarray refspecs{specs.data(), specs.size()};
      git_fetch_options fetch_opts = GIT_FETCH_OPTIONS_INIT;
      fetch_opts.callbacks = Callbacks(session);
      fetch_opts.custom_headers = headers;
      fetch_opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
      fetch_opts.update_fetchhead = 0;
      fetch_opts.prune = GIT_FETCH_NO_PRUNE;
      if (int rc = git_remote_fetch(remote.get(), &refspecs, &fetch_opts, "gantry fetch");
          rc != 0) {
        Status failed = session.Fail(rc, "cannot fetch from");
        if (failed.code() == StatusCode::kInternal) {
          // Possibly a damaged clone: start from scratch next time rather than fail forever.
          (void)store_.DropClone(id);
        }
        return failed;
      }
      const git_indexer_progress* stats = git_remote_stats(remote.get());
      artifact.stats.downloaded = true;
      artifact.stats.received_bytes = stats->received_bytes;
      artifact.stats.received_objects = stats->received_objects;
      // The ref may have moved between listing and fetching; what arrived is newer.
      if (!resolved.local_ref.empty()) {
        std::string fetched = LocalCommit(repo.get(), resolved.local_ref);
        if (!fetched.empty()) resolved.commit = fetched;
      }
    }
    git_remote_disconnect(remote.get());
  }

  // An existing artifact is enough (the clone may have been dropped since); otherwise the
  // commit must be in the clone to be exported.
  if (!fs::is_directory(store_.ArtifactPath(id, resolved.commit)) &&
      !HasCommit(repo.get(), resolved.commit)) {
    return NotFound(fmt::format("commit {} not found at {}{}", resolved.commit, redacted,
                                resolved.ref.empty() ? "" : " in " + resolved.ref));
  }

  artifact.commit = resolved.commit;
  artifact.ref = resolved.ref;
  artifact.revision = FormatRevision(resolved.revision_name, resolved.commit);
  auto dir = store_.Publish(id, resolved.commit, [&](const fs::path& tmp) -> Status {
    git_oid oid;
    git_oid_fromstr(&oid, resolved.commit.c_str());
    git_commit* raw_commit = nullptr;
    if (git_commit_lookup(&raw_commit, repo.get(), &oid) != 0) {
      return Internal(fmt::format("cannot read commit {}: {}", resolved.commit, LastGitError()));
    }
    CommitPtr commit(raw_commit);
    git_tree* raw_tree = nullptr;
    if (git_commit_tree(&raw_tree, commit.get()) != 0) {
      return Internal(
          fmt::format("cannot read the tree of commit {}: {}", resolved.commit, LastGitError()));
    }
    TreePtr tree(raw_tree);
    uint64_t bytes = 0;
    return ExportTree(repo.get(), tree.get(), tmp, "", 0, bytes, options_.max_artifact_bytes)
        .WithContext(fmt::format("exporting commit {} of {}", resolved.commit, redacted));
  });
  if (!dir.ok()) return dir.status();
  artifact.directory = std::move(*dir);
  GANTRY_RETURN_IF_ERROR(store_.Prune(id, resolved.commit));

  artifact.fetched_at = clock_.Now();
  artifact.stats.network_bytes_read = scope.bytes_read();
  artifact.stats.network_bytes_written = scope.bytes_written();
  artifact.stats.duration =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start);

  if (artifact.stats.downloaded) {
    spdlog::info("GitRepository {}: fetched {} from {} ({} objects, {} bytes) in {} ms", req.name,
                 artifact.revision, redacted, artifact.stats.received_objects,
                 artifact.stats.received_bytes, artifact.stats.duration.count());
    remote.reset();
    repo.reset();
    const uint64_t size = ArtifactStore::DiskUsage(store_.ClonePath(id));
    if (size > options_.max_clone_bytes) {
      spdlog::warn(
          "GitRepository {}: the clone holds {} bytes, above the limit of {}; it will be "
          "fetched afresh next time",
          req.name, size, options_.max_clone_bytes);
      GANTRY_RETURN_IF_ERROR(store_.DropClone(id));
    }
  } else if (artifact.commit == Lower(req.last_commit)) {
    spdlog::debug("GitRepository {}: {} unchanged at {}, nothing downloaded", req.name,
                  artifact.revision, redacted);
  } else {
    spdlog::info("GitRepository {}: {} from {} was already in the cache, nothing downloaded",
                 req.name, artifact.revision, redacted);
  }
  return artifact;
}

Status Libgit2Source::Gc(const std::vector<RepositoryKey>& keep) {
  InitLibgit2();
  std::vector<std::string> keep_ids;
  for (const auto& key : keep) {
    auto url = ParseGitUrl(key.url);
    keep_ids.push_back(
        ArtifactStore::RepositoryId(key.name, url.ok() ? url->Redacted() : RedactUrl(key.url)));
  }
  auto ids = store_.ListRepositories();
  if (!ids.ok()) return ids.status();
  for (const auto& id : *ids) {
    if (std::find(keep_ids.begin(), keep_ids.end(), id) != keep_ids.end()) continue;
    auto repo_lock = LockFor(id);
    {
      std::lock_guard lock(*repo_lock);
      GANTRY_RETURN_IF_ERROR(store_.Remove(id));
    }
    // The lock stays in repo_locks_: a fetch may still hold a copy of it.
    spdlog::info("git: removed the cache of a repository no longer in use ({})",
                 store_.RepositoryDir(id).string());
  }
  return Status::Ok();
}

}  // namespace

std::unique_ptr<GitSource> NewLibgit2Source(std::filesystem::path cache_dir, Clock& clock,
                                            Libgit2SourceOptions options) {
  return std::make_unique<Libgit2Source>(std::move(cache_dir), clock, options);
}

}  // namespace gantry::git
