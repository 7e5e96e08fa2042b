// The helpers the tools and examples share to read arguments and repeat them in messages
// (tools/shared/axon_tools/messages.hpp): escaping, strict numbers, timeouts, the socket hint.
#include "axon_tools/messages.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "axon/config.hpp"

namespace {

using namespace std::chrono_literals;
using axon::tools::NumberError;
using axon::tools::parse_seconds;
using axon::tools::parse_unsigned;

TEST(ToolsQuoted, PrintableAsciiStaysAsItIs) {
  EXPECT_EQ(axon::tools::quoted("robot/arm-1.state"), "\"robot/arm-1.state\"");
}

TEST(ToolsQuoted, ControlBytesAndHighBytesBecomeEscapesOnOneLine) {
  const auto sut = axon::tools::quoted(std::string("a\nb\rc\td\x1b[31me\x7f\xff", 15));

  EXPECT_EQ(sut, R"("a\nb\rc\td\x1b[31me\x7f\xff")");
  for (const char c : sut) {
    EXPECT_TRUE(c >= 0x20 && c <= 0x7E) << static_cast<int>(c);
  }
}

TEST(ToolsQuoted, QuotesAndBackslashesAreEscapedSoTheQuotedFormIsUnambiguous) {
  EXPECT_EQ(axon::tools::quoted(R"(a"b\c)"), R"("a\"b\\c")");
}

TEST(ToolsQuoted, ANulByteIsShownNotTheEndOfTheText) {
  EXPECT_EQ(axon::tools::quoted(std::string("a\0b", 3)), R"("a\x00b")");
}

TEST(ToolsQuoted, ALongTextIsCutAndItsLengthGiven) {
  const auto sut = axon::tools::quoted(std::string(5000, 'x'));

  EXPECT_EQ(sut, "\"" + std::string(axon::tools::kMaxShownBytes, 'x') + "...\" (5000 bytes)");
}

TEST(ToolsEscaped, EscapesControlBytesAndBackslashesButLeavesQuotesForFreeText) {
  EXPECT_EQ(axon::tools::escaped("unexpected: \"a\x1b]0;x\x07\\n\""),
            R"(unexpected: "a\x1b]0;x\x07\\n")");
  EXPECT_EQ(axon::tools::escaped("abcdef", 3), "abc...");
}

TEST(ToolsParseUnsigned, AcceptsWholeDecimalNumbersUpToTheMaximum) {
  EXPECT_EQ(parse_unsigned("0"), 0u);
  EXPECT_EQ(parse_unsigned("64"), 64u);
  EXPECT_EQ(parse_unsigned("007"), 7u);
  EXPECT_EQ(parse_unsigned("18446744073709551615"), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(parse_unsigned("10", 10), 10u);
}

TEST(ToolsParseUnsigned, RefusesNegativesInsteadOfWrappingAround) {
  for (const char* text : {"-1", "-5", "-0", "-18446744073709551615"}) {
    EXPECT_EQ(parse_unsigned(text), tl::unexpected(NumberError::Negative)) << text;
  }
}

TEST(ToolsParseUnsigned, RefusesWhatDoesNotFitInsteadOfSaturating) {
  EXPECT_EQ(parse_unsigned("99999999999999999999"), tl::unexpected(NumberError::TooLarge));
  EXPECT_EQ(parse_unsigned("18446744073709551616"), tl::unexpected(NumberError::TooLarge));
  EXPECT_EQ(parse_unsigned("11", 10), tl::unexpected(NumberError::TooLarge));
}

TEST(ToolsParseUnsigned, RefusesEverythingButDigits) {
  for (const char* text :
       {"", "12x", "x", "+1", " 1", "1 ", "0x10", "1e3", "1.0", "-", "--1", "-x", "\xd9\xa3"}) {
    EXPECT_EQ(parse_unsigned(text), tl::unexpected(NumberError::NotANumber)) << text;
  }
}

TEST(ToolsRefusal, NamesTheOptionTheEscapedTextAndTheReason) {
  EXPECT_EQ(axon::tools::refusal("--bytes", "-1", NumberError::Negative),
            R"(--bytes "-1" is negative)");
  EXPECT_EQ(axon::tools::refusal("--interval-ms", "5000000", NumberError::TooLarge, 3600000),
            R"(--interval-ms "5000000" is too large (at most 3600000))");
  EXPECT_EQ(axon::tools::refusal("event id", "1\n2", NumberError::NotANumber),
            R"(event id "1\n2" is not a whole non-negative decimal number)");
}

/// parse_seconds' answer in words: "<n>ns", "forever", "Negative" or "NotANumber".
std::string seconds(std::string_view text) {
  const auto parsed = parse_seconds(text);
  if (!parsed) return parsed.error() == NumberError::Negative ? "Negative" : "NotANumber";
  if (!*parsed) return "forever";
  return std::to_string((*parsed)->count()) + "ns";
}

TEST(ToolsParseSeconds, RoundsUpToWholeNanoseconds) {
  EXPECT_EQ(seconds("0"), "0ns");
  EXPECT_EQ(seconds("0.2"), "200000000ns");
  EXPECT_EQ(seconds("1.5"), "1500000000ns");
  EXPECT_EQ(seconds("2e-9"), "2ns");
  EXPECT_EQ(seconds("1e-10"), "1ns");
}

TEST(ToolsParseSeconds, APositiveAmountTooSmallForADoubleIsTheShortestWaitNotZero) {
  EXPECT_EQ(seconds("1e-400"), "1ns");
  EXPECT_EQ(seconds("0." + std::string(400, '0') + "1"), "1ns");
}

TEST(ToolsParseSeconds, InfAndValuesBeyondNanosecondsMeanForEver) {
  for (const char* text : {"inf", "infinity", "9e9", "1e300", "1e400"}) {
    EXPECT_EQ(seconds(text), "forever") << text;
  }
  EXPECT_EQ(seconds("8.9e9"), "8900000000000000000ns");
}

TEST(ToolsParseSeconds, RefusesNegativesAndWhatIsNotANumber) {
  for (const char* text : {"-1", "-0", "-0.5", "-inf", "-1e-400"}) {
    EXPECT_EQ(seconds(text), "Negative") << text;
  }
  for (const char* text : {"", "abc", "1s", "nan", "0x", "0x10", " 1", "1 ", "+1", "-x"}) {
    EXPECT_EQ(seconds(text), "NotANumber") << text;
  }
}

TEST(ToolsDeadline, AMomentTheClockCannotHoldIsNoDeadlineAndAPassedOneLeavesZero) {
  EXPECT_FALSE(axon::tools::deadline_after(std::chrono::nanoseconds::max()));
  // The longest finite timeout parse_seconds() gives still has a deadline.
  const auto longest = parse_seconds("8999999999");
  ASSERT_TRUE(longest && *longest);
  EXPECT_TRUE(axon::tools::deadline_after(**longest));

  const auto deadline = axon::tools::deadline_after(1h);
  ASSERT_TRUE(deadline);
  const auto left = axon::tools::remaining_until(*deadline);
  EXPECT_GT(left, 59min);
  EXPECT_LE(left, 1h);
  EXPECT_EQ(axon::tools::remaining_until(std::chrono::steady_clock::now() - 1s),
            std::chrono::nanoseconds::zero());
}

TEST(ToolsSocketHint, SaysNothingUpToTheLimitAndGivesTheLimitAboveIt) {
  axon::Config config;
  const auto max = axon::Config::max_root_length_for_sockets();
  config.root = "/" + std::string(max - 1, 'r');
  EXPECT_FALSE(axon::tools::root_too_long_for_sockets(config));

  config.root += "r";
  const auto hint = axon::tools::root_too_long_for_sockets(config);

  ASSERT_TRUE(hint);
  EXPECT_NE(hint->find("AXON_ROOT is " + std::to_string(max + 1) + " bytes"), std::string::npos)
      << *hint;
  EXPECT_NE(hint->find("at most " + std::to_string(max) + " bytes"), std::string::npos) << *hint;
}

}  // namespace
