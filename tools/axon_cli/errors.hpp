// Exit codes and the one-line error messages of the axon CLI.
#pragma once

#include <cstdio>
#include <string>

namespace axon::cli {

inline constexpr int kExitOk = 0;
/// The command ran and failed: no such service, an id above the max, nothing received, ...
inline constexpr int kExitFailure = 1;
/// The command line is wrong: unknown command or option, bad number, invalid service name.
inline constexpr int kExitUsage = 2;

/// Prints `error: <message>` as one line on stderr and returns `code`.
inline int fail(int code, const std::string& message) {
  std::string line = "error: " + message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "%s\n", line.c_str());
  return code;
}

}  // namespace axon::cli
