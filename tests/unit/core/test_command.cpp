// core::parse_command and its strict number parsers: tables of valid and invalid command
// lines (RFC 1939, 2449, 2595, 5034, 6856) and the SECURITY rows S08-S10 (long arguments,
// LIST 4294967297 / -1 / +1 / 0, NUL octets).

#include "chunking.hpp"

#include <izypop3/core/command.hpp>

#include <boost/system/system_error.hpp>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::core {
// Defined in command.cpp for boost::system::result<command, command_error>::value(); repeated
// here because command.hpp does not declare it.
void throw_exception_from_error(command_error const& e, boost::source_location const& loc);
}  // namespace izypop3::core

namespace izypop3::test {
namespace {

using core::errc;
using core::verb;
using namespace std::string_literals;

struct valid_case {
    std::string line;
    verb v;
    std::vector<std::string> args;
    std::optional<std::uint32_t> number;
    std::optional<std::uint64_t> lines;
};

void PrintTo(const valid_case& c, std::ostream* os) { *os << '"' << visible(c.line) << '"'; }

class CommandValid : public ::testing::TestWithParam<valid_case> {};

TEST_P(CommandValid, Parses) {
    const auto& c = GetParam();
    const auto r = core::parse_command(c.line);
    ASSERT_TRUE(r.has_value()) << "error " << static_cast<int>(r.error().code);
    EXPECT_EQ(r->v, c.v);
    ASSERT_EQ(r->arg_count, c.args.size());
    for (std::size_t i = 0; i < c.args.size(); ++i) {
        EXPECT_EQ(r->args[i], c.args[i]) << "argument " << i;
        // Arguments are views into the line, not copies.
        EXPECT_GE(r->args[i].data(), c.line.data());
        EXPECT_LE(r->args[i].data() + r->args[i].size(), c.line.data() + c.line.size());
    }
    for (std::size_t i = c.args.size(); i < r->args.size(); ++i) EXPECT_TRUE(r->args[i].empty());
    EXPECT_EQ(r->number, c.number);
    EXPECT_EQ(r->lines, c.lines);
}

const std::string long_255(255, 'u');
const std::string long_256(256, 'u');
const std::string long_base64(4000, 'Q');

INSTANTIATE_TEST_SUITE_P(
    Table, CommandValid,
    ::testing::Values(
        valid_case{"USER alice", verb::user, {"alice"}, {}, {}},
        valid_case{"user alice", verb::user, {"alice"}, {}, {}},
        valid_case{"UsEr Alice@Example.COM", verb::user, {"Alice@Example.COM"}, {}, {}},
        valid_case{"USER " + long_255, verb::user, {long_255}, {}, {}},
        // PASS: the whole rest of the line, spaces (leading and trailing) included.
        valid_case{"PASS secret", verb::pass, {"secret"}, {}, {}},
        valid_case{"PASS correct horse battery staple ", verb::pass,
                   {"correct horse battery staple "}, {}, {}},
        valid_case{"pass  x", verb::pass, {" x"}, {}, {}},
        valid_case{"PASS " + long_255, verb::pass, {long_255}, {}, {}},
        valid_case{"APOP mrose c4c9334bac560ecc979e58001b3e22fb", verb::apop,
                   {"mrose", "c4c9334bac560ecc979e58001b3e22fb"}, {}, {}},
        // AUTH: bare (mechanism list), mechanism, mechanism + initial response.
        valid_case{"AUTH", verb::auth, {}, {}, {}},
        valid_case{"AUTH PLAIN", verb::auth, {"PLAIN"}, {}, {}},
        valid_case{"auth scram-sha-256", verb::auth, {"scram-sha-256"}, {}, {}},
        valid_case{"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", verb::auth,
                   {"PLAIN", "dGVzdAB0ZXN0AHRlc3Q="}, {}, {}},
        valid_case{"AUTH PLAIN =", verb::auth, {"PLAIN", "="}, {}, {}},
        valid_case{"AUTH FOOBAR andris 12345", verb::auth, {"FOOBAR", "andris 12345"}, {}, {}},
        // The initial response is not held to the 255-octet argument limit (RFC 5034 s4).
        valid_case{"AUTH PLAIN " + long_base64, verb::auth, {"PLAIN", long_base64}, {}, {}},
        valid_case{"STLS", verb::stls, {}, {}, {}},
        valid_case{"capa", verb::capa, {}, {}, {}},
        valid_case{"STAT", verb::stat, {}, {}, {}},
        valid_case{"NOOP", verb::noop, {}, {}, {}},
        valid_case{"RSET", verb::rset, {}, {}, {}},
        valid_case{"Quit", verb::quit, {}, {}, {}},
        valid_case{"UTF8", verb::utf8, {}, {}, {}},
        valid_case{"LIST", verb::list, {}, {}, {}},
        valid_case{"LIST 1", verb::list, {"1"}, 1u, {}},
        valid_case{"list 42", verb::list, {"42"}, 42u, {}},
        valid_case{"UIDL", verb::uidl, {}, {}, {}},
        valid_case{"UIDL 4294967295", verb::uidl, {"4294967295"}, 4294967295u, {}},
        valid_case{"RETR 0001", verb::retr, {"0001"}, 1u, {}},
        valid_case{"RETR 00000000000000000007", verb::retr, {"00000000000000000007"}, 7u, {}},
        valid_case{"DELE 7", verb::dele, {"7"}, 7u, {}},
        valid_case{"TOP 1 0", verb::top, {"1", "0"}, 1u, std::uint64_t{0}},
        valid_case{"top 3 10", verb::top, {"3", "10"}, 3u, std::uint64_t{10}},
        valid_case{"TOP 2 18446744073709551615", verb::top, {"2", "18446744073709551615"}, 2u,
                   std::uint64_t{18446744073709551615u}},
        valid_case{"LANG", verb::lang, {}, {}, {}},
        valid_case{"LANG fr", verb::lang, {"fr"}, {}, {}},
        valid_case{"LANG *", verb::lang, {"*"}, {}, {}},
        valid_case{"LANG en-US", verb::lang, {"en-US"}, {}, {}}));

struct invalid_case {
    std::string line;
    errc code;
    std::optional<verb> v;
};

void PrintTo(const invalid_case& c, std::ostream* os) { *os << '"' << visible(c.line) << '"'; }

class CommandInvalid : public ::testing::TestWithParam<invalid_case> {};

TEST_P(CommandInvalid, IsRejected) {
    const auto& c = GetParam();
    const auto r = core::parse_command(c.line);
    ASSERT_FALSE(r.has_value()) << "parsed as " << core::verb_name(r->v);
    EXPECT_EQ(r.error().code, c.code);
    EXPECT_EQ(r.error().v, c.v);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CommandInvalid,
    ::testing::Values(
        invalid_case{"", errc::empty_command, {}},
        invalid_case{" ", errc::unknown_command, {}},
        invalid_case{" USER a", errc::unknown_command, {}},
        invalid_case{"FOO", errc::unknown_command, {}},
        invalid_case{"USERX a", errc::unknown_command, {}},
        invalid_case{"USE a", errc::unknown_command, {}},
        invalid_case{"RETRIEVE 1", errc::unknown_command, {}},
        invalid_case{"RETR\t1", errc::unknown_command, {}},
        invalid_case{"X-RETR 1", errc::unknown_command, {}},
        // NUL: never truncates a command (CVE-2019-11500 class); the verb is kept if readable.
        invalid_case{"US\0ER a"s, errc::nul_in_line, {}},
        invalid_case{"USER a\0b"s, errc::nul_in_line, verb::user},
        invalid_case{"PASS secret\0"s, errc::nul_in_line, verb::pass},
        invalid_case{"QUIT\0"s, errc::nul_in_line, {}},
        invalid_case{"QUIT \0"s, errc::nul_in_line, verb::quit},
        invalid_case{"AUTH PLAIN AAAA\0AAAA"s, errc::nul_in_line, verb::auth},
        // Argument counts and spacing: exactly one space between tokens, nothing trailing.
        invalid_case{"USER", errc::missing_argument, verb::user},
        invalid_case{"USER ", errc::missing_argument, verb::user},
        invalid_case{"USER a b", errc::too_many_arguments, verb::user},
        invalid_case{"USER a ", errc::too_many_arguments, verb::user},
        invalid_case{"USER  a", errc::too_many_arguments, verb::user},
        invalid_case{"PASS", errc::missing_argument, verb::pass},
        invalid_case{"PASS ", errc::missing_argument, verb::pass},
        invalid_case{"APOP", errc::missing_argument, verb::apop},
        invalid_case{"APOP name", errc::missing_argument, verb::apop},
        invalid_case{"APOP name ", errc::missing_argument, verb::apop},
        invalid_case{"APOP  digest", errc::missing_argument, verb::apop},
        invalid_case{"APOP a b c", errc::too_many_arguments, verb::apop},
        invalid_case{"AUTH ", errc::missing_argument, verb::auth},
        invalid_case{"AUTH  PLAIN", errc::missing_argument, verb::auth},
        invalid_case{"AUTH PLAIN ", errc::missing_argument, verb::auth},
        invalid_case{"STAT 1", errc::too_many_arguments, verb::stat},
        invalid_case{"STAT ", errc::too_many_arguments, verb::stat},
        invalid_case{"QUIT now", errc::too_many_arguments, verb::quit},
        invalid_case{"CAPA x", errc::too_many_arguments, verb::capa},
        invalid_case{"STLS x", errc::too_many_arguments, verb::stls},
        invalid_case{"NOOP ", errc::too_many_arguments, verb::noop},
        invalid_case{"RSET 1", errc::too_many_arguments, verb::rset},
        invalid_case{"UTF8 x", errc::too_many_arguments, verb::utf8},
        invalid_case{"LANG ", errc::missing_argument, verb::lang},
        invalid_case{"LANG en fr", errc::too_many_arguments, verb::lang},
        invalid_case{"RETR", errc::missing_argument, verb::retr},
        invalid_case{"DELE", errc::missing_argument, verb::dele},
        invalid_case{"RETR 1 2", errc::too_many_arguments, verb::retr},
        invalid_case{"LIST 1 2", errc::too_many_arguments, verb::list},
        invalid_case{"LIST 1 ", errc::too_many_arguments, verb::list},
        invalid_case{"TOP", errc::missing_argument, verb::top},
        invalid_case{"TOP 1", errc::missing_argument, verb::top},
        invalid_case{"TOP 1 2 3", errc::too_many_arguments, verb::top},
        invalid_case{"TOP 1  2", errc::too_many_arguments, verb::top},
        // Message numbers (SECURITY S09).
        invalid_case{"LIST ", errc::bad_message_number, verb::list},
        invalid_case{"LIST 0", errc::bad_message_number, verb::list},
        invalid_case{"LIST 00", errc::bad_message_number, verb::list},
        invalid_case{"LIST -1", errc::bad_message_number, verb::list},
        invalid_case{"LIST +1", errc::bad_message_number, verb::list},
        invalid_case{"LIST 4294967296", errc::bad_message_number, verb::list},
        invalid_case{"LIST 4294967297", errc::bad_message_number, verb::list},
        invalid_case{"LIST 99999999999999999999", errc::bad_message_number, verb::list},
        invalid_case{"LIST 1a", errc::bad_message_number, verb::list},
        invalid_case{"LIST 0x1", errc::bad_message_number, verb::list},
        invalid_case{"LIST 1.0", errc::bad_message_number, verb::list},
        invalid_case{"UIDL \xd9\xa1", errc::bad_message_number, verb::uidl},
        invalid_case{"RETR 000000000000000000001", errc::bad_message_number, verb::retr},
        invalid_case{"DELE -0", errc::bad_message_number, verb::dele},
        invalid_case{"TOP 0 1", errc::bad_message_number, verb::top},
        invalid_case{"TOP x 1", errc::bad_message_number, verb::top},
        invalid_case{"TOP 1 -1", errc::bad_line_count, verb::top},
        invalid_case{"TOP 1 +1", errc::bad_line_count, verb::top},
        invalid_case{"TOP 1 18446744073709551616", errc::bad_line_count, verb::top},
        invalid_case{"TOP 1 x", errc::bad_line_count, verb::top},
        // Argument length (RFC 2449 section 4: 255 octets).
        invalid_case{"USER " + long_256, errc::argument_too_long, verb::user},
        invalid_case{"PASS " + long_256, errc::argument_too_long, verb::pass},
        invalid_case{"APOP " + long_256 + " d", errc::argument_too_long, verb::apop},
        invalid_case{"AUTH " + long_256, errc::argument_too_long, verb::auth},
        invalid_case{"AUTH " + long_256 + " =", errc::argument_too_long, verb::auth},
        invalid_case{"LANG " + long_256, errc::argument_too_long, verb::lang},
        invalid_case{"RETR " + std::string(300, '0') + "1", errc::argument_too_long,
                     verb::retr}));

TEST(Command, EveryVerbHasItsName) {
    const std::vector<std::pair<std::string, verb>> samples = {
        {"USER a", verb::user}, {"PASS a", verb::pass}, {"APOP a b", verb::apop},
        {"AUTH", verb::auth},   {"STLS", verb::stls},   {"CAPA", verb::capa},
        {"STAT", verb::stat},   {"LIST", verb::list},   {"UIDL", verb::uidl},
        {"RETR 1", verb::retr}, {"TOP 1 1", verb::top}, {"DELE 1", verb::dele},
        {"NOOP", verb::noop},   {"RSET", verb::rset},   {"QUIT", verb::quit},
        {"UTF8", verb::utf8},   {"LANG", verb::lang},
    };
    ASSERT_EQ(samples.size(), static_cast<std::size_t>(verb::lang) + 1);
    for (const auto& [line, v] : samples) {
        const auto r = core::parse_command(line);
        ASSERT_TRUE(r) << line;
        EXPECT_EQ(r->v, v) << line;
        EXPECT_EQ(core::verb_name(v), line.substr(0, line.find(' ')));
    }
}

TEST(Command, ValueThrowsTheErrorCode) {
    auto ok = core::parse_command("RETR 3");
    EXPECT_EQ(ok.value().number, 3u);
    auto bad = core::parse_command("RETR 0");
    try {
        (void)bad.value();
        ADD_FAILURE() << "value() did not throw";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), core::make_error_code(errc::bad_message_number));
        EXPECT_NE(std::string(e.what()).find("RETR"), std::string::npos) << e.what();
    }
    auto unknown = core::parse_command("FOO");
    EXPECT_THROW((void)unknown.value(), boost::system::system_error);
}

