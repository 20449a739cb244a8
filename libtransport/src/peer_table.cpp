#include "peer_table.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace izypop3::transport::detail {

namespace ip = boost::asio::ip;

namespace {
constexpr unsigned max_penalty_ms = 15000;
constexpr unsigned max_remembered_failures = 1u << 20;  // far past the cap; no overflow
}  // namespace

std::string address_group(const ip::address& a) {
    if (a.is_v4()) return a.to_string();
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, v6).to_string();
    auto bytes = v6.to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return ip::address_v6(bytes).to_string() + "/64";
}

peer_table::peer_table(penalty_settings settings, clock_function now)
    : settings_(settings), now_(std::move(now)) {
    settings_.max_entries = std::max<std::size_t>(settings_.max_entries, 1);
}

bool peer_table::acquire(const std::string& group, std::size_t limit) {
    std::lock_guard lock(mutex_);
    auto& open = connections_[group];
    if (open >= limit) {
        if (open == 0) connections_.erase(group);
        return false;
    }
    ++open;
    return true;
}

void peer_table::release(const std::string& group) {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(group);
    if (it == connections_.end()) return;
    if (--it->second == 0) connections_.erase(it);
}

unsigned peer_table::decayed(const penalty& p, clock::time_point now) const noexcept {
    const auto period = std::max(settings_.halving_period, std::chrono::seconds(1));
    const auto halvings = now > p.last ? (now - p.last) / period : 0;
    return halvings >= 32 ? 0u : p.failures >> halvings;
}

void peer_table::forget(std::unordered_map<std::string, penalty>::iterator it) {
    by_age_.erase(it->second.age);
    penalties_.erase(it);
}

unsigned peer_table::record_failure(const std::string& group) {
    const auto now = now_();
    std::lock_guard lock(mutex_);
    auto it = penalties_.find(group);
    if (it == penalties_.end()) {
        if (penalties_.size() >= settings_.max_entries) forget(penalties_.find(by_age_.front()));
        it = penalties_.emplace(group, penalty{}).first;
        it->second.last = now;
        it->second.age = by_age_.insert(by_age_.end(), group);
    }
    auto& p = it->second;
    p.failures = std::min(decayed(p, now) + 1, max_remembered_failures);
    p.last = now;
    by_age_.splice(by_age_.end(), by_age_, p.age);
    return p.failures;
}

unsigned peer_table::failures(const std::string& group) {
    const auto now = now_();
    std::lock_guard lock(mutex_);
    auto it = penalties_.find(group);
    if (it == penalties_.end()) return 0;
    const unsigned n = decayed(it->second, now);
    if (n == 0) forget(it);
    return n;
}

std::size_t peer_table::remembered() {
    std::lock_guard lock(mutex_);
    return penalties_.size();
}

unsigned penalty_delay_ms(unsigned base_ms, unsigned failures) {
    if (base_ms == 0) return 0;
    const unsigned shift = std::min(failures > 0 ? failures - 1 : 0u, 16u);
    const unsigned long long delay = static_cast<unsigned long long>(base_ms) << shift;
    return static_cast<unsigned>(std::min<unsigned long long>(delay, max_penalty_ms));
}

}  // namespace izypop3::transport::detail
