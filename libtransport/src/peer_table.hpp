#pragma once
// Per-address bookkeeping shared by all I/O threads: open connections (for the per-IP cap)
// and recent failed logins (for the growing delay, as Dovecot's auth penalty).

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace izypop3::transport::detail {

class peer_table {
public:
    /// Counts a new connection from `peer`; false (and nothing counted) when it already
    /// has `limit` open.
    bool acquire(const std::string& peer, std::size_t limit);
    void release(const std::string& peer);
    /// Records a failed login and returns how many this address has had in a row.
    unsigned record_failure(const std::string& peer);
    void record_success(const std::string& peer);

private:
    struct entry {
        std::size_t connections = 0;
        unsigned failures = 0;
    };
    std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
};

/// Dovecot's penalty curve: the session's base delay doubled per earlier failure from the
/// same address, capped at 15 s.
unsigned penalty_delay_ms(unsigned base_ms, unsigned failures_in_a_row);

}  // namespace izypop3::transport::detail
