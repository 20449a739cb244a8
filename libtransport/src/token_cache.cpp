#include "token_cache.hpp"

#include <izypop3/core/crypto.hpp>

#include <algorithm>

namespace izypop3::transport::detail {
namespace {

std::string key_of(std::string_view token) {
    return core::digest(core::hash_algorithm::sha256, token);
}

}  // namespace

std::optional<std::string> token_cache::find(std::string_view token, std::int64_t now) {
    const std::string key = key_of(token);
    std::lock_guard lock(mutex_);
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.exp <= now) {
        entries_.erase(it);
        return std::nullopt;
    }
    return it->second.user;
}

void token_cache::remember(std::string_view token, std::string user, std::int64_t exp,
                           std::int64_t now) {
    if (max_ == 0 || exp <= now) return;
    std::string key = key_of(token);
    std::lock_guard lock(mutex_);
    if (!entries_.contains(key)) make_room(now);
    entries_[std::move(key)] = entry{std::move(user), exp};
}

std::size_t token_cache::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void token_cache::make_room(std::int64_t now) {
    if (entries_.size() < max_) return;
    std::erase_if(entries_, [now](const auto& e) { return e.second.exp <= now; });
    if (entries_.size() < max_) return;
    const auto soonest =
        std::min_element(entries_.begin(), entries_.end(),
                         [](const auto& a, const auto& b) { return a.second.exp < b.second.exp; });
    entries_.erase(soonest);
}

}  // namespace izypop3::transport::detail
