// core::line_reader: CRLF and bare-LF framing, overlong lines reported once and skipped with
// bounded memory (SECURITY S08, C08), and the unread()/consume()/clear() side door used for
// multi-line bodies and STLS (S01).

#include "chunking.hpp"

#include <izypop3/core/line_reader.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace izypop3::test {
namespace {

using core::line_reader;
using namespace std::string_literals;

constexpr std::string_view overlong = "<overlong>";

// Takes every complete line, rendering an overlong one as "<overlong>".
void drain(line_reader& r, std::vector<std::string>& lines) {
    while (auto l = r.next()) {
        if (l->overlong) {
            EXPECT_TRUE(l->text.empty());
            lines.emplace_back(overlong);
        } else {
            lines.emplace_back(l->text);
        }
    }
}

struct framing_case {
    std::string input;
    std::size_t max_line;
    std::vector<std::string> lines;
    std::string unread;  // what is left once every chunk has been appended
};

void PrintTo(const framing_case& c, std::ostream* os) { *os << '"' << visible(c.input) << '"'; }

class LineReaderFraming : public ::testing::TestWithParam<framing_case> {};

TEST_P(LineReaderFraming, EveryChunking) {
    const auto& c = GetParam();
    for (const auto& ch : all_chunkings(c.input)) {
        SCOPED_TRACE(ch.name);
        line_reader r(c.max_line);
        std::vector<std::string> lines;
        for (auto piece : ch.pieces) {
            r.append(piece);
            drain(r, lines);
        }
        EXPECT_EQ(lines, c.lines);
        EXPECT_EQ(r.unread(), c.unread);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Table, LineReaderFraming,
    ::testing::Values(
        framing_case{"", 16, {}, ""},
        framing_case{"USER a\r\n", 16, {"USER a"}, ""},
        framing_case{"USER a\n", 16, {"USER a"}, ""},
        framing_case{"a\r\nb\nc\r\n", 16, {"a", "b", "c"}, ""},
        framing_case{"\r\n\n\r\n", 16, {"", "", ""}, ""},
        // Only the CR right before the LF belongs to the line end.
        framing_case{"a\r\r\n", 16, {"a\r"}, ""},
        // A bare CR is not a line end for the reader: the command parser sees it as text.
        framing_case{"a\rb\n", 16, {"a\rb"}, ""},
        framing_case{"partial", 16, {}, "partial"},
        framing_case{"a\r\npartial\r", 16, {"a"}, "partial\r"},
        // The reader passes NUL through; parse_command and parse_status_line refuse it.
        framing_case{"a\0b\r\n"s, 16, {"a\0b"s}, ""},
        // Exactly max_line octets, with CRLF or LF, is fine.
        framing_case{"12345678\r\n", 8, {"12345678"}, ""},
        framing_case{"12345678\n", 8, {"12345678"}, ""},
        framing_case{"12345678\r", 8, {}, "12345678\r"},
        // One more is overlong, reported once, and the next line is read normally.
        framing_case{"123456789\r\nok\r\n", 8, {std::string(overlong), "ok"}, ""},
        framing_case{"123456789\nok\n", 8, {std::string(overlong), "ok"}, ""},
        framing_case{"1234567890123456789012345\r\nnext\r\nrest", 8,
                     {std::string(overlong), "next"}, "rest"},
        framing_case{"aaaaaaaaaaaa\nbbbbbbbbbbbb\r\nc\n", 8,
                     {std::string(overlong), std::string(overlong), "c"}, ""},
        // An unfinished overlong line is reported before its LF arrives and leaves nothing.
        framing_case{"ok\r\n123456789012", 8, {"ok", std::string(overlong)}, ""},
        framing_case{"1234567890\r\n\r\n", 8, {std::string(overlong), ""}, ""}));

TEST(LineReader, TenMegabytesWithoutLfStayBounded) {
    constexpr std::size_t max_line = 1024;
    constexpr std::size_t chunk = 64 * 1024;
    line_reader r(max_line);
    const std::string junk(chunk, 'A');
    std::vector<std::string> lines;
    std::size_t largest = 0;
    for (std::size_t sent = 0; sent < 10 * 1024 * 1024; sent += chunk) {
        r.append(junk);
        largest = std::max(largest, r.unread().size());
        ASSERT_LE(r.unread().size(), max_line + chunk);
        drain(r, lines);
    }
    // The first chunk is buffered once to find that the line is overlong; nothing after it.
    EXPECT_EQ(largest, chunk);
    EXPECT_TRUE(r.unread().empty());
    EXPECT_EQ(lines, std::vector<std::string>{std::string(overlong)});
    r.append("tail of the junk\r\nNOOP\r\n");
    drain(r, lines);
    EXPECT_EQ(lines, (std::vector<std::string>{std::string(overlong), "NOOP"}));
}

TEST(LineReader, SlowOverlongLineStaysBounded) {
    // The same attack with small writes: the buffer never holds more than max_line + 2.
    constexpr std::size_t max_line = 100;
    line_reader r(max_line);
    std::vector<std::string> lines;
    for (int i = 0; i < 10000; ++i) {
        r.append("xyz");
        ASSERT_LE(r.unread().size(), max_line + 3);
        drain(r, lines);
    }
    r.append("\nQUIT\n");
    drain(r, lines);
    EXPECT_EQ(lines, (std::vector<std::string>{std::string(overlong), "QUIT"}));
}

TEST(LineReader, UnreadAndConsumeForBodies) {
    line_reader r(64);
    r.append("+OK 12 octets\r\nbody\r\n.\r\n+OK next\r\n");
    auto l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "+OK 12 octets");
    EXPECT_EQ(r.unread(), "body\r\n.\r\n+OK next\r\n");
    r.consume(9);  // "body\r\n.\r\n" taken by a body decoder
    EXPECT_EQ(r.unread(), "+OK next\r\n");
    l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "+OK next");
    EXPECT_FALSE(r.next());
    EXPECT_EQ(r.unread(), "");
}

