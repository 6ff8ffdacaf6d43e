#include "operator/git/deadline_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace gantry::git {

using SteadyClock = std::chrono::steady_clock;

struct NetworkScope::State {
  explicit State(SteadyClock::time_point d) : deadline(d) {}

  const SteadyClock::time_point deadline;
  std::weak_ptr<State> self;  // lets sockets opened in the scope share ownership
  std::thread watchdog;       // joined by ~NetworkScope
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> bytes_written{0};
  std::atomic<bool> timed_out{false};

  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  bool done = false;
  // Open sockets of this scope. A socket leaves this list before it is closed, under `mu`, so
  // the watchdog never shuts down a descriptor number that was closed and reused elsewhere.
  std::vector<int> fds;
  int connect_errno = 0;
  std::string connect_target;

  void Watch() {
    std::unique_lock lock(mu);
    if (cv.wait_until(lock, deadline, [&] { return done; })) return;
    timed_out = true;
    for (int fd : fds) shutdown(fd, SHUT_RDWR);
  }
};

namespace {

thread_local NetworkScope::State* current_scope = nullptr;

// The first four members mirror libgit2 1.5's internal git_socket_stream {parent, host,
// port, s}: its SSH transport takes the descriptor from a standard stream through that
// layout and gives it to libssh2. Keep them first and in this order.
struct DeadlineStream {
  git_stream parent;
  char* host;
  char* port;
  int s;
  std::shared_ptr<NetworkScope::State>* scope;  // null outside any scope
};
static_assert(std::is_standard_layout_v<DeadlineStream>);

DeadlineStream* Self(git_stream* stream) { return reinterpret_cast<DeadlineStream*>(stream); }

NetworkScope::State* ScopeOf(DeadlineStream* st) {
  return st->scope != nullptr ? st->scope->get() : nullptr;
}

void SetError(const std::string& message) { git_error_set_str(GIT_ERROR_NET, message.c_str()); }

// Milliseconds left before the deadline for poll(): -1 (forever) outside a scope, 0 if past.
int RemainingMs(NetworkScope::State* scope) {
  if (scope == nullptr) return -1;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(scope->deadline - SteadyClock::now());
  if (left.count() <= 0) return 0;
  return static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

// Waits until `fd` is ready for `events`. Returns 1 when ready, 0 when the deadline passed
// (recorded in the scope), -1 on a poll error.
int WaitFor(DeadlineStream* st, short events) {
  NetworkScope::State* scope = ScopeOf(st);
  while (true) {
    pollfd p{st->s, events, 0};
    int rc = poll(&p, 1, RemainingMs(scope));
    if (rc > 0) return 1;
    if (rc == 0) {
      if (scope != nullptr) scope->timed_out = true;
      return 0;
    }
    if (errno != EINTR) return -1;
  }
}

void Forget(NetworkScope::State* scope, int fd) {
  if (scope == nullptr) {
    close(fd);
    return;
  }
  std::lock_guard lock(scope->mu);
  scope->fds.erase(std::remove(scope->fds.begin(), scope->fds.end(), fd), scope->fds.end());
  close(fd);
}

void RecordConnectFailure(NetworkScope::State* scope, int err, const std::string& target) {
  if (scope == nullptr) return;
  std::lock_guard lock(scope->mu);
  scope->connect_errno = err;
  scope->connect_target = target;
}

int StreamConnect(git_stream* stream) {
  DeadlineStream* st = Self(stream);
  NetworkScope::State* scope = ScopeOf(st);
  const std::string target = fmt::format("{}:{}", st->host, st->port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* info = nullptr;
  if (int rc = getaddrinfo(st->host, st->port, &hints, &info); rc != 0) {
    RecordConnectFailure(scope, EHOSTUNREACH, target);
    SetError(fmt::format("cannot resolve host {}: {}", st->host, gai_strerror(rc)));
    return -1;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(info, freeaddrinfo);
  int last_errno = ECONNREFUSED;
  for (addrinfo* ai = info; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    if (scope != nullptr) {
      std::lock_guard lock(scope->mu);
      scope->fds.push_back(fd);
    }
    st->s = fd;
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      int ready = WaitFor(st, POLLOUT);
      if (ready == 0) {
        Forget(scope, fd);
        st->s = -1;
        SetError(fmt::format("timed out connecting to {}", target));
        return -1;
      }
      int err = 0;
      socklen_t len = sizeof(err);
      if (ready < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      if (scope != nullptr && scope->timed_out) err = ETIMEDOUT;
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      return 0;
    }
    last_errno = errno;
    Forget(scope, fd);
    st->s = -1;
    if (scope != nullptr && scope->timed_out) {
      SetError(fmt::format("timed out connecting to {}", target));
      return -1;
    }
  }
  RecordConnectFailure(scope, last_errno, target);
  SetError(fmt::format("cannot connect to {}: {}", target, std::strerror(last_errno)));
  return -1;
}

ssize_t StreamRead(git_stream* stream, void* data, size_t len) {
  DeadlineStream* st = Self(stream);
  NetworkScope::State* scope = ScopeOf(st);
  while (true) {
    ssize_t n = recv(st->s, data, len, 0);
    if (n >= 0) {
      if (scope != nullptr) scope->bytes_read += static_cast<uint64_t>(n);
      return n;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      SetError(fmt::format("reading from {}:{}: {}", st->host, st->port, std::strerror(errno)));
      return -1;
    }
    int ready = WaitFor(st, POLLIN);
    if (ready == 0) {
      SetError(fmt::format("timed out waiting for data from {}:{}", st->host, st->port));
      return -1;
    }
    if (ready < 0) {
      SetError(fmt::format("waiting for {}:{}: {}", st->host, st->port, std::strerror(errno)));
      return -1;
    }
  }
}

ssize_t StreamWrite(git_stream* stream, const char* data, size_t len, int /*flags*/) {
  DeadlineStream* st = Self(stream);
  NetworkScope::State* scope = ScopeOf(st);
  size_t off = 0;
  while (off < len) {
    ssize_t n = send(st->s, data + off, len - off, MSG_NOSIGNAL);
    if (n >= 0) {
      off += static_cast<size_t>(n);
      if (scope != nullptr) scope->bytes_written += static_cast<uint64_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      SetError(fmt::format("writing to {}:{}: {}", st->host, st->port, std::strerror(errno)));
      return -1;
    }
    int ready = WaitFor(st, POLLOUT);
    if (ready == 0) {
      SetError(fmt::format("timed out sending to {}:{}", st->host, st->port));
      return -1;
    }
    if (ready < 0) {
      SetError(fmt::format("waiting for {}:{}: {}", st->host, st->port, std::strerror(errno)));
      return -1;
    }
  }
  return static_cast<ssize_t>(len);
}

int StreamClose(git_stream* stream) {
  DeadlineStream* st = Self(stream);
  if (st->s >= 0) Forget(ScopeOf(st), st->s);
  st->s = -1;
  return 0;
}

void StreamFree(git_stream* stream) {
  DeadlineStream* st = Self(stream);
  if (st->s >= 0) Forget(ScopeOf(st), st->s);
  std::free(st->host);
  std::free(st->port);
  delete st->scope;
  delete st;
}

int StreamInit(git_stream** out, const char* host, const char* port) {
  auto* st = new DeadlineStream{};
  st->parent.version = GIT_STREAM_VERSION;
  st->parent.connect = StreamConnect;
  st->parent.read = StreamRead;
  st->parent.write = StreamWrite;
  st->parent.close = StreamClose;
  st->parent.free = StreamFree;
  st->host = strdup(host);
  st->port = strdup(port != nullptr ? port : "");
  st->s = -1;
  if (current_scope != nullptr) {
    // The stream may outlive the scope's object (libgit2 frees it later), so it shares the
    // state rather than pointing at the scope.
    st->scope = new std::shared_ptr<NetworkScope::State>(current_scope->self.lock());
  }
  *out = &st->parent;
  return 0;
}

}  // namespace

NetworkScope::NetworkScope(SteadyClock::time_point deadline)
    : state_(std::make_shared<State>(deadline)), previous_(current_scope) {
  state_->self = state_;
  state_->watchdog = std::thread([state = state_.get()] { state->Watch(); });
  current_scope = state_.get();
}

NetworkScope::~NetworkScope() {
  current_scope = previous_;
  {
    std::lock_guard lock(state_->mu);
    state_->done = true;
  }
  state_->cv.notify_all();
  state_->watchdog.join();
}

bool NetworkScope::timed_out() const { return state_->timed_out; }

bool NetworkScope::Expired() const { return SteadyClock::now() >= state_->deadline; }

uint64_t NetworkScope::bytes_read() const { return state_->bytes_read; }

uint64_t NetworkScope::bytes_written() const { return state_->bytes_written; }

int NetworkScope::connect_errno() const {
  std::lock_guard lock(state_->mu);
  return state_->connect_errno;
}

std::string NetworkScope::connect_target() const {
  std::lock_guard lock(state_->mu);
  return state_->connect_target;
}

void InstallDeadlineSockets() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_stream_registration registration{};
    registration.version = GIT_STREAM_VERSION;
    registration.init = StreamInit;
    git_stream_register(GIT_STREAM_STANDARD, &registration);
  });
}

}  // namespace gantry::git
