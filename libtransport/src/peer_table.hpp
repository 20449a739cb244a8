#pragma once
// Per-address bookkeeping shared by all I/O threads: open connections (for the per-address
// cap) and recent failed logins (for the growing failure delay, as Dovecot's auth penalty).
//
// Addresses are counted in groups: an IPv4 address alone, an IPv6 address by its /64 (what
// one subscriber usually gets, so walking through it does not escape a limit). Failures
// decay, halving every `halving_period` without a new one, so the table forgets a typo
// without anyone resetting it; a successful login does not reset it either, or one valid
// account would let an attacker wipe the penalty between guesses. The table of failures
// has a fixed size: when it is full, the group quiet for the longest is dropped first.

#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

namespace izypop3::transport::detail {

/// The key of `a` in per-address limits: "192.0.2.1", or "2001:db8:1:2::/64" for any IPv6
/// address of that /64. An IPv4-mapped IPv6 address counts as its IPv4 address.
std::string address_group(const boost::asio::ip::address& a);

struct penalty_settings {
    std::size_t max_entries = 65536;          ///< groups with failures remembered at once
    std::chrono::seconds halving_period{60};  ///< failures halve after this long without one
};

class peer_table {
  public:
    using clock = std::chrono::steady_clock;
    using clock_function = std::function<clock::time_point()>;

    explicit peer_table(penalty_settings settings = {}, clock_function now = &clock::now);

    /// Counts a new connection from `group`; false (and nothing counted) when it already
    /// has `limit` open.
    bool acquire(const std::string& group, std::size_t limit);
    void release(const std::string& group);

    /// Records a failed login and returns how many the group has to its name now (after
    /// decay, this one included): the input of penalty_delay_ms().
    unsigned record_failure(const std::string& group);
    /// Failures remembered for `group` now, after decay.
    unsigned failures(const std::string& group);
    /// Groups with failures remembered (at most settings.max_entries).
    std::size_t remembered();

  private:
    struct penalty {
        unsigned failures = 0;
        clock::time_point last;
        std::list<std::string>::iterator age;  // place in by_age_
    };
    unsigned decayed(const penalty& p, clock::time_point now) const noexcept;
    void forget(std::unordered_map<std::string, penalty>::iterator it);

    penalty_settings settings_;
    clock_function now_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> connections_;
    std::unordered_map<std::string, penalty> penalties_;
    std::list<std::string> by_age_;  // groups by last failure, oldest first
};

/// Dovecot's penalty curve: the session's base delay doubled per earlier failure from the
/// same group, capped at 15 s.
unsigned penalty_delay_ms(unsigned base_ms, unsigned failures);

}  // namespace izypop3::transport::detail
