#pragma once
// One mailbox directory of a directory store (localfs or maildir, by its dir_layout): the
// items are the message files found in its folders, described by the metadata log.
//
// Rules that make it crash-safe (docs/stores.md has the argument in full):
// - a new item is written to a temporary file, fsynced, its "add" line is appended to the
//   log and fsynced, and only then is the file renamed to its final name (without
//   replacing anything) and the directory fsynced: the rename is the commit point, so a
//   crash leaves either no message file or a complete one whose metadata is on disk;
// - a status change rewrites nothing: a "tags" line, then a rename into the status folder;
//   where the file is decides its status, so a crash between the two loses the change
//   cleanly;
// - a log line whose file does not exist means nothing.
//
// Thread-safe: calls are serialised by a mutex; writers of other processes are serialised
// by flock on the layout's write lock file.

#include "dir_layout.hpp"
#include "fs_ops.hpp"
#include "meta_log.hpp"

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/item.hpp>
#include <izypop3/store/store.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace izypop3::store::detail {

/// An item with where it is and its place in the order of arrival.
struct located_item {
    item it;
    stored_file file;
    std::int64_t arrival_us = 0;
    std::uint64_t seq = 0;  ///< position of its "add" line; after all logged ones if none
    /// The file's octets are their own POP3 wire body while it has this mtime (the log
    /// says so for the file's current size and mtime); nullopt when not known.
    std::optional<std::int64_t> wire_form_mtime_ns;
};

/// What a POP3 maildrop needs of one message file: views into the mailbox's scan and log,
/// valid only during the snapshot_for_maildrop callback.
struct maildrop_row {
    std::string_view guid;
    std::string_view rel_path;
    std::string_view status;       ///< the file's folder: "" (root, INBOX) or a status tag
    std::string_view fingerprint;  ///< hex SHA-256, empty when unknown
    std::uint64_t file_size = 0;
    std::optional<std::uint64_t> wire_size;  ///< nullopt: the caller must count it
    std::optional<std::int64_t> wire_form_mtime_ns;
};

/// What the writer hands over at commit: a complete, fsynced temporary file.
struct finished_file {
    std::string temp_rel;  ///< relative to the mailbox root
    std::uint64_t size = 0;
    std::uint64_t wire_size = 0;
    std::uint64_t crlf_size = 0;
    std::string fingerprint;
    /// The octets are their own wire body; the file's mtime after its last write.
    std::optional<std::int64_t> wire_form_mtime_ns;
};

class dir_mailbox : public std::enable_shared_from_this<dir_mailbox> {
  public:
    /// `create_root`: the root may be made (with its parents) at the first write, as a
    /// per-user mailbox is; otherwise it must exist.
    dir_mailbox(const dir_layout& layout, std::string root, std::string mailbox_name,
                bool create_root);
    ~dir_mailbox();

    const std::string& root() const noexcept { return root_; }
    const std::string& mailbox_name() const noexcept { return mailbox_name_; }

    /// False when the root directory does not exist (a user without a mailbox yet).
    bool exists() const;

    /// Every item, in the order of arrival.
    boost::system::error_code snapshot(std::vector<located_item>& out);
    /// For a POP3 maildrop, with one scan of the folders: every file that is served (not
    /// in the archive, dup or pop3failed folder) in order of arrival, handed to `each` under the
    /// mailbox's lock, without building items. Files the log has no wire size for are read
    /// once and their sizes noted in the log, so that LIST is exact and the next session
    /// does not read them again. An error `each` returns ends the snapshot with it.
    boost::system::error_code snapshot_for_maildrop(
        const std::function<boost::system::error_code(const maildrop_row&)>& each);
    /// Drops what the mailbox remembers of its folders and log (read again by the next call
    /// that needs it), so that a server with many users keeps memory only for the busy
    /// ones. A mailbox with items committed and not yet flushed keeps everything.
    void forget_cache();

    boost::system::result<std::unique_ptr<core::message_source>> open_item(const item& it);
    /// `meta` is already checked and completed by the store (guid, tags, created).
    boost::system::result<std::unique_ptr<item_writer>> begin_add(item meta);
    /// The new tags of an item, from its current ones (tags_after_mark, tags_after_unmark).
    using tag_rule = std::function<std::vector<std::string>(std::vector<std::string>)>;
    /// mark() and unmark(): a "tags" line, then the rename into the new status's folder.
    boost::system::error_code change_tags(const item& it, const tag_rule& rule);
    boost::system::error_code remove(const item& it);

