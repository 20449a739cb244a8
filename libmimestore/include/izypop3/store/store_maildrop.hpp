#pragma once
// The POP3 maildrop (core::maildrop) on top of any mime_store: a snapshot of a mailbox's
// servable items taken at open, read through open_item, deletions committed through
// remove() or mark("archive"). Backends reuse it from their open_maildrop().

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/item.hpp>
#include <izypop3/store/store.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store {

/// What the server does with the messages a session deleted, at QUIT (RFC 1939 UPDATE).
enum class commit_mode {
    remove,   ///< remove() them from the store
    archive,  ///< mark() them "archive": they leave the maildrop but stay in the store
};

/// RFC 1939 section 7 (UIDL): 1 to 70 octets, each in 0x21-0x7E.
bool is_valid_uid(std::string_view uid) noexcept;

/// The UID the maildrop shows for `it`: its guid when that is a valid UID, else "x" followed
/// by the first 40 hex digits of SHA-256(guid), which is stable across sessions and valid.
std::string make_uid(const item& it);

/// How the session reports a failed open_maildrop (RFC 2449 [IN-USE], RFC 3206 [SYS/*]):
/// in_use -> in_use; no_such_mailbox, bad_config, corrupt, unsupported -> permanent;
/// everything else -> temporary.
core::maildrop_failure to_maildrop_failure(const boost::system::error_code& ec) noexcept;

class store_maildrop final : public core::maildrop {
  public:
    /// Snapshots `mailbox` of `store` (empty = every mailbox): all items not tagged archive
    /// or dup, in insertion order. `release` is called once when the maildrop is destroyed
    /// (or when open fails), to drop the caller's lock. `store` must outlive the maildrop.
    static boost::system::result<std::unique_ptr<store_maildrop>> open(
        mime_store& store, std::string mailbox, commit_mode mode, std::function<void()> release);

    ~store_maildrop() override;
    store_maildrop(const store_maildrop&) = delete;
    store_maildrop& operator=(const store_maildrop&) = delete;

    /// As the store says (mime_store::reads_locally).
    bool served_locally() const noexcept override;
    const std::vector<core::message_info>& messages() const noexcept override;
    /// make_uid derives each uid from the item's guid, which never changes.
    bool stable_uids() const noexcept override { return true; }
    boost::system::result<std::unique_ptr<core::message_source>> open(std::size_t index) override;
    /// Out-of-range indices are a programmer error (asserted; errc::not_found in release
    /// builds, before anything is touched). Duplicates are ignored. An item that is already
    /// gone counts as deleted. If the store fails part-way, the error is returned and the
    /// items before it stay deleted: a store cannot un-remove.
    boost::system::error_code commit_deletions(std::span<const std::size_t> indices) override;

    /// The store item behind message `index` (0-based) of the snapshot.
    const item& item_at(std::size_t index) const { return items_.at(index); }

  private:
    store_maildrop(mime_store& store, commit_mode mode, std::function<void()> release);

    mime_store& store_;
    commit_mode mode_;
    std::function<void()> release_;
    std::vector<item> items_;
    std::vector<core::message_info> infos_;
};

}  // namespace izypop3::store