struct number_case {
    std::string text;
    std::optional<std::uint64_t> decimal;
    std::optional<std::uint32_t> message;
};

TEST(Command, NumberParsers) {
    const std::vector<number_case> cases = {
        {"", {}, {}},
        {"0", 0u, {}},
        {"000", 0u, {}},
        {"1", 1u, 1u},
        {"007", 7u, 7u},
        {"4294967295", 4294967295u, 4294967295u},
        {"4294967296", 4294967296u, {}},
        {"18446744073709551615", 18446744073709551615u, {}},
        {"18446744073709551616", {}, {}},
        {"99999999999999999999", {}, {}},
        {"00000000000000000001", 1u, 1u},    // 20 digits: still bounded
        {"000000000000000000001", {}, {}},   // 21 digits: too long
        {"-1", {}, {}},
        {"+1", {}, {}},
        {" 1", {}, {}},
        {"1 ", {}, {}},
        {"1e3", {}, {}},
        {"0x10", {}, {}},
        {"\xef\xbc\x91", {}, {}},  // FULLWIDTH DIGIT ONE
    };
    for (const auto& c : cases) {
        EXPECT_EQ(core::parse_decimal(c.text), c.decimal) << visible(c.text);
        EXPECT_EQ(core::parse_message_number(c.text), c.message) << visible(c.text);
    }
}

TEST(Command, EveryPrefixOfAValidLineIsHandled) {
    // No prefix of a command may crash, and none but the full forms may parse as something
    // with a different argument: a cut line is either a shorter valid command or an error.
    const std::string line = "TOP 12 345";
    for (std::size_t k = 0; k <= line.size(); ++k) {
        const auto r = core::parse_command(std::string_view(line).substr(0, k));
        if (k == line.size()) {
            ASSERT_TRUE(r);
            EXPECT_EQ(r->lines, 345u);
        } else if (k >= 8) {
            ASSERT_TRUE(r) << k;
            EXPECT_EQ(r->number, 12u);
            EXPECT_EQ(r->lines, std::stoull(line.substr(7, k - 7)));
        } else {
            EXPECT_FALSE(r) << k;
        }
    }
}

}  // namespace
}  // namespace izypop3::test
