#pragma once
// The mime store interface (the original's "mimestore"): query, read, add, tag, remove
// items, and open a user's maildrop for the POP3 server.
//
// Threading: every method of a mime_store may be called from any thread, concurrently.
// Objects it hands out (message sources, item writers, maildrops) are used by one thread at
// a time and must not outlive the store.

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/errc.hpp>
#include <izypop3/store/item.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store {

template <class T>
using result = boost::system::result<T>;
using boost::system::error_code;

struct query_options {
    static constexpr std::size_t unlimited = std::numeric_limits<std::size_t>::max();
    enum class order { asc, desc };

    /// Items must carry all of these tags (empty = no condition).
    std::vector<std::string> tags;
    /// Items must carry none of these tags.
    std::vector<std::string> exclude_tags;
    /// At most this many items are returned; 0 returns only count and total_size.
    std::size_t limit = 10;
    /// By the store's insertion order (for `fake`: guid_1, guid_2, ..., then added items).
    order order_by = order::asc;
    /// Only items of this mailbox; empty = every mailbox.
    std::string mailbox;
};

struct query_result {
    std::uint64_t count = 0;       ///< number of all matching items, not just those returned
    std::uint64_t total_size = 0;  ///< sum of item.size over all matching items
    std::vector<item> items;       ///< the first `limit` matches in the requested order
};

/// What committing an added item did. All three mean the octets are durably in the store,
/// so a backup client may now DELE the message on the server.
enum class add_outcome {
    added,            ///< stored as a new item
    duplicate,        ///< the guid existed with different octets; stored tagged "dup" under
                      ///< a derived guid (the original's "....dup.eml")
    already_present,  ///< the guid existed with the same octets; nothing was written
};

/// Receives one item's octets in chunks; nothing is visible in the store before commit().
/// Destroying a writer that was not committed aborts it.
class item_writer {
  public:
    virtual ~item_writer() = default;
    /// Appends octets. Errors: io_error, disk_full, writer_finished.
    [[nodiscard]] virtual error_code write(std::string_view chunk) = 0;
    /// Makes the item durable (fsync/rename or a committed transaction) before returning.
    /// The store computes size, wire_size and fingerprint from the octets; if the metadata
    /// given to begin_add carried a fingerprint that does not match, commit fails with
    /// errc::corrupt and stores nothing. After commit (success or not) the writer is done.
    [[nodiscard]] virtual result<add_outcome> commit() = 0;
    /// Makes the octets written so far durable where the store can do that apart from
    /// commit() (a file store's fsync of the data), so that a caller may run it for several
    /// writers at once on other threads and keep its commits in order. Never concurrent with
    /// write() or commit() of the same writer; commit() then skips what it did.
    [[nodiscard]] virtual error_code sync_data() { return {}; }
    /// Drops everything written; idempotent.
    virtual void abort() noexcept = 0;
};

class mime_store {
  public:
    virtual ~mime_store() = default;

    /// The original's query(tags, limit) -> {count, totalSize, items}.
    [[nodiscard]] virtual result<query_result> query(const query_options& opts) = 0;

    /// The original's consumeItem: the item's payload octets. Reading does not change tags.
    /// Errors: not_found (the item is gone), io_error.
    [[nodiscard]] virtual result<std::unique_ptr<core::message_source>> open_item(
        const item& it) = 0;

    /// Starts a streaming, durable add (the original's addItems, one item at a time).
    /// `meta.guid` must be non-empty (else errc::invalid_item); empty tags become {"unread"};
    /// a default `created` becomes now. size/wire_size/fingerprint are computed by the store.
    ///
    /// An item tagged pop3failed only records that a backup could not fetch a message: it
    /// never blocks its guid. Any item added under that guid replaces it (outcome `added`),
    /// and a pop3failed item added where a message with that guid is stored writes nothing
    /// (outcome `already_present`). Maildrops do not serve pop3failed items.
    [[nodiscard]] virtual result<std::unique_ptr<item_writer>> begin_add(item meta) = 0;

