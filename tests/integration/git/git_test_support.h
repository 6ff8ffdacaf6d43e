// Test support for the git integration tests: real Git servers on 127.0.0.1 (started through
// git_servers.sh), Git repositories built with the git CLI, and a TCP proxy that can forward,
// stall in the middle of a pack, or stay silent. Everything listens on loopback only.
#pragma once

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gantry::git::testing {

namespace fs = std::filesystem;

// Runs a shell command; returns its combined output. The test fails (ADD_FAILURE) when the
// command exits non-zero.
std::string Run(const std::string& command);

// A fresh directory under $TMPDIR, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// The servers of git_servers.sh, started on first use and stopped when the test program
// ends. Values come from the script's env file (see the script for the keys).
class GitServers {
 public:
  // Starts the servers (once per process) and returns them. Fails the test if they cannot
  // start.
  static GitServers& Get();

  std::string Value(const std::string& key) const;
  fs::path RepoRoot() const { return Value("REPO_ROOT"); }
  int Port(const std::string& key) const { return std::stoi(Value(key)); }
  static std::string ReadFile(const fs::path& path);

  // Stops the servers and deletes their directory (runs at exit).
  void Stop();
  ~GitServers();

 private:
  GitServers() = default;
  std::unique_ptr<TempDir> dir_;
  std::map<std::string, std::string> env_;
  bool running_ = false;
};

// A bare repository `bare` and a working clone that pushes to it.
class WorkRepo {
 public:
  WorkRepo(fs::path bare, fs::path work);

  // Writes `files` (path -> content; "" deletes), commits everything, pushes the current
  // branch, and returns the new commit's SHA.
  std::string Commit(const std::map<std::string, std::string>& files, const std::string& message);
  // Replaces the history of the current branch by one new root commit with `files` and
  // force-pushes it. Returns the commit's SHA.
  std::string ForcePushNewHistory(const std::map<std::string, std::string>& files);
  void Tag(const std::string& name, bool annotated);
  void Checkout(const std::string& branch, bool create);
  std::string Head();
  // Runs `git <args>` in the working clone and returns its output.
  std::string Git(const std::string& args);

  const fs::path& bare() const { return bare_; }
  const fs::path& work() const { return work_; }

 private:
  fs::path bare_;
  fs::path work_;
  std::string branch_ = "main";
};

// A TCP proxy on 127.0.0.1 in front of another loopback port.
class TcpProxy {
 public:
  enum class Mode {
    kForward,         // pass everything through
    kStallAfterPack,  // pass the server's bytes until a little after "PACK", then stop
    kSilent,          // accept, never answer, never connect upstream
  };
  TcpProxy(int upstream_port, Mode mode);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Closes the listener and every connection; afterwards the port refuses connections.
  void Stop();

 private:
  void AcceptLoop();
  void Serve(int client);

  const int upstream_port_;
  const Mode mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;  // guards workers_
  std::vector<std::thread> workers_;
};

// A loopback port on which nothing listens (bound, read, closed).
int UnusedPort();

// How many file descriptors this process has open.
int OpenDescriptors();

}  // namespace gantry::git::testing
