#pragma once
// A message payload read from the postgres store in pieces of pg_read_chunk octets, so that
// memory stays bounded whatever the message size. Each piece is copied once, from libpq's
// result into the caller's buffer. The pieces after the first are asked for ahead of time
// (a fetcher may pipeline them), so that the next one is usually there when it is needed.

#include "postgres_connection.hpp"

#include <izypop3/core/maildrop.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace izypop3::store::detail {

/// Where the pieces of one payload come from. Requests are answered in the order made.
class pg_piece_fetcher {
  public:
    /// Destroying a fetcher with pieces asked for and not received drops them.
    virtual ~pg_piece_fetcher() = default;
    /// Asks for `length` octets of row `id`'s payload from `offset` (1-based), as a
    /// one-column binary result (no row when the item is gone).
    virtual boost::system::error_code request(std::int64_t id, std::uint64_t offset,
                                              std::uint64_t length) = 0;
    /// The answer to the oldest request not yet received.
    virtual boost::system::result<pg_result> receive() = 0;
};

class pg_payload_source final : public core::message_source {
  public:
    /// Pieces asked for and not yet received, the one awaited included: the next ones are
    /// on their way while the caller sends one, and a source abandoned early has at most
    /// this many to drop.
    static constexpr std::size_t read_ahead = 3;

    /// `first` holds the payload's first min(size, pg_read_chunk) octets in column
    /// `first_col` of row 0 (the caller has checked the length).
    pg_payload_source(std::int64_t id, std::uint64_t size, pg_result first, int first_col,
                      std::unique_ptr<pg_piece_fetcher> fetch);

    /// Errors: not_found (the item was removed while being read), corrupt (the stored
    /// payload is shorter than its recorded size), io_error.
    boost::system::result<std::size_t> read(std::span<char> buf) override;
    /// The rest of the piece fetched last: read() hands it over without a round trip.
    std::size_t buffered() const noexcept override { return unread_.size(); }
    bool reads_at_once() const noexcept override {
        return !unread_.empty() || delivered_ >= size_;
    }

  private:
    boost::system::error_code request_ahead();

    std::int64_t id_;
    std::uint64_t size_;
    std::uint64_t delivered_ = 0;  // octets handed to the caller so far
    std::uint64_t requested_ = 0;  // octets asked for so far (the first piece included)
    pg_result chunk_;
    std::string_view unread_;  // the part of chunk_ not yet handed over
    std::unique_ptr<pg_piece_fetcher> fetch_;
};

}  // namespace izypop3::store::detail
