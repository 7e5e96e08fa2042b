// For the usage tests: a header's opening usage comment must be the code a test runs. These read
// both sides of that comparison.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace axon::test {

/// The lines of `path` after the one holding `first` and before the next one holding `last`,
/// each without its first `indent` characters.
inline std::vector<std::string> lines_between(const std::string& path, const std::string& first,
                                              const std::string& last, std::size_t indent) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::string> out;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (inside && line.find(last) != std::string::npos) return out;
    if (inside) out.push_back(line.size() >= indent ? line.substr(indent) : std::string());
    if (!inside && line.find(first) != std::string::npos) inside = true;
  }
  ADD_FAILURE() << "no block from \"" << first << "\" to \"" << last << "\" in " << path;
  return out;
}

/// The code lines of a header's opening comment: those indented by three spaces after "//".
inline std::vector<std::string> usage_in_header(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line) && line.rfind("#pragma", 0) != 0;) {
    if (line.rfind("//   ", 0) == 0) out.push_back(line.substr(5));
  }
  return out;
}

/// The block between "// usage begin" and "// usage end" of test `test_file` (relative to the
/// source tree), as the code lines of `header`'s comment should read.
inline void expect_usage_comment_is_test(const std::string& test_file, const std::string& header) {
  const std::string source_dir = AXON_SOURCE_DIR;
  // Built here, so that these lines are not taken for the block's delimiters themselves.
  const std::string begin = std::string("// usage") + " begin";
  const std::string end = std::string("// usage") + " end";
  const auto tested = lines_between(source_dir + "/" + test_file, begin, end, 2);
  ASSERT_FALSE(tested.empty());
  EXPECT_EQ(usage_in_header(source_dir + "/" + header), tested);
}

}  // namespace axon::test