TEST(LineReader, ConsumeIsClampedAndKeepsScanState) {
    line_reader r(64);
    r.append("abc");
    EXPECT_FALSE(r.next());  // scans "abc" for an LF
    r.consume(1);
    EXPECT_EQ(r.unread(), "bc");
    r.append("d\nef");
    auto l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "bcd");
    EXPECT_EQ(r.unread(), "ef");
    r.consume(1000);
    EXPECT_EQ(r.unread(), "");
    EXPECT_FALSE(r.next());
    r.append("g\n");
    l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "g");
}

TEST(LineReader, ConsumeInsideAScannedLine) {
    // consume() after a partial scan must not make next() miss an LF it has not seen yet.
    line_reader r(64);
    r.append("xxxxx");
    EXPECT_FALSE(r.next());
    r.consume(3);
    r.append("\n");
    auto l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "xx");
}

TEST(LineReader, ClearDropsPlaintextAfterStls) {
    line_reader r(64);
    r.append("STLS\r\nUSER injected\r\nPASS");
    auto l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "STLS");
    r.clear();
    EXPECT_EQ(r.unread(), "");
    EXPECT_FALSE(r.next());
    r.append("CAPA\r\n");
    l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "CAPA");
}

TEST(LineReader, ClearEndsSkippingOfAnOverlongLine) {
    line_reader r(4);
    r.append("aaaaaaaa");
    auto l = r.next();
    ASSERT_TRUE(l);
    EXPECT_TRUE(l->overlong);
    r.clear();
    r.append("NOOP\n");  // a new stream: not the tail of the old line
    l = r.next();
    ASSERT_TRUE(l);
    EXPECT_FALSE(l->overlong);
    EXPECT_EQ(l->text, "NOOP");
}

TEST(LineReader, SetMaxLineAppliesToLaterLines) {
    line_reader r(4);
    EXPECT_EQ(r.max_line(), 4u);
    r.append("abcdef\n");
    auto l = r.next();
    ASSERT_TRUE(l);
    EXPECT_TRUE(l->overlong);
    r.set_max_line(10);
    EXPECT_EQ(r.max_line(), 10u);
    r.append("abcdef\n");
    l = r.next();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->text, "abcdef");
}

TEST(LineReader, ManyLinesAcrossCompactions) {
    line_reader r(32);
    std::vector<std::string> lines;
    std::vector<std::string> expected;
    std::string pending;
    for (int i = 0; i < 1000; ++i) {
        const std::string text = "line " + std::to_string(i);
        expected.push_back(text);
        pending += text + (i % 3 == 0 ? "\n" : "\r\n");
        // Hand over odd-sized pieces so lines straddle appends.
        if (pending.size() > 37) {
            r.append(std::string_view(pending).substr(0, 37));
            pending.erase(0, 37);
            drain(r, lines);
        }
    }
    r.append(pending);
    drain(r, lines);
    EXPECT_EQ(lines, expected);
    EXPECT_EQ(r.unread(), "");
}

}  // namespace
}  // namespace izypop3::test

TEST(LineReader, MidLineFromTheFirstOctetToTheLineEnd) {
    izypop3::core::line_reader r(8);
    EXPECT_FALSE(r.mid_line());
    r.append("NO");
    EXPECT_FALSE(r.next().has_value());
    EXPECT_TRUE(r.mid_line());
    r.append("OP\r\n");
    ASSERT_TRUE(r.next().has_value());
    EXPECT_FALSE(r.mid_line());
    // An overlong line is still owed its end while its tail is skipped unbuffered.
    r.append("0123456789abcdef");
    auto over = r.next();
    ASSERT_TRUE(over.has_value());
    EXPECT_TRUE(r.mid_line());
    r.append("xyz\r\n");
    EXPECT_FALSE(r.next().has_value());
    EXPECT_FALSE(r.mid_line());
}
