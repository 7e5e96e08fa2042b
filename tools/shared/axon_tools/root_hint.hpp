// Why the library refused the root directory, for the error a program prints. The library reports
// an untrusted AXON_ROOT as a bare PermissionDenied (NodeCreateError, NodeListError, the open
// errors of every pattern and of SystemEvent), which leaves a user who pointed AXON_ROOT at /tmp
// or a shared directory with nothing to act on. Every program appends this hint to such an error.
//
// The hint looks at the directory itself (one lstat); it is advice for the reader, never a
// decision: the library's own check (docs/security.md, "The root directory") is what refuses.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>

#include "axon/config.hpp"
#include "axon_tools/messages.hpp"

namespace axon::tools {

/// What to do about `config.root` when it is one the library refuses: world-writable, a symlink,
/// or another user's; nullopt when none of these holds (or it cannot be looked at).
inline std::optional<std::string> root_refusal_hint(const Config& config) {
  struct stat status {};
  if (::lstat(config.root.c_str(), &status) != 0) return std::nullopt;
  const std::string root = "AXON_ROOT " + tools::quoted(config.root);
  const std::string remedy =
      "use a directory of your own with mode 0700 (unset AXON_ROOT for /tmp/axon-<uid>), or a "
      "group root set up as docs/security.md describes";
  if (S_ISLNK(status.st_mode)) return root + " is a symlink, which is never trusted: " + remedy;
  if (!S_ISDIR(status.st_mode)) return root + " is not a directory: " + remedy;
  if ((status.st_mode & S_IWOTH) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(status.st_mode & 07777));
    return root + " is world-writable (mode " + mode +
           "), so anyone could plant files in it: " + remedy;
  }
  if (status.st_uid != ::geteuid() && (status.st_mode & S_IRWXG) != S_IRWXG) {
    return root + " belongs to uid " + std::to_string(status.st_uid) +
           " and is not a group root: " + remedy;
  }
  return std::nullopt;
}

/// `message`, followed by ` (<hint>)` when the root is one the library refuses.
inline std::string with_root_hint(std::string message, const Config& config) {
  if (const auto hint = root_refusal_hint(config)) message += " (" + *hint + ")";
  return message;
}

}  // namespace axon::tools
