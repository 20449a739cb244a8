#include <izypop3/transport/logger.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using izypop3::transport::log_level;
using izypop3::transport::logger;
using izypop3::transport::sanitize_for_log;

struct capture {
    std::vector<std::pair<log_level, std::string>> lines;
    izypop3::transport::log_sink sink() {
        return [this](log_level level, std::string_view line) {
            lines.emplace_back(level, std::string(line));
        };
    }
};

TEST(logger, passes_levels_up_to_its_own) {
    capture c;
    logger log(log_level::warn, c.sink());
    log.error("e{}", 1);
    log.warn("w{}", 2);
    log.info("i{}", 3);
    log.debug("d{}", 4);
    log.trace("t{}", 5);
    ASSERT_EQ(c.lines.size(), 2u);
    EXPECT_EQ(c.lines[0], std::make_pair(log_level::error, std::string("e1")));
    EXPECT_EQ(c.lines[1], std::make_pair(log_level::warn, std::string("w2")));
    EXPECT_TRUE(log.enabled(log_level::warn));
    EXPECT_FALSE(log.enabled(log_level::info));
    log.set_level(log_level::trace);
    log.trace("t{}", 5);
    ASSERT_EQ(c.lines.size(), 3u);
    EXPECT_EQ(c.lines[2], std::make_pair(log_level::trace, std::string("t5")));
}

struct counted {
    int* formatted;
};

}  // namespace

template <>
struct fmt::formatter<counted> : fmt::formatter<std::string_view> {
    auto format(const counted& c, fmt::format_context& ctx) const {
        ++*c.formatted;
        return fmt::formatter<std::string_view>::format("counted", ctx);
    }
};

namespace {

TEST(logger, does_not_format_disabled_messages) {
    capture c;
    int formatted = 0;
    logger log(log_level::info, c.sink());
    log.debug("{}", counted{&formatted});
    EXPECT_EQ(formatted, 0);
    log.info("{} {}", counted{&formatted}, "x");
    EXPECT_EQ(formatted, 1);
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0].second, "counted x");
}

TEST(logger, child_prefixes_stack_and_leave_the_parent_alone) {
    capture c;
    logger log(log_level::info, c.sink());
    const logger session = log.with_prefix("[S12 1.2.3.4:5678]");
    const logger tls = session.with_prefix("tls:");
    session.info("USER accepted for {}", "bob");
    tls.warn("handshake failed");
    log.info("plain");
    ASSERT_EQ(c.lines.size(), 3u);
    EXPECT_EQ(c.lines[0].second, "[S12 1.2.3.4:5678] USER accepted for bob");
    EXPECT_EQ(c.lines[1].second, "[S12 1.2.3.4:5678] tls: handshake failed");
    EXPECT_EQ(c.lines[2].second, "plain");
    EXPECT_EQ(session.prefix(), "[S12 1.2.3.4:5678]");
    EXPECT_EQ(log.prefix(), "");
}

TEST(logger, transcripts_are_off_by_default_and_separate_per_side) {
    capture c;
    logger log(log_level::info, c.sink());
    log.server_transcript('<', "USER bob\r\n");
    log.client_transcript('>', "USER bob\r\n");
    EXPECT_TRUE(c.lines.empty());

    log.set_transcript_server(true);
    const logger session = log.with_prefix("[S1]");
    session.server_transcript('<', "USER bob\r\n");
    session.server_transcript('>', "+OK User accepted\r\n");
    session.client_transcript('>', "PASS x\r\n");  // client side still off
    log.set_transcript_client(true);
    log.client_transcript('>', "RETR 1\n");
    log.client_transcript('<', "+OK 412 octets");
    log.client_transcript('x', "odd");
    ASSERT_EQ(c.lines.size(), 5u);
    EXPECT_EQ(c.lines[0], std::make_pair(log_level::info, std::string("[S1] [SERVER] < USER bob")));
    EXPECT_EQ(c.lines[1].second, "[S1] [SERVER] > +OK User accepted");
    EXPECT_EQ(c.lines[2].second, "[CLIENT] > RETR 1");
    EXPECT_EQ(c.lines[3].second, "[CLIENT] < +OK 412 octets");
    EXPECT_EQ(c.lines[4].second, "[CLIENT] ? odd");
}

