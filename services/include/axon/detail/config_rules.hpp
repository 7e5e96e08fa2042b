// The rules Config::validate applies to a prefix and a root, shared with the configuration
// file's parser (config_file.cpp), which reports a refused value with its line and column.
#pragma once

#include <string_view>

namespace axon::detail {

/// 1..64 bytes of [A-Za-z0-9_.-], without "..", not starting with '.'.
bool valid_prefix(std::string_view prefix);
/// Absolute, without empty, "." or ".." components or a NUL, not "/" (one trailing '/' allowed).
bool valid_root(std::string_view root);

/// The rules in words, as the tools print them after a refused value.
inline constexpr std::string_view kPrefixRule =
    "1..64 bytes of [A-Za-z0-9_.-], without \"..\", not starting with '.'";
inline constexpr std::string_view kRootRule =
    "an absolute path without empty, \".\" or \"..\" components, not \"/\"";

}  // namespace axon::detail