    /// Takes the POP3 maildrop lock on the mailbox's own lock file (flock, held as long as
    /// the returned descriptor is open): what maildrop_locks falls back to when the store's
    /// lock file cannot be written. in_use when another session anywhere holds it.
    boost::system::result<unique_fd> lock_maildrop();

    /// Called by the writer: publishes the finished temporary file as an item.
    boost::system::result<add_outcome> commit_add(item meta, const finished_file& f);
    /// Called by the writer when it gives up: removes its temporary file.
    void discard_temp(const std::string& temp_rel) noexcept;

    /// Group commit (mime_store::set_group_commit): writers do not fsync their data and
    /// commit_add appends the item's log line without an fsync; flush() makes the batch's
    /// files and lines durable with one syncfs, renames the files to their names and fsyncs
    /// their directories. Until then the items are not visible. flush() may run on another
    /// thread while the next items are written and committed.
    void set_group_commit(bool on);
    boost::system::error_code flush();

    /// One line about the most recent failure, for logs.
    std::string last_error() const;
    /// Records a failure seen outside the mailbox's own calls (by a writer).
    void note_error(std::string text);

  private:
    boost::system::error_code fail(errc e, std::string text);
    boost::system::error_code fail_errno(int err, std::string_view what);
    int ensure_root();
    // Holds the write lock until it goes out of scope (the file stays open for the next).
    class write_lock_hold {
      public:
        explicit write_lock_hold(int fd) noexcept : fd_(fd) {}
        write_lock_hold(write_lock_hold&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
        write_lock_hold& operator=(write_lock_hold&&) = delete;
        ~write_lock_hold();

      private:
        int fd_;
    };
    // `wait` false: in_use at once when another holder has it.
    boost::system::result<write_lock_hold> take_write_lock(bool wait = true);
    int rescan();
    located_item describe(const stored_file& f) const;
    std::vector<located_item> find_live(const std::string& guid);
    std::string find_same_content(const finished_file& nf);
    stored_file* locate(const item& it, bool rescan_on_miss);
    bool same_octets(const stored_file& f, const finished_file& nf) const;
    boost::system::error_code remove_file(stored_file& f);
    boost::system::result<bool> clear_failure_records(const std::string& guid);
    void remember_file(const std::string& name, const std::string& rel, const std::string& status);
    struct unpublished_file;
    boost::system::error_code publish(const std::vector<unpublished_file>& batch);
    // Under mu_: the wire sizes of files the log knows none for, as "wire" lines to append.
    std::string count_missing_wire_sizes();
    // Under mu_: what the log says of `f`, without copying a string; its place in the
    // order of arrival in `arrival_us` and `seq`.
    maildrop_row row_of(const stored_file& f, std::int64_t& arrival_us, std::uint64_t& seq) const;
    void sort_by_arrival(std::vector<located_item>& items) const;

    // A committed item waiting for flush() under group commit.
    struct unpublished_file {
        std::string temp_rel, rel, name, status;
        std::string link_from;  // an existing file with the same octets, to hard-link instead
    };
    std::vector<unpublished_file> unpublished_;

    const dir_layout& layout_;
    const std::string root_;
    const std::string mailbox_name_;
    const bool create_root_;

    mutable std::mutex mu_;
    std::mutex flush_mu_;    // one flush() at a time; taken before mu_
    bool flushing_ = false;  // a flush() holds a batch outside unpublished_
    meta_log log_;
    bool scanned_ = false;
    bool prepared_ = false;    // the layout's folders were made or found
    unique_fd write_lock_fd_;  // the write lock file, kept open
    bool group_commit_ = false;
    std::set<std::string> unsynced_dirs_;  // renamed into, not yet fsynced (group commit)
    std::vector<stored_file> files_;       // the last scan, kept current by our own changes
    std::unordered_multimap<std::string, std::size_t> by_name_;  // name -> index in files_
    std::int64_t last_stored_us_ = 0;
    std::string last_error_;
};

}  // namespace izypop3::store::detail
