// core::dot_stuffer and core::wire_size_counter: the dot-stuffing table (RFC 1939 section 3),
// TOP's header/body cut (section 7), every chunking of every fixture, and the properties that
// tie encoder, size counter and decoder together (SECURITY S20, F04):
//   unstuff(stuff(x)) == normalise(x)
//   stuff(x).size() == wire_size(x) + stuffed dots + 3
// where normalise(x) turns every CRLF, bare LF and bare CR into CRLF and ends a non-empty
// message with CRLF. The expectations come from a deliberately naive model in this file, not
// from the code under test.

#include "chunking.hpp"

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/core/dot_unstuffer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::test {
namespace {

using core::dot_stuffer;
using core::dot_unstuffer;
using core::wire_size_counter;

// ---------------------------------------------------------------------------------------
// The naive model

std::vector<std::string> model_lines(std::string_view x) {
    std::vector<std::string> lines;
    std::string cur;
    bool open = false;  // a line has started and not ended
    for (std::size_t i = 0; i < x.size(); ++i) {
        const char c = x[i];
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < x.size() && x[i + 1] == '\n') ++i;
            lines.push_back(cur);
            cur.clear();
            open = false;
        } else {
            cur += c;
            open = true;
        }
    }
    if (open) lines.push_back(cur);
    return lines;
}

std::string model_normalise(std::string_view x) {
    std::string out;
    for (const auto& l : model_lines(x)) out += l + "\r\n";
    return out;
}

std::string model_stuff(std::string_view x, std::optional<std::uint64_t> body_lines = {}) {
    auto lines = model_lines(x);
    if (body_lines) {
        std::size_t keep = lines.size();
        for (std::size_t i = 0; i < lines.size(); ++i) {
            if (lines[i].empty()) {
                const std::uint64_t room = lines.size() - (i + 1);
                keep = i + 1 + static_cast<std::size_t>(std::min(room, *body_lines));
                break;
            }
        }
        lines.resize(keep);
    }
    std::string out;
    for (const auto& l : lines) out += (l.starts_with('.') ? "." : "") + l + "\r\n";
    return out + ".\r\n";
}

std::size_t model_stuffed_dots(std::string_view x) {
    std::size_t n = 0;
    for (const auto& l : model_lines(x)) n += l.starts_with('.') ? 1 : 0;
    return n;
}

// ---------------------------------------------------------------------------------------
// Running the code under test over a chunking

struct encoded {
    std::string wire;
    bool saturated = false;
};

encoded encode(const std::vector<std::string_view>& pieces,
               std::optional<std::uint64_t> body_lines = {}) {
    dot_stuffer s(body_lines);
    encoded e;
    for (auto p : pieces) s.encode(p, e.wire);
    e.saturated = s.saturated();
    s.finish(e.wire);
    return e;
}

std::uint64_t wire_size(const std::vector<std::string_view>& pieces) {
    wire_size_counter c;
    for (auto p : pieces) c.add(p);
    return c.finish();
}

// ---------------------------------------------------------------------------------------
// The stuffing table

struct stuffing_case {
    std::string input;
    std::string wire;
};

void PrintTo(const stuffing_case& c, std::ostream* os) { *os << '"' << visible(c.input) << '"'; }

class DotStuffing : public ::testing::TestWithParam<stuffing_case> {};