    /// The original's markAs: a status tag (see tag::) replaces the item's status tags; any
    /// other tag is added if absent. Errors: not_found, read_only, io_error.
    [[nodiscard]] virtual error_code mark(const item& it, std::string_view t) = 0;

    /// The inverse of mark: removes tag `t` from the item (tags_after_unmark in item.hpp).
    /// Removing its status tag makes the item unread again; "unread" itself cannot be
    /// removed (errc::invalid_item), only replaced by marking another status. Removing a tag
    /// the item does not carry changes nothing. Errors: not_found, invalid_item, read_only,
    /// io_error.
    [[nodiscard]] virtual error_code unmark(const item& it, std::string_view t) = 0;

    /// Deletes the item. Errors: not_found, read_only, io_error.
    [[nodiscard]] virtual error_code remove(const item& it) = 0;

    /// Locks `user`'s mailbox for one POP3 session and snapshots it. A second open for the
    /// same user while the first maildrop is alive fails with errc::in_use. Map failures to
    /// the session's reply with to_maildrop_failure (store_maildrop.hpp).
    [[nodiscard]] virtual result<std::unique_ptr<core::maildrop>> open_maildrop(
        std::string_view user) = 0;

    /// Group commit for a writer adding many items: with `on`, commit() may leave the steps
    /// of durability that batch well (fsyncs of a log and of directories) to flush(), and an
    /// item counts as stored, durable and visible only once flush() has returned success.
    /// Off by default, where commit() alone does all of it. A crash before flush() loses at
    /// most the items committed since the last flush(), whole, never in part.
    virtual void set_group_commit(bool on) { (void)on; }
    /// Completes the durability of every item committed so far (see set_group_commit).
    [[nodiscard]] virtual error_code flush() { return {}; }
    /// RFC 2449 LOGIN-DELAY shared by every server on this store: records a login of
    /// `mailbox` at `now` unless the one recorded last is less than `min_interval` before
    /// it; returns the whole seconds left until a login is allowed (0: this one was allowed
    /// and recorded). errc::unsupported (the default): the store keeps no login times, the
    /// server process keeps them itself.
    [[nodiscard]] virtual result<std::uint32_t> record_login(
        std::string_view mailbox, std::chrono::system_clock::time_point now,
        std::chrono::seconds min_interval) {
        (void)mailbox, (void)now, (void)min_interval;
        return errc::unsupported;
    }
    /// The store remembers when each message was first retrieved over POP3
    /// (core::maildrop::record_retrieval) and can expire_retrieved(): RFC 2449 EXPIRE DAYS.
    virtual bool keeps_retrieval_times() const noexcept { return false; }
    /// Removes (or archives, per the store's POP3 commit mode) the messages of `mailbox`
    /// first retrieved before `cutoff`; returns how many. errc::unsupported by default.
    [[nodiscard]] virtual result<std::uint64_t> expire_retrieved(
        std::string_view mailbox, std::chrono::system_clock::time_point cutoff) {
        (void)mailbox, (void)cutoff;
        return errc::unsupported;
    }
    /// The modhandler name ("fake", ...).
    virtual std::string_view kind() const noexcept = 0;
    /// True when opening a maildrop and reading its messages touch only local files (served
    /// by the page cache) or memory, never another machine or process, so that a server
    /// may do them on its I/O thread (core::maildrop::served_locally). False by default.
    virtual bool reads_locally() const noexcept { return false; }
};

/// Convenience for small payloads: begin_add + one write + commit.
[[nodiscard]] result<add_outcome> add_item(mime_store& store, item meta, std::string_view payload);

/// Reads a whole item into memory. For tests and small items only: messages can be large.
[[nodiscard]] result<std::string> read_all(mime_store& store, const item& it);

}  // namespace izypop3::store
