// progress_meter with a clock the test moves: what a terminal and a log file each see.

#include "clientpop3/progress_meter.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace izypop3::app {
namespace {

using namespace std::chrono_literals;

struct fake_clock {
    progress_meter::clock::time_point t{};
    auto source() {
        return [this] { return t; };
    }
};

TEST(ProgressMeter, LineShowsCountsRateAndEta) {
    fake_clock c;
    std::ostringstream out;
    progress_meter m(out, false, 4, 8'000'000, c.source());
    EXPECT_EQ(m.line(), "0/4 messages, 0.0 of 8.0 MB");
    c.t += 2s;
    m.add_octets(4'000'000);
    m.message_done();
    m.message_done();
    EXPECT_EQ(m.line(), "2/4 messages, 4.0 of 8.0 MB, 2.0 MB/s, ETA 2 s");
    c.t += 2s;
    m.add_octets(4'000'000);
    EXPECT_EQ(m.line(), "2/4 messages, 8.0 of 8.0 MB, 2.0 MB/s");
}

TEST(ProgressMeter, LogGetsALineEveryFiveSecondsNotEveryMessage) {
    fake_clock c;
    std::ostringstream out;
    progress_meter m(out, false, 1000, 1'000'000, c.source());
    for (int i = 0; i < 999; ++i) {
        c.t += 10ms;  // 9.99 s in all
        m.add_octets(1000);
        m.message_done();
    }
    m.finish();
    EXPECT_EQ(out.str(),
              "izypop3: 499/1000 messages, 0.5 of 1.0 MB, 0.1 MB/s, ETA 5 s\n");
}

TEST(ProgressMeter, TerminalRedrawsOneLineAndNotesBreakIt) {
    fake_clock c;
    std::ostringstream out;
    progress_meter m(out, true, 2, 2000, c.source());
    c.t += 1s;
    m.add_octets(1000);
    m.message_done();  // within 100 ms of the last draw: not drawn again
    m.note("izypop3: RETR 2 refused");
    c.t += 1s;
    m.add_octets(1000);
    m.message_done();
    m.finish();
    EXPECT_EQ(out.str(),
              "\rizypop3: 0/2 messages, 0.0 of 0.0 MB, 0.0 MB/s, ETA 1 s\x1b[K\n"
              "izypop3: RETR 2 refused\n"
              "\rizypop3: 1/2 messages, 0.0 of 0.0 MB, 0.0 MB/s\x1b[K"
              "\rizypop3: 2/2 messages, 0.0 of 0.0 MB, 0.0 MB/s\x1b[K\n");
}

}  // namespace
}  // namespace izypop3::app