TEST_P(DotStuffing, EveryChunking) {
    const auto& c = GetParam();
    // The table itself is checked against the model, so a wrong row cannot hide a bug.
    ASSERT_EQ(visible(model_stuff(c.input)), visible(c.wire));
    const auto normalised = model_normalise(c.input);
    for (const auto& ch : all_chunkings(c.input)) {
        SCOPED_TRACE(ch.name);
        const auto e = encode(ch.pieces);
        EXPECT_EQ(visible(e.wire), visible(c.wire));
        EXPECT_FALSE(e.saturated);
        EXPECT_EQ(wire_size(ch.pieces), normalised.size());
        EXPECT_EQ(e.wire.size(), normalised.size() + model_stuffed_dots(c.input) + 3);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, DotStuffing,
    ::testing::Values(
        stuffing_case{"", ".\r\n"},
        stuffing_case{"a", "a\r\n.\r\n"},
        stuffing_case{"a\r\n", "a\r\n.\r\n"},
        stuffing_case{"a\n", "a\r\n.\r\n"},
        stuffing_case{"a\r", "a\r\n.\r\n"},
        stuffing_case{"a\nb", "a\r\nb\r\n.\r\n"},
        stuffing_case{"a\rb\r\n", "a\r\nb\r\n.\r\n"},
        stuffing_case{"a\r\r\n", "a\r\n\r\n.\r\n"},
        stuffing_case{"a.b\r\n.\r\n", "a.b\r\n..\r\n.\r\n"},
        stuffing_case{".", "..\r\n.\r\n"},
        stuffing_case{"..", "...\r\n.\r\n"},
        stuffing_case{".\r\n", "..\r\n.\r\n"},
        stuffing_case{"\r\n.\r\n", "\r\n..\r\n.\r\n"},
        stuffing_case{"\r\n..", "\r\n...\r\n.\r\n"},
        // A bare CR before "." is a line end, so the dot is stuffed (end-of-data smuggling).
        stuffing_case{"\r.\r\n", "\r\n..\r\n.\r\n"},
        stuffing_case{"\r.", "\r\n..\r\n.\r\n"},
        stuffing_case{"x\r.\ry", "x\r\n..\r\ny\r\n.\r\n"},
        stuffing_case{"\n.", "\r\n..\r\n.\r\n"},
        stuffing_case{"foo\r\n.\r\n", "foo\r\n..\r\n.\r\n"},
        stuffing_case{"foo\n.\n", "foo\r\n..\r\n.\r\n"},
        stuffing_case{".foo\r\n.\r\nfoo\r\n", "..foo\r\n..\r\nfoo\r\n.\r\n"},
        stuffing_case{".\r\n.\r\n.", "..\r\n..\r\n..\r\n.\r\n"},
        stuffing_case{"...\r\n", "....\r\n.\r\n"},
        stuffing_case{"\n\n", "\r\n\r\n.\r\n"},
        stuffing_case{"\r\r", "\r\n\r\n.\r\n"},
        stuffing_case{"\n\r", "\r\n\r\n.\r\n"},
        stuffing_case{"\r\n\r", "\r\n\r\n.\r\n"},
        stuffing_case{"x\r\n\n.", "x\r\n\r\n..\r\n.\r\n"},
        stuffing_case{"Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n"},
        stuffing_case{std::string("a\0b\r\n", 5), std::string("a\0b\r\n.\r\n", 8)}));

// ---------------------------------------------------------------------------------------
// TOP n m

struct top_case {
    std::string input;
    std::uint64_t body_lines;
    std::string wire;
    bool saturated;
};

void PrintTo(const top_case& c, std::ostream* os) {
    *os << '"' << visible(c.input) << "\" lines " << c.body_lines;
}

class DotStuffingTop : public ::testing::TestWithParam<top_case> {};

TEST_P(DotStuffingTop, EveryChunking) {
    const auto& c = GetParam();
    ASSERT_EQ(visible(model_stuff(c.input, c.body_lines)), visible(c.wire));
    for (const auto& ch : all_chunkings(c.input)) {
        SCOPED_TRACE(ch.name);
        const auto e = encode(ch.pieces, c.body_lines);
        EXPECT_EQ(visible(e.wire), visible(c.wire));
        EXPECT_EQ(e.saturated, c.saturated);
    }
}

const std::string msg3 = "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\nb3\r\n";

INSTANTIATE_TEST_SUITE_P(
    Table, DotStuffingTop,
    ::testing::Values(
        top_case{msg3, 0, "H: 1\r\nH: 2\r\n\r\n.\r\n", true},
        top_case{msg3, 1, "H: 1\r\nH: 2\r\n\r\nb1\r\n.\r\n", true},
        top_case{msg3, 2, "H: 1\r\nH: 2\r\n\r\nb1\r\nb2\r\n.\r\n", true},
        top_case{msg3, 3, msg3 + ".\r\n", true},
        top_case{msg3, 4, msg3 + ".\r\n", false},
        top_case{msg3, 18446744073709551615u, msg3 + ".\r\n", false},
        // No blank line: all of it is headers.
        top_case{"H: 1\r\nH: 2\r\n", 0, "H: 1\r\nH: 2\r\n.\r\n", false},
        top_case{"H: 1\r\nH: 2", 0, "H: 1\r\nH: 2\r\n.\r\n", false},
        top_case{"", 0, ".\r\n", false},
        // No headers: the message starts with the blank line.
        top_case{"\r\nb1\r\nb2\r\n", 1, "\r\nb1\r\n.\r\n", true},
        top_case{"\r\n", 0, "\r\n.\r\n", true},
        // Bare LF and bare CR line ends count as lines too.
        top_case{"S\n\nb1\nb2\n", 1, "S\r\n\r\nb1\r\n.\r\n", true},
        top_case{"S\r\rb1\rb2", 1, "S\r\n\r\nb1\r\n.\r\n", true},
        top_case{"S\r\n\r\n\nX", 0, "S\r\n\r\n.\r\n", true},
        top_case{"S\r\n\r\n\nX", 1, "S\r\n\r\n\r\n.\r\n", true},
        // A last body line without CRLF still counts and gets one.
        top_case{"S\r\n\r\nb1", 5, "S\r\n\r\nb1\r\n.\r\n", false},
        top_case{"S\r\n\r\nb1", 1, "S\r\n\r\nb1\r\n.\r\n", false},
        // Dots are stuffed in the part that is sent.
        top_case{"S\r\n\r\n.a\r\n..b\r\n.\r\nrest\r\n", 3, "S\r\n\r\n..a\r\n...b\r\n..\r\n.\r\n",
                 true},
        top_case{".S\r\n\r\n.\r\n", 0, "..S\r\n\r\n.\r\n", true}));

TEST(DotStuffer, SaturatedStuffingIgnoresLaterInput) {
    dot_stuffer s(std::uint64_t{0});
    std::string out;
    s.encode("H: x\r\n\r", out);
    EXPECT_TRUE(s.saturated());
    s.encode("\nbody\r\n.\r\n", out);
    s.encode("more", out);
    s.finish(out);
    EXPECT_EQ(out, "H: x\r\n\r\n.\r\n");
}

TEST(DotStuffer, AppendsToExistingOutput) {
    dot_stuffer s;
    std::string out = "+OK 3 octets\r\n";
    s.encode(".x", out);
    s.finish(out);
    EXPECT_EQ(out, "+OK 3 octets\r\n..x\r\n.\r\n");
}

TEST(DotStuffer, EveryTwoWaySplitOfDotSequences) {
    // "\r\n.\r\n" and "\r\n.." cut in three pieces at every pair of offsets, with text around.
    for (const std::string core_seq : {"\r\n.\r\n", "\r\n..", "\r.\r\n", "\n.\n"}) {
        const std::string input = "a" + core_seq + "b";
        const std::string expected = model_stuff(input);
        for (std::size_t i = 0; i <= input.size(); ++i) {
            for (std::size_t j = i; j <= input.size(); ++j) {
                const std::string_view v(input);
                const auto e = encode({v.substr(0, i), v.substr(i, j - i), v.substr(j)});
                ASSERT_EQ(visible(e.wire), visible(expected)) << i << "," << j;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Properties over random messages

// Random bytes with '.', CR and LF much more frequent than in real mail, so that every
// combination of line ends and dots at chunk edges is hit many times.
std::string random_message(std::mt19937& rng) {
    static constexpr char alphabet[] = {'.', '.', '.', '\r', '\r', '\r', '\n', '\n', '\n',
                                        'a', 'b', ' ', '\0'};
    std::uniform_int_distribution<int> len(0, 120);
    std::uniform_int_distribution<std::size_t> pick(0, sizeof(alphabet) - 1);
    std::uniform_int_distribution<int> any(0, 255);
    std::uniform_int_distribution<int> odds(0, 19);
    std::string s;
    const int n = len(rng);
    for (int i = 0; i < n; ++i)
        s += odds(rng) == 0 ? static_cast<char>(any(rng)) : alphabet[pick(rng)];
    return s;
}

TEST(DotStufferProperty, MatchesModelAndSizeCounter) {
    std::mt19937 rng(20240601);
    for (int iter = 0; iter < 20000; ++iter) {
        const std::string x = random_message(rng);
        SCOPED_TRACE(visible(x));
        const auto pieces = random_pieces(x, rng, 7);
        const auto e = encode(pieces);
        const std::string normalised = model_normalise(x);
        ASSERT_EQ(visible(e.wire), visible(model_stuff(x)));
        const auto size = wire_size(random_pieces(x, rng, 5));
        ASSERT_EQ(size, normalised.size());
        ASSERT_EQ(e.wire.size(), size + model_stuffed_dots(x) + 3);
    }
}

TEST(DotStufferProperty, TopMatchesModel) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> lines(0, 4);
    for (int iter = 0; iter < 10000; ++iter) {
        const std::string x = random_message(rng);
        const std::uint64_t m = static_cast<std::uint64_t>(lines(rng));
        SCOPED_TRACE(visible(x) + " lines " + std::to_string(m));
        const auto e = encode(random_pieces(x, rng, 6), m);
        ASSERT_EQ(visible(e.wire), visible(model_stuff(x, m)));
    }
}

TEST(DotStufferProperty, UnstuffOfStuffIsNormalised) {
    // F04: decode(encode(x)) == normalise(x), with the decoder stopping right after the
    // terminator even when the next reply follows in the same chunk.
    std::mt19937 rng(1939);
    for (int iter = 0; iter < 20000; ++iter) {
        const std::string x = random_message(rng);
        SCOPED_TRACE(visible(x));
        const auto e = encode(random_pieces(x, rng, 9));
        const std::string stream = e.wire + "+OK next\r\n";
        dot_unstuffer d;
        std::string out;
        std::size_t consumed = 0;
        for (auto p : random_pieces(stream, rng, 9)) {
            if (d.done()) break;
            const auto pr = d.decode(p, out);
            consumed += pr.consumed;
            if (!pr.done) {
                ASSERT_EQ(pr.consumed, p.size());
            }
        }
        ASSERT_TRUE(d.done());
        ASSERT_EQ(consumed, e.wire.size());
        ASSERT_EQ(visible(out), visible(model_normalise(x)));
    }
}

TEST(WireSizeCounter, Basics) {
    wire_size_counter c;
    EXPECT_EQ(c.finish(), 0u);
    wire_size_counter d;
    d.add("a\nb");
    d.add("");
    d.add("\r");
    EXPECT_EQ(d.finish(), 6u);  // "a\r\nb\r\n"
    wire_size_counter e;
    e.add("x\r");
    e.add("\n");
    e.add("\r");
    e.add("\r\n");
    EXPECT_EQ(e.finish(), 7u);  // "x\r\n\r\n\r\n"
}

// wire_form() says the encoder would send the octets as they are (plus ".\r\n"): the
// condition under which a server may send a stored file without reading it.
TEST(WireSizeCounter, WireFormIsExactlyWhenStuffingChangesNothing) {
    std::mt19937 rng(14);
    int wire_forms = 0;
    for (int iter = 0; iter < 20000; ++iter) {
        std::string x = random_message(rng);
        // Enough CRLF-only messages to make the "true" side count.
        if (iter % 2 == 0) {
            std::string crlf;
            for (char ch : x) {
                if (ch == '\r') continue;
                if (ch == '\n') crlf += '\r';
                crlf += ch;
            }
            x = crlf.empty() || crlf.ends_with("\r\n") ? crlf : crlf + "\r\n";
        }
        SCOPED_TRACE(visible(x));
        const bool expected = model_stuff(x) == x + ".\r\n";
        wire_forms += expected;
        wire_size_counter c;
        for (auto p : random_pieces(x, rng, 7)) c.add(p);
        c.finish();
        ASSERT_EQ(c.wire_form(), expected);
    }
    EXPECT_GT(wire_forms, 500);
}

TEST(WireSizeCounter, ADotAfterALineEndInTheNextChunkIsSeen) {
    wire_size_counter c;
    c.add("a\r\n");
    c.add(".b\r\n");
    c.finish();
    EXPECT_FALSE(c.wire_form());
    wire_size_counter d;
    d.add("a\r");
    d.add("\n");
    d.add("b.\r\n");
    d.finish();
    EXPECT_TRUE(d.wire_form());
}

TEST(WireSizeCounter, LargeMessageInChunks) {
    std::string big;
    for (int i = 0; i < 10000; ++i) big += i % 2 ? "line with CRLF\r\n" : "bare lf line\n";
    const auto normalised = model_normalise(big);
    EXPECT_EQ(wire_size(fixed_pieces(big, 4096)), normalised.size());
    EXPECT_EQ(wire_size(fixed_pieces(big, 1)), normalised.size());
}

}  // namespace
}  // namespace izypop3::test
