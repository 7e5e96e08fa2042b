// An environment variable set (or unset) for a scope, and a private temporary directory removed
// at the end of its scope, even after a failed assertion: for tests of what the environment and
// files on disk select (the configuration file, AXON_CONFIG, XDG_CONFIG_HOME, HOME).
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace axon::test {

/// Sets `variable` to `value` (or unsets it for nullopt) until destroyed, then restores it.
/// Not thread-safe (setenv): use it where no other thread of the test reads the environment.
class ScopedEnv {
 public:
  ScopedEnv(std::string variable, const std::optional<std::string>& value)
      : m_variable(std::move(variable)) {
    if (const char* old = std::getenv(m_variable.c_str())) m_saved = old;
    if (value) {
      ::setenv(m_variable.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(m_variable.c_str());
    }
  }
  ~ScopedEnv() {
    if (m_saved) {
      ::setenv(m_variable.c_str(), m_saved->c_str(), 1);
    } else {
      ::unsetenv(m_variable.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string m_variable;
  std::optional<std::string> m_saved;
};

/// A fresh directory under /tmp (mkdtemp), removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/axon-config-test-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) m_path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    if (!m_path.empty()) std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// Empty when the directory could not be made.
  const std::string& path() const { return m_path; }

  /// Writes `text` to `relative` below the directory (making its parents); returns the full path.
  std::string write(const std::string& relative, const std::string& text) const {
    const auto full = std::filesystem::path(m_path) / relative;
    std::error_code ec;
    std::filesystem::create_directories(full.parent_path(), ec);
    std::ofstream(full, std::ios::binary | std::ios::trunc) << text;
    return full.string();
  }

 private:
  std::string m_path;
};

}  // namespace axon::test
