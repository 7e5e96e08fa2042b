// Real child processes for multi-process tests: fork/exec of built binaries or fork of a lambda.
// A ChildProcess that goes out of scope is killed with SIGKILL and reaped, so a failing test
// never leaves a process (or a zombie holding a node lock) behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace axon::test {

/// How a child ended.
struct ExitStatus {
  bool exited = false;  ///< true: exit code in `code`; false: killed by signal `code`
  int code = 0;
  bool success() const { return exited && code == 0; }
};

class ChildProcess {
 public:
  /// Starts `path args...`, stdout (and stderr when `merge_stderr`) captured through a pipe.
  static ChildProcess spawn(const std::string& path, const std::vector<std::string>& args,
                            bool merge_stderr = false);
  /// Forks and runs `body` in the child; its return value is the exit code.
  static ChildProcess fork(const std::function<int()>& body);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return m_pid; }
  void kill(int signal) const;
  /// Waits for exit; nullopt after `timeout` (the child is left running).
  std::optional<ExitStatus> wait_for(std::chrono::milliseconds timeout);
  /// Reads captured output until `needle` appears or `timeout` passes; returns all read so far.
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout);
  /// Reads captured output until EOF (child closed stdout) or `timeout`.
  std::string read_all(std::chrono::milliseconds timeout);
  const std::string& output() const { return m_output; }

 private:
  ChildProcess(pid_t pid, int out_fd) : m_pid(pid), m_out_fd(out_fd) {}
  bool read_some(std::chrono::milliseconds timeout);
  pid_t m_pid = -1;
  int m_out_fd = -1;
  bool m_reaped = false;
  std::string m_output;
};

/// Path of a built executable in build/bin.
std::string bin(const std::string& name);

/// A program run to its end: how it ended and what it printed.
struct Finished {
  ExitStatus status;  ///< not `exited` (and a test failure) when it did not end in time
  std::string output;
};

/// Waits for `child` to end (a test failure after `timeout`) and reads the rest of its output.
Finished finish(ChildProcess child,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// Runs `path args...` to its end; stderr joins the output when `merge_stderr`.
Finished run_to_end(const std::string& path, const std::vector<std::string>& args,
                    bool merge_stderr = true,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// `text` (a program's output) split into lines, without their newlines.
std::vector<std::string> lines_of(const std::string& text);

/// CPU time (user + system) a live process has used, in milliseconds, from /proc/<pid>/stat;
/// -1 when it cannot be read.
long cpu_milliseconds(pid_t pid);

}  // namespace axon::test
