#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/errc.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include "maildrop_uids.hpp"
#include "wire_size.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <utility>

namespace izypop3::store {
namespace {

// Counts what the server will actually send (core::wire_size_counter) for a store that did
// not record it, so LIST matches RETR octet for octet (RFC 1939 section 11 asks for the
// exact size).
boost::system::result<std::uint64_t> count_wire_size(mime_store& store, const item& it) {
    auto src = store.open_item(it);
    if (!src) return src.error();
    return detail::count_wire_size(**src);
}

}  // namespace

bool is_valid_uid(std::string_view uid) noexcept {
    if (uid.empty() || uid.size() > 70) return false;
    return std::all_of(uid.begin(), uid.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x21 && u <= 0x7e;
    });
}

std::string make_uid(const item& it) {
    if (is_valid_uid(it.guid)) return it.guid;
    return detail::derived_uid(it.guid);
}

core::maildrop_failure to_maildrop_failure(const boost::system::error_code& ec) noexcept {
    if (ec == errc::in_use) return core::maildrop_failure::in_use;
    if (ec == errc::no_such_mailbox || ec == errc::bad_config || ec == errc::corrupt ||
        ec == errc::unsupported)
        return core::maildrop_failure::permanent;
    return core::maildrop_failure::temporary;
}

store_maildrop::store_maildrop(mime_store& store, commit_mode mode, std::function<void()> release)
    : store_(store), mode_(mode), release_(std::move(release)) {}

store_maildrop::~store_maildrop() {
    if (release_) release_();
}

boost::system::result<std::unique_ptr<store_maildrop>> store_maildrop::open(
    mime_store& store, std::string mailbox, commit_mode mode, std::function<void()> release) {
    // Constructed first so that every failure below releases the lock via the destructor.
    std::unique_ptr<store_maildrop> md(new store_maildrop(store, mode, std::move(release)));

    query_options q;
    q.exclude_tags = {std::string(tag::archive), std::string(tag::dup),
                      std::string(tag::pop3failed)};
    q.limit = query_options::unlimited;
    q.mailbox = std::move(mailbox);
    auto res = store.query(q);
    if (!res) return res.error();
    md->items_ = std::move(res->items);

    // A snapshot over several mailboxes can repeat a guid: maildrop_uids keeps the UIDs
    // unique (RFC 1939 section 7).
    detail::maildrop_uids uids;
    md->infos_.reserve(md->items_.size());
    for (std::size_t i = 0; i < md->items_.size(); ++i) {
        const item& it = md->items_[i];
        std::string uid = uids.next(it.mailbox, it.guid);
        std::uint64_t size = 0;
        if (it.wire_size) {
            size = *it.wire_size;
        } else {
            auto counted = count_wire_size(store, it);
            if (!counted) return counted.error();
            size = *counted;
        }
        md->infos_.push_back(core::message_info{size, std::move(uid)});
    }
    return md;
}

bool store_maildrop::served_locally() const noexcept {
    return store_.reads_locally();
}

const std::vector<core::message_info>& store_maildrop::messages() const noexcept {
    return infos_;
}

boost::system::result<std::unique_ptr<core::message_source>> store_maildrop::open(
    std::size_t index) {
    assert(index < items_.size());
    if (index >= items_.size()) return errc::not_found;
    return store_.open_item(items_[index]);
}

boost::system::error_code store_maildrop::commit_deletions(std::span<const std::size_t> indices) {
    std::vector<std::size_t> todo(indices.begin(), indices.end());
    std::sort(todo.begin(), todo.end());
    todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
    if (!todo.empty() && todo.back() >= items_.size()) {
        assert(false && "commit_deletions: index out of range");
        return errc::not_found;
    }
    for (std::size_t i : todo) {
        auto ec = mode_ == commit_mode::remove ? store_.remove(items_[i])
                                               : store_.mark(items_[i], tag::archive);
        // Gone already (another process expunged it) is what the user asked for.
        if (ec && ec != errc::not_found) return ec;
    }
    return {};
}

}  // namespace izypop3::store
