#pragma once
// What the postgres store's pieces (store, writer, payload reader, maildrop) share.

#include <izypop3/store/postgres_store.hpp>

#include "postgres_pool.hpp"
#include "postgres_schema.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace izypop3::store {

struct postgres_store::state {
    state(postgres_store_options o, detail::pg_table t)
        : opts(std::move(o)),
          table(std::move(t)),
          sql(table),
          pool(detail::pg_connect_options{opts.dataservice, opts.accesstoken}, opts.poolsize) {}

    /// The mailbox a request for `requested` works on: the pinned one, if any.
    std::string mailbox_for(std::string_view requested) const {
        return opts.mailbox.empty() ? std::string(requested) : opts.mailbox;
    }

    const postgres_store_options opts;
    const detail::pg_table table;
    const detail::pg_statements sql;
    detail::pg_pool pool;
    /// mime_store::set_group_commit: adds commit without waiting for the WAL, flush() waits
    /// once for all of them.
    std::atomic<bool> group_commit{false};
};

namespace detail {

/// Payloads are read in pieces of this size: a session's memory stays bounded whatever the
/// message size, and a small message is read in one round trip.
inline constexpr std::size_t pg_read_chunk = 1024 * 1024;

/// Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF), no NUL, at
/// most `max_octets` octets: what a text column of a UTF-8 database accepts.
bool is_storable_text(std::string_view s, std::size_t max_octets) noexcept;

/// Microseconds since 1970 (PostgreSQL keeps timestamps to the microsecond).
std::int64_t to_micros(std::chrono::system_clock::time_point t) noexcept;
std::chrono::system_clock::time_point from_micros(std::int64_t us) noexcept;

}  // namespace detail
}  // namespace izypop3::store
