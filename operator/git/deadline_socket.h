// Network deadlines for libgit2.
//
// libgit2 1.5 has no network timeouts (GIT_OPT_SET_SERVER_TIMEOUT only arrived in 1.7): a
// server that accepts a connection and then stops sending, say in the middle of a pack, blocks
// a fetch forever. Gantry therefore replaces libgit2's plain socket stream (registered with
// git_stream_register for GIT_STREAM_STANDARD) with one whose connect, read and write wait at
// most until the deadline of the NetworkScope active on the calling thread. HTTPS goes through
// it as well, because libgit2's TLS stream wraps the standard one. The SSH transport hands the
// socket descriptor to libssh2, which polls it itself; for that path the scope's watchdog
// shuts the scope's sockets down when the deadline passes, which wakes libssh2 with an error.
//
// The stream also counts the bytes that cross the sockets, so callers can tell how much a
// fetch really transferred.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace gantry::git {

// Registers the deadline-aware stream with libgit2 for the whole process. Call after
// git_libgit2_init; idempotent and thread-safe.
void InstallDeadlineSockets();

// The network budget of one operation, in force on the constructing thread until it is
// destroyed (scopes nest; the innermost wins). Sockets opened outside any scope behave as
// plain blocking sockets. Construct and destroy on the same thread; the accessors may be
// called from that thread while the scope lives.
class NetworkScope {
 public:
  explicit NetworkScope(std::chrono::steady_clock::time_point deadline);
  ~NetworkScope();
  NetworkScope(const NetworkScope&) = delete;
  NetworkScope& operator=(const NetworkScope&) = delete;

  // True once the deadline has passed and a socket wait or the watchdog gave up because of it.
  bool timed_out() const;
  // True if the deadline has passed, whether or not anything noticed yet.
  bool Expired() const;

  uint64_t bytes_read() const;
  uint64_t bytes_written() const;

  // The errno of the last connect or name lookup that failed in this scope, and the
  // "host:port" it was for; 0 and "" if none failed. A name lookup failure is reported as
  // EHOSTUNREACH.
  int connect_errno() const;
  std::string connect_target() const;

  struct State;  // shared with the sockets opened in this scope; defined in the .cc

 private:
  std::shared_ptr<State> state_;
  State* previous_;  // the scope this one shadows on this thread, restored on destruction
};

}  // namespace gantry::git
