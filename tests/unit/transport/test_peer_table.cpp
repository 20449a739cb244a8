// The per-address penalty table (issue 12 item 8; SECURITY S12): the delay doubles per
// failed login from an address up to 15 s, forgets by halving every minute without a
// failure, groups IPv6 addresses by /64, stays at a fixed size however many addresses
// fail, and never touches other addresses. The clock is injected, so nothing here waits.

#include "peer_table.hpp"

#include <gtest/gtest.h>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace izypop3::transport::detail {
namespace {

using namespace std::chrono_literals;

struct fake_clock {
    std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
    peer_table::clock_function function() {
        return [this] { return now; };
    }
};

std::string group(const char* text) {
    return address_group(boost::asio::ip::make_address(text));
}

TEST(PenaltyDelay, DoublesFromTheBaseUpTo15Seconds) {
    EXPECT_EQ(penalty_delay_ms(2000, 1), 2000u);
    EXPECT_EQ(penalty_delay_ms(2000, 2), 4000u);
    EXPECT_EQ(penalty_delay_ms(2000, 3), 8000u);
    EXPECT_EQ(penalty_delay_ms(2000, 4), 15000u);
    EXPECT_EQ(penalty_delay_ms(2000, 5), 15000u);
    EXPECT_EQ(penalty_delay_ms(2000, 1000000), 15000u);
    EXPECT_EQ(penalty_delay_ms(10, 4), 80u);
    EXPECT_EQ(penalty_delay_ms(10, 40), 15000u);
    EXPECT_EQ(penalty_delay_ms(60000, 1), 15000u);
    EXPECT_EQ(penalty_delay_ms(0, 9), 0u);
    EXPECT_EQ(penalty_delay_ms(2000, 0), 2000u);
}

TEST(PeerTable, SerialFailuresGrowToTheCapAndStayThere) {
    fake_clock c;
    peer_table t({}, c.function());
    std::vector<unsigned> delays;
    for (int i = 0; i < 6; ++i) {
        delays.push_back(penalty_delay_ms(2000, t.record_failure("192.0.2.1")));
        c.now += 1s;
    }
    EXPECT_EQ(delays, (std::vector<unsigned>{2000, 4000, 8000, 15000, 15000, 15000}));
}

TEST(PeerTable, OtherAddressesAreNotAffected) {
    fake_clock c;
    peer_table t({}, c.function());
    for (int i = 0; i < 10; ++i) t.record_failure("192.0.2.1");
    EXPECT_EQ(t.failures("192.0.2.2"), 0u);
    EXPECT_EQ(penalty_delay_ms(2000, t.record_failure("192.0.2.2")), 2000u);
    EXPECT_EQ(penalty_delay_ms(2000, t.record_failure(group("2001:db8::1"))), 2000u);
    EXPECT_EQ(t.failures("192.0.2.1"), 10u);
}

TEST(PeerTable, HalvesEveryMinuteWithoutFailuresThenForgets) {
    fake_clock c;
    peer_table t({}, c.function());
    for (int i = 0; i < 8; ++i) t.record_failure("192.0.2.1");
    c.now += 59s;
    EXPECT_EQ(t.failures("192.0.2.1"), 8u);
    c.now += 1s;
    EXPECT_EQ(t.failures("192.0.2.1"), 4u);
    c.now += 60s;
    EXPECT_EQ(t.failures("192.0.2.1"), 2u);
    c.now += 120s;
    EXPECT_EQ(t.failures("192.0.2.1"), 0u);
    EXPECT_EQ(t.remembered(), 0u);  // a forgotten address takes no room
    // A failure after a quiet spell starts from what is left, not from the old count.
    for (int i = 0; i < 8; ++i) t.record_failure("192.0.2.1");
    c.now += 2min;
    EXPECT_EQ(t.record_failure("192.0.2.1"), 3u);  // 8 halved twice, plus this one
    EXPECT_EQ(penalty_delay_ms(2000, 3), 8000u);
}

TEST(PeerTable, FailuresKeepTheCountFromDecaying) {
    fake_clock c;
    peer_table t({}, c.function());
    // One failure every 50 s never lets a minute pass without one.
    unsigned last = 0;
    for (int i = 0; i < 10; ++i) {
        last = t.record_failure("192.0.2.1");
        c.now += 50s;
    }
    EXPECT_EQ(last, 10u);
}

TEST(PeerTable, Ipv6IsGroupedBySlash64) {
    EXPECT_EQ(group("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    EXPECT_EQ(group("2001:db8:1:2::"), "2001:db8:1:2::/64");
    EXPECT_EQ(group("2001:db8:1:3::1"), "2001:db8:1:3::/64");
    EXPECT_EQ(group("::1"), "::/64");
    EXPECT_EQ(group("192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(group("::ffff:192.0.2.7"), "192.0.2.7");  // a v4-mapped peer is its IPv4 address

    fake_clock c;
    peer_table t({}, c.function());
    // Rotating through one /64 does not escape the penalty...
    for (int i = 1; i <= 4; ++i)
        t.record_failure(group(("2001:db8:1:2::" + std::to_string(i)).c_str()));
    EXPECT_EQ(t.failures(group("2001:db8:1:2:ffff:ffff:ffff:ffff")), 4u);
    // ...and the neighbouring /64 is someone else.
    EXPECT_EQ(t.failures(group("2001:db8:1:3::1")), 0u);
}

TEST(PeerTable, FixedSizeEvictsTheLongestQuiet) {
    fake_clock c;
    peer_table t({3, 60s}, c.function());
    t.record_failure("10.0.0.1");
    c.now += 1s;
    t.record_failure("10.0.0.2");
    c.now += 1s;
    t.record_failure("10.0.0.3");
    c.now += 1s;
    t.record_failure("10.0.0.1");  // 10.0.0.1 failed most recently now
    c.now += 1s;
    t.record_failure("10.0.0.4");  // full: 10.0.0.2, quiet the longest, goes
    EXPECT_EQ(t.remembered(), 3u);
    EXPECT_EQ(t.failures("10.0.0.2"), 0u);
    EXPECT_EQ(t.failures("10.0.0.1"), 2u);
    EXPECT_EQ(t.failures("10.0.0.3"), 1u);
    EXPECT_EQ(t.failures("10.0.0.4"), 1u);
    // A spray of new addresses never grows the table.
    for (int i = 0; i < 1000; ++i)
        t.record_failure("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256));
    EXPECT_EQ(t.remembered(), 3u);
}

TEST(PeerTable, ConnectionCountsPerGroup) {
    peer_table t;
    EXPECT_TRUE(t.acquire("192.0.2.1", 2));
    EXPECT_TRUE(t.acquire("192.0.2.1", 2));
    EXPECT_FALSE(t.acquire("192.0.2.1", 2));
    EXPECT_TRUE(t.acquire("192.0.2.2", 2));
    t.release("192.0.2.1");
    EXPECT_TRUE(t.acquire("192.0.2.1", 2));
    // The /64 shares one count.
    EXPECT_TRUE(t.acquire(group("2001:db8::1"), 1));
    EXPECT_FALSE(t.acquire(group("2001:db8::2"), 1));
}

TEST(PeerTable, ConcurrentFailuresAreAllCounted) {
    // Parallel attempts from one address add up (S12), whichever threads they run on.
    peer_table t;
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&] {
            for (int j = 0; j < 100; ++j) t.record_failure("192.0.2.1");
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(t.failures("192.0.2.1"), 400u);
}

}  // namespace
}  // namespace izypop3::transport::detail
