#include "peer_table.hpp"

#include <algorithm>

namespace izypop3::transport::detail {

bool peer_table::acquire(const std::string& peer, std::size_t limit) {
    std::lock_guard lock(mutex_);
    auto& e = entries_[peer];
    if (e.connections >= limit) return false;
    ++e.connections;
    return true;
}

void peer_table::release(const std::string& peer) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(peer);
    if (it == entries_.end()) return;
    if (it->second.connections > 0) --it->second.connections;
    // Forget an address once it has nothing open and no penalty to remember.
    if (it->second.connections == 0 && it->second.failures == 0) entries_.erase(it);
}

unsigned peer_table::record_failure(const std::string& peer) {
    std::lock_guard lock(mutex_);
    return ++entries_[peer].failures;
}

void peer_table::record_success(const std::string& peer) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(peer);
    if (it != entries_.end()) it->second.failures = 0;
}

unsigned penalty_delay_ms(unsigned base_ms, unsigned failures_in_a_row) {
    if (base_ms == 0) return 0;
    const unsigned shift = std::min(failures_in_a_row > 0 ? failures_in_a_row - 1 : 0u, 3u);
    return std::min(base_ms << shift, 15000u);
}

}  // namespace izypop3::transport::detail
