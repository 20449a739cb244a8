#pragma once
// The POP3 maildrop of a directory store (localfs, maildir). It keeps, for the length of a
// session, only what serving needs: each message's listed size and UID, and where its file
// is (path, size, SHA-256, whether its octets are their own wire form). RETR opens that
// path directly, on the server's I/O thread (served_locally): no scan, no log lookup, no
// lock. A file a mail reader moved since the snapshot (a flag change renames it) is found
// again through the store by its guid. UPDATE goes through the store's remove() or
// mark("archive"), which take the write lock.

#include "maildrop_locks.hpp"

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/item.hpp>
#include <izypop3/store/store.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store::detail {

class dir_mailbox;
class maildrop_uids;
struct maildrop_row;

class dir_maildrop final : public core::maildrop {
  public:
    /// Serves what `box` holds now (dir_mailbox::snapshot_for_maildrop). `lock` is the
    /// maildrop lock, held until the maildrop is destroyed. `store` (the mailbox's) and
    /// `box` must outlive it.
    static boost::system::result<std::unique_ptr<dir_maildrop>> make(
        mime_store& store, std::shared_ptr<dir_mailbox> box, maildrop_locks::hold lock,
        commit_mode mode);

    bool served_locally() const noexcept override { return true; }
    /// Each uid comes from the item's guid, which never changes.
    bool stable_uids() const noexcept override { return true; }
    const std::vector<core::message_info>& messages() const noexcept override { return infos_; }
    boost::system::result<std::unique_ptr<core::message_source>> open(std::size_t index) override;
    /// As store_maildrop::commit_deletions.
    boost::system::error_code commit_deletions(std::span<const std::size_t> indices) override;

  private:
    // Where message i is; its strings are in text_ from text_at on: the file's path
    // relative to the mailbox, the guid (empty when it is the UID), the hex SHA-256 (empty
    // when unknown) and the status folder (empty for the INBOX or root).
    struct entry {
        std::uint64_t file_size = 0;
        std::int64_t wire_form_mtime_ns = 0;
        std::uint32_t text_at = 0;
        std::uint16_t path_len = 0;
        std::uint16_t guid_len = 0;
        std::uint8_t fingerprint_len = 0;
        std::uint8_t status_len = 0;
        bool wire_form = false;
    };

    dir_maildrop(mime_store& store, std::shared_ptr<dir_mailbox> box, maildrop_locks::hold lock,
                 commit_mode mode);
    boost::system::error_code add(const maildrop_row& row, maildrop_uids& uids);
    std::string_view text(std::uint32_t at, std::size_t len) const {
        return std::string_view(text_).substr(at, len);
    }
    std::string_view path(const entry& e) const { return text(e.text_at, e.path_len); }
    item item_of(std::size_t index) const;

    mime_store& store_;
    std::shared_ptr<dir_mailbox> box_;
    maildrop_locks::hold lock_;
    commit_mode mode_;
    std::vector<core::message_info> infos_;
    std::vector<entry> entries_;
    std::string text_;
};

}  // namespace izypop3::store::detail
