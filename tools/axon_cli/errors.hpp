// Exit codes and the one-line error messages of the axon CLI.
#pragma once

#include <cstdio>
#include <string>

#include "axon_tools/messages.hpp"

namespace axon::cli {

inline constexpr int kExitOk = 0;
/// The command ran and failed: no such service, an id above the max, nothing received, ...
inline constexpr int kExitFailure = 1;
/// The command line is wrong: unknown command or option, bad number, invalid service name.
inline constexpr int kExitUsage = 2;

/// The program name every error line of the CLI starts with.
inline constexpr const char* kProgram = "axon";

/// Prints `axon: error: <message>` as one line on stderr (the format of every program:
/// tools::error_line) and returns `code`.
inline int fail(int code, const std::string& message) {
  std::fprintf(stderr, "%s\n", tools::error_line(kProgram, message).c_str());
  return code;
}

}  // namespace axon::cli
