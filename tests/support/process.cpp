#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace axon::test {

std::string bin(const std::string& name) { return std::string(AXON_BIN_DIR) + "/" + name; }

ChildProcess ChildProcess::spawn(const std::string& path, const std::vector<std::string>& args,
                                 bool merge_stderr) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) std::abort();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    if (merge_stderr) ::dup2(fds[1], STDERR_FILENO);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return ChildProcess(pid, fds[0]);
}

ChildProcess ChildProcess::fork(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 111;
    try {
      code = body();
    } catch (...) {
      code = 112;
    }
    ::_exit(code);  // no atexit handlers: the parent owns the test's cleanup
  }
  return ChildProcess(pid, -1);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)),
      m_out_fd(std::exchange(other.m_out_fd, -1)),
      m_reaped(other.m_reaped),
      m_output(std::move(other.m_output)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    new (this) ChildProcess(std::move(other));
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (m_pid > 0 && !m_reaped) {
    ::kill(m_pid, SIGKILL);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (m_out_fd >= 0) ::close(m_out_fd);
}

void ChildProcess::kill(int signal) const {
  if (m_pid > 0 && !m_reaped) ::kill(m_pid, signal);
}

std::optional<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
  if (m_reaped || m_pid <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(m_pid, &status, WNOHANG);
    if (r == m_pid) {
      m_reaped = true;
      ExitStatus s;
      s.exited = WIFEXITED(status);
      s.code = s.exited ? WEXITSTATUS(status) : WTERMSIG(status);
      return s;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    // Keep draining the pipe so a chatty child never blocks on a full pipe.
    if (m_out_fd >= 0) {
      read_some(std::chrono::milliseconds(5));
    } else {
      ::usleep(2000);
    }
  }
}

bool ChildProcess::read_some(std::chrono::milliseconds timeout) {
  if (m_out_fd < 0) return false;
  pollfd p{m_out_fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return true;
  char buf[4096];
  const ssize_t n = ::read(m_out_fd, buf, sizeof(buf));
  if (n <= 0) {
    ::close(m_out_fd);
    m_out_fd = -1;
    return false;
  }
  m_output.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string ChildProcess::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (m_output.find(needle) == std::string::npos) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (!read_some(std::min(left, std::chrono::milliseconds(50)))) break;
  }
  return m_output;
}

std::string ChildProcess::read_all(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (m_out_fd >= 0 && std::chrono::steady_clock::now() < deadline) {
    read_some(std::chrono::milliseconds(50));
  }
  return m_output;
}

Finished finish(ChildProcess child, std::chrono::milliseconds timeout) {
  auto status = child.wait_for(timeout);
  if (!status) {
    ADD_FAILURE() << "pid " << child.pid() << " did not end within " << timeout.count() << " ms";
    return Finished{ExitStatus{}, child.output()};
  }
  return Finished{*status, child.read_all(std::chrono::seconds(5))};
}

Finished run_to_end(const std::string& path, const std::vector<std::string>& args,
                    bool merge_stderr, std::chrono::milliseconds timeout) {
  return finish(ChildProcess::spawn(path, args, merge_stderr), timeout);
}

long cpu_milliseconds(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return -1;
  // After "pid (comm) " come state (field 3) ... utime (14), stime (15).
  std::istringstream fields(stat.substr(close_paren + 2));
  std::string field;
  long ticks = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stol(field);
  }
  return ticks * 1000 / ::sysconf(_SC_CLK_TCK);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace axon::test
