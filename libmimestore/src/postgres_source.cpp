#include "postgres_source.hpp"

#include "postgres_state.hpp"

#include <algorithm>
#include <cstring>

namespace izypop3::store::detail {

pg_payload_source::pg_payload_source(std::int64_t id, std::uint64_t size, pg_result first,
                                     int first_col, std::unique_ptr<pg_piece_fetcher> fetch)
    : id_(id),
      size_(size),
      requested_(std::min<std::uint64_t>(size, pg_read_chunk)),
      chunk_(std::move(first)),
      fetch_(std::move(fetch)) {
    unread_ = field(chunk_.get(), 0, first_col);
}

boost::system::error_code pg_payload_source::request_ahead() {
    // Octets asked for and not yet handed over, beyond the piece in hand.
    while (requested_ < size_ &&
           requested_ - delivered_ - unread_.size() < read_ahead * pg_read_chunk) {
        const std::uint64_t length = std::min<std::uint64_t>(pg_read_chunk, size_ - requested_);
        if (auto ec = fetch_->request(id_, requested_ + 1, length)) return ec;
        requested_ += length;
    }
    return {};
}

boost::system::result<std::size_t> pg_payload_source::read(std::span<char> buf) {
    if (unread_.empty()) {
        if (delivered_ >= size_) return std::size_t{0};
        // Only here, where read() waits anyway: a read of octets in hand (buffered()) must
        // not touch the network, since it may run on a server's I/O thread. The pieces
        // after the one received now are on their way while the caller sends it.
        if (auto ec = request_ahead()) return ec;
        auto r = fetch_->receive();
        if (!r) return r.error();
        if (PQntuples(r->get()) == 0) return errc::not_found;
        auto piece = field(r->get(), 0, 0);
        const std::uint64_t expected = std::min<std::uint64_t>(pg_read_chunk, size_ - delivered_);
        if (piece.size() != expected) return errc::corrupt;
        chunk_ = std::move(*r);
        unread_ = piece;
    }
    const std::size_t n = std::min(buf.size(), unread_.size());
    if (n > 0) std::memcpy(buf.data(), unread_.data(), n);
    unread_.remove_prefix(n);
    delivered_ += n;
    return n;
}

}  // namespace izypop3::store::detail
