#include "postgres_source.hpp"

#include "postgres_state.hpp"

#include <algorithm>
#include <cstring>

namespace izypop3::store::detail {

pg_payload_source::pg_payload_source(std::int64_t id, std::uint64_t size, pg_result first,
                                     int first_col, fetch_fn fetch)
    : id_(id), size_(size), chunk_(std::move(first)), fetch_(std::move(fetch)) {
    unread_ = field(chunk_.get(), 0, first_col);
}

boost::system::result<std::size_t> pg_payload_source::read(std::span<char> buf) {
    if (unread_.empty()) {
        if (delivered_ >= size_) return std::size_t{0};
        const std::uint64_t length = std::min<std::uint64_t>(pg_read_chunk, size_ - delivered_);
        auto r = fetch_(id_, delivered_ + 1, length);
        if (!r) return r.error();
        if (PQntuples(r->get()) == 0) return errc::not_found;
        auto piece = field(r->get(), 0, 0);
        if (piece.size() != length) return errc::corrupt;
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
