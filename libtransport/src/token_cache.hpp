#pragma once
// Verdicts on active bearer tokens, kept until the token's "exp" so that a client logging in
// every few minutes does not cost an introspection request each time. Keyed by the token's
// SHA-256, so the tokens themselves are not kept. Bounded: when full, expired entries go
// first, then the one that would expire soonest. Thread-safe.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace izypop3::transport::detail {

class token_cache {
  public:
    explicit token_cache(std::size_t max_entries) : max_(max_entries) {}

    /// The user of a remembered active token, if it has not expired at `now` (seconds since
    /// the epoch).
    std::optional<std::string> find(std::string_view token, std::int64_t now);
    /// Remembers an active token of `user` until `exp`.
    void remember(std::string_view token, std::string user, std::int64_t exp, std::int64_t now);
    std::size_t size() const;

  private:
    struct entry {
        std::string user;
        std::int64_t exp = 0;
    };
    void make_room(std::int64_t now);

    std::size_t max_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, entry> entries_;
};

}  // namespace izypop3::transport::detail
