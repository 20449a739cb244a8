// watchdog: a passed deadline calls back once; a deadline set earlier than the timer moves
// it; one set later or cleared costs nothing and fires nothing; stop() ends the watch. Only
// lower bounds of time are asserted (a timer never fires early; a busy machine may make it
// late), and the runs end seconds after the deadlines.

#include "watchdog.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace izypop3::transport::detail {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock = watchdog::clock;

TEST(Watchdog, CallsBackWhenADeadlinePassesAndNotOtherwise) {
    asio::io_context io(1);
    watchdog w(io.get_executor());
    std::vector<clock::duration> fired;
    const auto start = clock::now();
    w.start([&] { fired.push_back(clock::now() - start); });
    w.arm_until(start + 10s);   // far off
    w.arm_until(start + 40ms);  // earlier: the timer moves
    asio::steady_timer later(io);
    later.expires_at(start + 120ms);
    later.async_wait([&](auto) {
        w.arm_until(clock::now() + 30ms);
        w.disarm();  // the wait ended in time: nothing fires
    });
    asio::steady_timer end(io);
    end.expires_at(start + 2s);
    end.async_wait([&](auto) { w.stop(); });
    io.run();
    ASSERT_EQ(fired.size(), 1u);  // the cleared deadline never fired
    EXPECT_GE(fired[0], 40ms);
}

TEST(Watchdog, ADeadlineLaterThanTheTimerIsKeptAndHonoured) {
    asio::io_context io(1);
    watchdog w(io.get_executor());
    std::vector<clock::duration> fired;
    const auto start = clock::now();
    w.start([&] { fired.push_back(clock::now() - start); });
    w.arm_until(start + 30ms);
    // Before the first deadline passes, the wait moves it on: the timer, set for 30 ms,
    // fires, finds the new deadline and waits again.
    w.arm_until(start + 80ms);
    asio::steady_timer end(io);
    end.expires_at(start + 2s);
    end.async_wait([&](auto) { w.stop(); });
    io.run();
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_GE(fired[0], 80ms);
}

}  // namespace
}  // namespace izypop3::transport::detail
