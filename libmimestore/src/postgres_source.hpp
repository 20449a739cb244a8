#pragma once
// A message payload read from the postgres store in pieces of pg_read_chunk octets, so that
// memory stays bounded whatever the message size. Each piece is copied once, from libpq's
// result into the caller's buffer.

#include "postgres_connection.hpp"

#include <izypop3/core/maildrop.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace izypop3::store::detail {

class pg_payload_source final : public core::message_source {
  public:
    /// Fetches `length` octets of row `id`'s payload from `offset` (1-based), as a
    /// one-column binary result; no row when the item is gone.
    using fetch_fn = std::function<boost::system::result<pg_result>(
        std::int64_t id, std::uint64_t offset, std::uint64_t length)>;

    /// `first` holds the payload's first min(size, pg_read_chunk) octets in column
    /// `first_col` of row 0 (the caller has checked the length).
    pg_payload_source(std::int64_t id, std::uint64_t size, pg_result first, int first_col,
                      fetch_fn fetch);

    /// Errors: not_found (the item was removed while being read), corrupt (the stored
    /// payload is shorter than its recorded size), io_error.
    boost::system::result<std::size_t> read(std::span<char> buf) override;
    /// The rest of the piece fetched last: read() hands it over without a round trip.
    std::size_t buffered() const noexcept override { return unread_.size(); }

  private:
    std::int64_t id_;
    std::uint64_t size_;
    std::uint64_t delivered_ = 0;  // octets handed to the caller so far
    pg_result chunk_;
    std::string_view unread_;  // the part of chunk_ not yet handed over
    fetch_fn fetch_;
};

}  // namespace izypop3::store::detail
