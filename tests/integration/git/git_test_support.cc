#include "tests/integration/git/git_test_support.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

// Sanitizer builds (GANTRY_SANITIZE): libgit2 1.5.1 and libssh2 1.10 lose a few dozen bytes
// per SSH connection inside git_remote_connect_ext (the known_hosts path, the host list and
// the auth method list). Gantry's own sockets are checked by the descriptor-count test
// instead (Libgit2SourceTest.ClosesEverySocket).
// libgit2 and libssh2 are built without frame pointers: only the slow unwinder sees through
// them to the frames the suppressions name.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }

extern "C" const char* __lsan_default_suppressions() {
  return "leak:libssh2_knownhost_init\n"
         "leak:libssh2_userauth_list\n"
         "leak:git_remote_connect_ext\n";
}

namespace gantry::git::testing {

int OpenDescriptors() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::string Run(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run: " << command;
    return "";
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  int status = pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "command failed (" << status << "): " << command << "\n" << output;
  }
  return output;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/gantry-git-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

int BindLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

// Tells git the test's identity without reading any user or system config.
void IsolateGitCli() {
  setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
  setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
  setenv("GIT_AUTHOR_NAME", "Gantry Test", 1);
  setenv("GIT_AUTHOR_EMAIL", "test@gantry.invalid", 1);
  setenv("GIT_COMMITTER_NAME", "Gantry Test", 1);
  setenv("GIT_COMMITTER_EMAIL", "test@gantry.invalid", 1);
  setenv("GIT_TERMINAL_PROMPT", "0", 1);
}

}  // namespace

int UnusedPort() {
  int fd = BindLoopback(0);
  int port = LocalPort(fd);
  close(fd);
  return port;
}

GitServers& GitServers::Get() {
  static GitServers* servers = [] {
    auto* s = new GitServers();
    IsolateGitCli();
    s->dir_ = std::make_unique<TempDir>();
    // Ports are picked here and handed to the script: the servers cannot report a port 0.
    std::vector<int> ports;
    std::vector<int> held;
    for (int i = 0; i < 4; ++i) {
      int fd = BindLoopback(0);
      held.push_back(fd);
      ports.push_back(LocalPort(fd));
    }
    for (int fd : held) close(fd);
    const fs::path state = s->dir_->path() / "servers";
    Run(fmt::format("GANTRY_OWNER_PID={} bash {} start {} {} {} {} {}", getpid(),
                    GANTRY_GIT_SERVERS_SCRIPT, state.string(), ports[0], ports[1], ports[2],
                    ports[3]));
    s->running_ = true;
    std::ifstream env(state / "env");
    std::string line;
    while (std::getline(env, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) s->env_[line.substr(0, eq)] = line.substr(eq + 1);
    }
    if (s->env_.empty()) ADD_FAILURE() << "git_servers.sh wrote no env file";
    // Stop the servers when the program ends, whatever the tests did.
    std::atexit([] { Get().Stop(); });
    return s;
  }();
  return *servers;
}

std::string GitServers::Value(const std::string& key) const {
  auto it = env_.find(key);
  if (it == env_.end()) {
    ADD_FAILURE() << "git_servers.sh env has no " << key;
    return "";
  }
  return it->second;
}

std::string GitServers::ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void GitServers::Stop() {
  if (!running_) return;
  running_ = false;
  Run(fmt::format("bash {} stop {}", GANTRY_GIT_SERVERS_SCRIPT,
                  (dir_->path() / "servers").string()));
  dir_.reset();
}

GitServers::~GitServers() { Stop(); }

WorkRepo::WorkRepo(fs::path bare, fs::path work) : bare_(std::move(bare)), work_(std::move(work)) {
  IsolateGitCli();
  fs::create_directories(bare_.parent_path());
  Run(fmt::format("git init -q --bare -b main '{}'", bare_.string()));
  Run(fmt::format("git init -q -b main '{}'", work_.string()));
  Git(fmt::format("remote add origin '{}'", bare_.string()));
}

