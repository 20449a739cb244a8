// core::parse_status_line (RFC 1939 section 3, RFC 2449 section 8, RFC 5034 section 4) and
// core::printable, which makes server text safe to log (SECURITY C06, C20).

#include "chunking.hpp"

#include <izypop3/core/status_line.hpp>

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

namespace izypop3::test {
namespace {

using core::errc;
using core::status_kind;
using namespace std::string_literals;

struct status_case {
    std::string line;
    status_kind kind;
    std::string code;
    std::string text;
};

void PrintTo(const status_case& c, std::ostream* os) { *os << '"' << visible(c.line) << '"'; }

class StatusValid : public ::testing::TestWithParam<status_case> {};

TEST_P(StatusValid, Parses) {
    const auto& c = GetParam();
    const auto r = core::parse_status_line(c.line);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->kind, c.kind);
    EXPECT_EQ(r->code, c.code);
    EXPECT_EQ(r->text, c.text);
}

INSTANTIATE_TEST_SUITE_P(
    Table, StatusValid,
    ::testing::Values(
        status_case{"+OK", status_kind::ok, "", ""},
        status_case{"+OK ", status_kind::ok, "", ""},
        status_case{"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", status_kind::ok,
                    "", "POP3 server ready <1896.697170952@dbc.mtview.ca.us>"},
        status_case{"+ok lower case", status_kind::ok, "", "lower case"},
        status_case{"+Ok 2 320", status_kind::ok, "", "2 320"},
        status_case{"+OK  two spaces", status_kind::ok, "", " two spaces"},
        status_case{"-ERR", status_kind::err, "", ""},
        status_case{"-ERR no such message", status_kind::err, "", "no such message"},
        status_case{"-err lower", status_kind::err, "", "lower"},
        status_case{"-ERR [IN-USE] maildrop locked", status_kind::err, "IN-USE",
                    "maildrop locked"},
        status_case{"-ERR [SYS/TEMP] try later", status_kind::err, "SYS/TEMP", "try later"},
        status_case{"-ERR [AUTH]", status_kind::err, "AUTH", ""},
        status_case{"-ERR [AUTH] ", status_kind::err, "AUTH", ""},
        status_case{"-ERR [LOGIN-DELAY]text", status_kind::err, "LOGIN-DELAY", "text"},
        status_case{"+OK [UTF8] ready", status_kind::ok, "UTF8", "ready"},
        // Brackets that are not a well-formed resp-code stay text.
        status_case{"-ERR [] empty", status_kind::err, "", "[] empty"},
        status_case{"-ERR [SYS/] bad level", status_kind::err, "", "[SYS/] bad level"},
        status_case{"-ERR [/TEMP] bad level", status_kind::err, "", "[/TEMP] bad level"},
        status_case{"-ERR [IN USE] space", status_kind::err, "", "[IN USE] space"},
        status_case{"-ERR [unclosed", status_kind::err, "", "[unclosed"},
        status_case{"-ERR  [IN-USE] not first", status_kind::err, "", " [IN-USE] not first"},
        status_case{"-ERR text [IN-USE]", status_kind::err, "", "text [IN-USE]"},
        // SASL continuations (RFC 5034 section 4): "+" alone is an empty challenge.
        status_case{"+", status_kind::continuation, "", ""},
        status_case{"+ ", status_kind::continuation, "", ""},
        status_case{"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+", status_kind::continuation, "",
                    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+"},
        // A continuation's payload is not a resp-code even if it looks like one.
        status_case{"+ [IN-USE]", status_kind::continuation, "", "[IN-USE]"}));

struct invalid_status {
    std::string line;
    errc code;
};

void PrintTo(const invalid_status& c, std::ostream* os) { *os << '"' << visible(c.line) << '"'; }

class StatusInvalid : public ::testing::TestWithParam<invalid_status> {};

TEST_P(StatusInvalid, IsRejected) {
    const auto& c = GetParam();
    const auto r = core::parse_status_line(c.line);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), core::make_error_code(c.code));
}

INSTANTIATE_TEST_SUITE_P(
    Table, StatusInvalid,
    ::testing::Values(invalid_status{"", errc::malformed_status},
                      invalid_status{"OK", errc::malformed_status},
                      invalid_status{" +OK", errc::malformed_status},
                      invalid_status{"+OKAY", errc::malformed_status},
                      invalid_status{"+O", errc::malformed_status},
                      invalid_status{"+OK\tready", errc::malformed_status},
                      invalid_status{"-ER", errc::malformed_status},
                      invalid_status{"-ERROR", errc::malformed_status},
                      invalid_status{"-", errc::malformed_status},
                      invalid_status{"+X", errc::malformed_status},
                      invalid_status{"++", errc::malformed_status},
                      invalid_status{"* OK IMAP4 ready", errc::malformed_status},
                      invalid_status{"220 smtp ready", errc::malformed_status},
                      invalid_status{"+OK a\0b"s, errc::nul_in_line},
                      invalid_status{"\0+OK"s, errc::nul_in_line},
                      invalid_status{"+ \0"s, errc::nul_in_line}));

TEST(Printable, PlainTextIsUnchanged) {
    EXPECT_EQ(core::printable("POP3 server ready"), "POP3 server ready");
    EXPECT_EQ(core::printable(""), "");
    EXPECT_EQ(core::printable("back\\slash ~"), "back\\slash ~");
}

TEST(Printable, ControlAndNonAsciiAreEscaped) {
    EXPECT_EQ(core::printable("\x1b[31mred\x1b[0m"), "\\x1B[31mred\\x1B[0m");
    EXPECT_EQ(core::printable("a\r\nb\tc\0d"s), "a\\x0D\\x0Ab\\x09c\\x00d");
    EXPECT_EQ(core::printable("\x7f"), "\\x7F");
    EXPECT_EQ(core::printable("caf\xc3\xa9"), "caf\\xC3\\xA9");
    EXPECT_EQ(core::printable("\xff"), "\\xFF");
}

TEST(Printable, CutAtMaxWithEllipsis) {
    EXPECT_EQ(core::printable("abcdef", 6), "abcdef");
    EXPECT_EQ(core::printable("abcdefg", 6), "abcdef...");
    EXPECT_EQ(core::printable("abcdefg", 0), "...");
    EXPECT_EQ(core::printable("", 0), "");
    // An escape is never split: "ab" + "\x01" needs 6 octets.
    EXPECT_EQ(core::printable("ab\x01", 5), "ab...");
    EXPECT_EQ(core::printable("ab\x01", 6), "ab\\x01");
    EXPECT_EQ(core::printable("ab\x01z", 6), "ab\\x01...");
}

TEST(Printable, HugeServerTextIsBounded) {
    const std::string huge(100 * 1024, '\x1b');
    const std::string out = core::printable(huge);
    EXPECT_EQ(out.size(), 200u / 4 * 4 + 3);  // 50 escapes of 4 octets, then "..."
    EXPECT_EQ(out.substr(0, 8), "\\x1B\\x1B");
    EXPECT_EQ(out.substr(out.size() - 3), "...");
    const std::string plain(100 * 1024, 'a');
    EXPECT_EQ(core::printable(plain, 300), std::string(300, 'a') + "...");
}

}  // namespace
}  // namespace izypop3::test