TEST(logger, transcripts_escape_peer_text_and_respect_the_level) {
    capture c;
    logger log(log_level::info, c.sink());
    log.set_transcript_client(true);
    log.client_transcript('<', "-ERR \x1b[2Jgone\rFAKE LINE\r\n");
    ASSERT_EQ(c.lines.size(), 1u);
    EXPECT_EQ(c.lines[0].second, "[CLIENT] < -ERR \\x1B[2Jgone\\rFAKE LINE");
    log.set_level(log_level::warn);
    log.client_transcript('<', "+OK");
    EXPECT_EQ(c.lines.size(), 1u);
}

TEST(sanitize_for_log, escapes_everything_outside_printable_ascii) {
    EXPECT_EQ(sanitize_for_log("plain text ~!"), "plain text ~!");
    EXPECT_EQ(sanitize_for_log("a\r\nb\tc"), "a\\r\\nb\\tc");
    EXPECT_EQ(sanitize_for_log(std::string_view("\0\x1b\x7f", 3)), "\\x00\\x1B\\x7F");
    EXPECT_EQ(sanitize_for_log("back\\slash"), "back\\\\slash");
    EXPECT_EQ(sanitize_for_log("caf\xc3\xa9"), "caf\\xC3\\xA9");
    EXPECT_EQ(sanitize_for_log(""), "");
}

TEST(sanitize_for_log, caps_at_1000_octets_and_says_how_many_were_dropped) {
    const std::string exact(1000, 'A');
    EXPECT_EQ(sanitize_for_log(exact), exact);

    const std::string big(100 * 1000, 'B');
    EXPECT_EQ(sanitize_for_log(big), std::string(1000, 'B') + " [... 99000 more octets dropped]");

    // An escape that does not fit whole is dropped whole, never cut.
    const std::string edge = std::string(998, 'C') + "\x01" + "DD";
    EXPECT_EQ(sanitize_for_log(edge), std::string(998, 'C') + " [... 3 more octets dropped]");

    EXPECT_EQ(sanitize_for_log("abcdef", 4), "abcd [... 2 more octets dropped]");
}

TEST(log_level, names_round_trip) {
    for (auto level : {log_level::error, log_level::warn, log_level::info, log_level::debug,
                       log_level::trace}) {
        EXPECT_EQ(izypop3::transport::parse_log_level(izypop3::transport::to_string(level)),
                  level);
    }
    EXPECT_EQ(izypop3::transport::to_string(log_level::warn), "warn");
    EXPECT_FALSE(izypop3::transport::parse_log_level("INFO").has_value());
    EXPECT_FALSE(izypop3::transport::parse_log_level("").has_value());
}

/// Runs `body` with stderr redirected to a temporary file and returns what was written.
template <class Body>
std::string capture_stderr(Body body) {
    std::fflush(stderr);
    std::FILE* tmp = std::tmpfile();
    const int saved = dup(fileno(stderr));
    dup2(fileno(tmp), fileno(stderr));
    body();
    std::fflush(stderr);
    dup2(saved, fileno(stderr));
    close(saved);
    std::rewind(tmp);
    std::string text;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, tmp)) > 0;) text.append(buf, n);
    std::fclose(tmp);
    return text;
}

TEST(stderr_sink, writes_a_utc_timestamp_and_the_level) {
    const std::string text = capture_stderr([] {
        logger log;  // the default: info, stderr
        log.with_prefix("[S1]").info("hello {}", 7);
        log.debug("hidden");
        log.error("bad");
    });
    const std::regex expected(
        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z info  \\[S1\\] hello 7\n"
        "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z error bad\n");
    EXPECT_TRUE(std::regex_match(text, expected)) << text;
}

TEST(stderr_sink, lines_from_threads_never_interleave) {
    constexpr int threads = 8;
    constexpr int lines_each = 200;
    const std::string text = capture_stderr([] {
        const logger log;
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t) {
            workers.emplace_back([&log, t] {
                const std::string payload(200, static_cast<char>('a' + t));
                for (int i = 0; i < lines_each; ++i) log.warn("{} {}", t, payload);
            });
        }
        for (auto& w : workers) w.join();
    });
    const std::regex line("\\S+Z warn  ([0-7]) ([a-h]{200})");
    std::size_t count = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        ASSERT_NE(end, std::string::npos);
        const std::string one = text.substr(start, end - start);
        std::smatch m;
        ASSERT_TRUE(std::regex_match(one, m, line)) << one;
        const char letter = static_cast<char>('a' + (m[1].str()[0] - '0'));
        EXPECT_EQ(m[2].str(), std::string(200, letter));
        ++count;
        start = end + 1;
    }
    EXPECT_EQ(count, static_cast<std::size_t>(threads * lines_each));
}

}  // namespace
