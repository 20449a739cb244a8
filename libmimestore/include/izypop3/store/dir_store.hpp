#pragma once
// What the two directory stores, localfs (localfs_store.hpp) and maildir
// (maildir_store.hpp), share: their options, and a mime_store base that does the work.
// docs/stores.md describes the layouts, the metadata log, duplicates, locks, per-user
// mailboxes and why a crash never leaves a partial message visible.
//
// Common behaviour:
// - mimestore.path may contain "%u" (Dovecot's convention): each user then has a mailbox
//   directory of their own, made at the first item added for that user. An item's
//   `mailbox` names the user; a user without a directory has an empty maildrop. User names
//   that could leave the directory ("..", "/", NUL, control characters, a leading '.')
//   are refused (no_such_mailbox for open_maildrop, invalid_item for begin_add). Without
//   %u there is one mailbox: items report mailbox "", query ignores
//   query_options::mailbox, and every user's maildrop is that one mailbox (so one POP3
//   session at a time, whoever logs in).
// - Adding: the same guid with the same octets is already_present; the same guid with
//   other octets is stored as "<guid>.dup", "<guid>.dup2", ... tagged dup; octets already
//   stored under another guid are stored under the new guid tagged dup, sharing the first
//   copy's file (a hard link) where the file system allows. Items tagged dup or archive
//   are never served over POP3.
// - Status tags are folders (archive, staged, dup, pop3failed, conversionerror; unread and
//   untagged items sit in the root), so mark() with a status tag moves the file; other
//   tags live in the metadata log only.
// - Files without metadata (put there by hand, by Dovecot or mutt) are items too: guid =
//   their name (localfs: without ".eml"; maildir: the base name before ":2,"), tags =
//   their folder's status, created = their mtime.
// - open_item fails with corrupt when the file no longer has the size it was listed with,
//   or (for items izypop3 stored) when its octets no longer match their SHA-256; a file
//   that shrinks or grows while being read fails the read the same way.
// - open_maildrop takes an flock on the mailbox's lock file, so sessions in any number of
//   processes exclude each other (in_use).

#include <izypop3/store/store.hpp>
#include <izypop3/store/store_config.hpp>
#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <boost/system/result.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace izypop3::store {

namespace detail {
class dir_store_engine;
}

struct dir_store_options {
    /// The mailbox directory, or a template with %u ("%%" is a literal '%').
    std::string path;
    /// Create a missing path (with %u: the directory that holds the mailboxes) and its
    /// parents at open, mode 0700. Otherwise a missing path is an error.
    bool create = false;
    /// What a POP3 session's deletions do at QUIT: archive keeps the data.
    commit_mode commitmode = commit_mode::archive;
};

class dir_store : public mime_store {
  public:
    ~dir_store() override;
    dir_store(const dir_store&) = delete;
    dir_store& operator=(const dir_store&) = delete;

    result<query_result> query(const query_options& opts) final;
    result<std::unique_ptr<core::message_source>> open_item(const item& it) final;
    /// Beyond the interface: invalid_item also for a guid or source id over 1,000 octets, a
    /// guid with NUL, CR or LF, an empty tag, and (with %u) a mailbox that is not a valid
    /// user name.
    result<std::unique_ptr<item_writer>> begin_add(item meta) final;
    error_code mark(const item& it, std::string_view t) final;
    error_code unmark(const item& it, std::string_view t) final;
    error_code remove(const item& it) final;
    result<std::unique_ptr<core::maildrop>> open_maildrop(std::string_view user) final;
    void set_group_commit(bool on) final;
    error_code flush() final;
    /// Local files only: a server opens maildrops and reads messages on its I/O threads.
    bool reads_locally() const noexcept final { return true; }

    /// One line about the most recent failure (which file, what the system said), for logs.
    std::string last_error() const;

  protected:
    explicit dir_store(std::unique_ptr<detail::dir_store_engine> engine);

  private:
    std::unique_ptr<detail::dir_store_engine> engine_;
};

}  // namespace izypop3::store