std::string WorkRepo::Git(const std::string& args) {
  return Run(fmt::format("git -C '{}' {}", work_.string(), args));
}

std::string WorkRepo::Commit(const std::map<std::string, std::string>& files,
                             const std::string& message) {
  for (const auto& [path, content] : files) {
    const fs::path p = work_ / path;
    if (content.empty()) {
      fs::remove(p);
      continue;
    }
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  Git("add -A");
  Git(fmt::format("commit -q --allow-empty -m '{}'", message));
  Git(fmt::format("push -q --force origin HEAD:refs/heads/{}", branch_));
  return Head();
}

std::string WorkRepo::ForcePushNewHistory(const std::map<std::string, std::string>& files) {
  Git("checkout -q --orphan rewritten");
  Git("rm -rq --cached .");
  Run(
      fmt::format("cd '{}' && git clean -qfdx && find . -mindepth 1 -maxdepth 1 ! -name .git "
                  "-exec rm -rf {{}} +",
                  work_.string()));
  const std::string old_branch = branch_;
  Git(fmt::format("branch -M rewritten {}", old_branch));
  return Commit(files, "rewritten history");
}

void WorkRepo::Tag(const std::string& name, bool annotated) {
  Git(annotated ? fmt::format("tag -a -m 'release {}' {}", name, name) : "tag " + name);
  Git(fmt::format("push -q --force origin refs/tags/{}", name));
}

void WorkRepo::Checkout(const std::string& branch, bool create) {
  Git(fmt::format("checkout -q {} {}", create ? "-b" : "", branch));
  branch_ = branch;
}

std::string WorkRepo::Head() {
  std::string out = Git("rev-parse HEAD");
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

TcpProxy::TcpProxy(int upstream_port, Mode mode) : upstream_port_(upstream_port), mode_(mode) {
  listen_fd_ = BindLoopback(0);
  listen(listen_fd_, 16);
  port_ = LocalPort(listen_fd_);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() { Stop(); }

void TcpProxy::Stop() {
  if (stopping_.exchange(true)) return;
  acceptor_.join();
  close(listen_fd_);
  std::lock_guard lock(mu_);
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void TcpProxy::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, client] { Serve(client); });
  }
}

void TcpProxy::Serve(int client) {
  int upstream = -1;
  if (mode_ != Mode::kSilent) {
    upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(upstream);
      close(client);
      return;
    }
  }
  std::string seen;  // the server's bytes so far, to find "PACK"
  size_t forwarded = 0;
  size_t limit = SIZE_MAX;  // server bytes to pass on; set once "PACK" shows up
  bool upstream_open = upstream >= 0;
  char buf[16384];
  while (!stopping_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
    // Once stalled, stop reading from the server: the client hears nothing more.
    const bool read_upstream = upstream_open && forwarded < limit;
    if (poll(fds, read_upstream ? 2 : 1, 50) <= 0) continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(client, buf, sizeof(buf), 0);
      if (n <= 0) break;
      if (upstream_open) send(upstream, buf, static_cast<size_t>(n), MSG_NOSIGNAL);
    }
    if (read_upstream && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = recv(upstream, buf, sizeof(buf), 0);
      if (n <= 0) {
        upstream_open = false;
        shutdown(client, SHUT_WR);
        continue;
      }
      size_t pass = static_cast<size_t>(n);
      if (mode_ == Mode::kStallAfterPack && limit == SIZE_MAX) {
        seen.append(buf, static_cast<size_t>(n));
        size_t at = seen.find("PACK");
        if (at != std::string::npos) limit = at + 32;  // the pack header and a few bytes
      }
      if (forwarded + pass > limit) pass = limit - forwarded;
      send(client, buf, pass, MSG_NOSIGNAL);
      forwarded += pass;
    }
  }
  if (upstream >= 0) close(upstream);
  close(client);
}

}  // namespace gantry::git::testing
