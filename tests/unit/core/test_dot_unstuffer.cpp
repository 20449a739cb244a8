// core::dot_unstuffer: the decoding table (RFC 1939 section 3), the terminator across every
// chunk boundary, stopping right after it, and bare CR kept as data so that "\r.\r\n" inside
// a line cannot end a body early (SECURITY S20, CVE-2002-2338 class). The round-trip property
// with the encoder lives in test_dot_stuffer.cpp.

#include "chunking.hpp"

#include <izypop3/core/dot_unstuffer.hpp>

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::test {
namespace {

using core::dot_unstuffer;

struct decoded {
    std::string out;
    std::size_t consumed = 0;
    bool done = false;
};

// Feeds pieces until the terminator, checking that every chunk before it is used up.
decoded decode(const std::vector<std::string_view>& pieces) {
    dot_unstuffer d;
    decoded r;
    for (auto p : pieces) {
        const auto pr = d.decode(p, r.out);
        r.consumed += pr.consumed;
        EXPECT_EQ(pr.done, d.done());
        if (pr.done) {
            r.done = true;
            // Later calls use nothing and add nothing.
            const auto again = d.decode("more\r\n", r.out);
            EXPECT_EQ(again.consumed, 0u);
            EXPECT_TRUE(again.done);
            break;
        }
        EXPECT_EQ(pr.consumed, p.size());
    }
    return r;
}

struct unstuffing_case {
    std::string wire;
    std::string out;
    bool done;
};

void PrintTo(const unstuffing_case& c, std::ostream* os) { *os << '"' << visible(c.wire) << '"'; }

void check_every_chunking(const unstuffing_case& c) {
    for (const auto& ch : all_chunkings(c.wire)) {
        SCOPED_TRACE(ch.name);
        const auto r = decode(ch.pieces);
        EXPECT_EQ(visible(r.out), visible(c.out));
        EXPECT_EQ(r.done, c.done);
        EXPECT_EQ(r.consumed, c.wire.size());
    }
}

// Bodies with their terminator.
class DotUnstuffing : public ::testing::TestWithParam<unstuffing_case> {};

TEST_P(DotUnstuffing, EveryChunking) { check_every_chunking(GetParam()); }

TEST_P(DotUnstuffing, StopsRightAfterTheTerminator) {
    const auto& c = GetParam();
    ASSERT_TRUE(c.done);
    // The next reply, pipelined into the same read, must be left for the line reader.
    const std::string stream = c.wire + "+OK 2 200\r\n.\r\n";
    for (const auto& ch : all_chunkings(stream)) {
        SCOPED_TRACE(ch.name);
        const auto r = decode(ch.pieces);
        EXPECT_EQ(visible(r.out), visible(c.out));
        EXPECT_TRUE(r.done);
        EXPECT_EQ(r.consumed, c.wire.size());
    }
}

// Bodies cut before their terminator: everything is consumed, the state waits for more.
class DotUnstuffingIncomplete : public ::testing::TestWithParam<unstuffing_case> {};

TEST_P(DotUnstuffingIncomplete, EveryChunking) { check_every_chunking(GetParam()); }

INSTANTIATE_TEST_SUITE_P(
    Table, DotUnstuffing,
    ::testing::Values(
        unstuffing_case{".\r\n", "", true},
        unstuffing_case{".\n", "", true},
        unstuffing_case{"a\r\n.\r\n", "a\r\n", true},
        unstuffing_case{"\r\n.\r\n", "\r\n", true},
        unstuffing_case{"Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n", true},
        // Stuffed dots.
        unstuffing_case{"..\r\n.\r\n", ".\r\n", true},
        unstuffing_case{"..x\r\n.\r\n", ".x\r\n", true},
        unstuffing_case{"...\r\n.\r\n", "..\r\n", true},
        unstuffing_case{"a\r\n..\r\n.\r\n", "a\r\n.\r\n", true},
        unstuffing_case{"a\r\n...\r\nb\r\n.\r\n", "a\r\n..\r\nb\r\n", true},
        unstuffing_case{"a.b\r\n.\r\n", "a.b\r\n", true},
        // An unstuffed ".x" from a careless server: RFC 1939 strips the first octet.
        unstuffing_case{".x\r\n.\r\n", "x\r\n", true},
        unstuffing_case{". \r\n.\r\n", " \r\n", true},
        // Bare LF from a sloppy server: CRLF in the output; ".\n" terminates.
        unstuffing_case{"a\n.\n", "a\r\n", true},
        unstuffing_case{"\n.\n", "\r\n", true},
        unstuffing_case{"a\nb\r\n..c\n.\r\n", "a\r\nb\r\n.c\r\n", true},
        // A bare CR is data, never a line end: "\r.\r\n" inside a line is not the end.
        unstuffing_case{"a\r.\r\n.\r\n", "a\r.\r\n", true},
        unstuffing_case{"a\rb\r\n.\r\n", "a\rb\r\n", true},
        unstuffing_case{"a\r\r\n.\r\n", "a\r\r\n", true},
        unstuffing_case{"a\r\r\r\n.\r\n", "a\r\r\r\n", true},
        unstuffing_case{".\rx\r\n.\r\n", "\rx\r\n", true},
        unstuffing_case{".\r\r\n.\r\n", "\r\r\n", true},
        unstuffing_case{".\r.\r\n.\r\n", "\r.\r\n", true},
        // NUL octets are data.
        unstuffing_case{std::string("a\0b\r\n.\r\n", 8), std::string("a\0b\r\n", 5), true}));

INSTANTIATE_TEST_SUITE_P(
    Table, DotUnstuffingIncomplete,
    ::testing::Values(
        unstuffing_case{"", "", false},
        unstuffing_case{"a", "a", false},
        unstuffing_case{"a\r", "a", false},
        unstuffing_case{"a\r\n", "a\r\n", false},
        unstuffing_case{"a\r\n.", "a\r\n", false},
        unstuffing_case{"a\r\n.\r", "a\r\n", false},
        unstuffing_case{"a\r\n..", "a\r\n.", false},
        unstuffing_case{"\r\n..", "\r\n.", false},
        unstuffing_case{"a\r\n.\r.", "a\r\n\r.", false}));

TEST(DotUnstuffer, ContinuesAnIncompleteBody) {
    dot_unstuffer d;
    std::string out;
    auto p = d.decode("line one\r\n.", out);
    EXPECT_EQ(p.consumed, 11u);
    EXPECT_FALSE(p.done);
    EXPECT_EQ(out, "line one\r\n");
    p = d.decode(".two\r", out);
    EXPECT_EQ(p.consumed, 5u);
    EXPECT_EQ(out, "line one\r\n.two");
    p = d.decode("\n.\r\nNEXT", out);
    EXPECT_EQ(p.consumed, 4u);
    EXPECT_TRUE(p.done);
    EXPECT_EQ(out, "line one\r\n.two\r\n");
}

TEST(DotUnstuffer, ResetStartsANewBody) {
    dot_unstuffer d;
    std::string first;
    EXPECT_TRUE(d.decode("a\r\n.\r\n", first).done);
    d.reset();
    EXPECT_FALSE(d.done());
    std::string second;
    const auto p = d.decode("..b\r\n.\r\n", second);
    EXPECT_TRUE(p.done);
    EXPECT_EQ(second, ".b\r\n");
    // A reset in the middle of a line forgets it.
    d.reset();
    std::string third;
    EXPECT_FALSE(d.decode("partial.\r", third).done);
    d.reset();
    std::string fourth;
    EXPECT_TRUE(d.decode(".\r\n", fourth).done);
    EXPECT_EQ(fourth, "");
}

TEST(DotUnstuffer, LargeBodyInChunks) {
    std::string wire;
    std::string expected;
    for (int i = 0; i < 20000; ++i) {
        const std::string text = (i % 7 == 0 ? "." : "") + std::string(60 + i % 13, 'x');
        wire += (text.starts_with('.') ? "." : "") + text + "\r\n";
        expected += text + "\r\n";
    }
    wire += ".\r\n";
    for (std::size_t size : {std::size_t{1}, std::size_t{3}, std::size_t{4096},
                             std::size_t{65536}}) {
        SCOPED_TRACE(size);
        const auto r = decode(fixed_pieces(wire, size));
        EXPECT_TRUE(r.done);
        EXPECT_EQ(r.consumed, wire.size());
        EXPECT_TRUE(r.out == expected);
    }
}

}  // namespace
}  // namespace izypop3::test
