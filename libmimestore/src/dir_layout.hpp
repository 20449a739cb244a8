#pragma once
// How a directory store lays out one mailbox on disk: where message files live for each
// status tag, how new files are named, where temporary files and izypop3's own files go.
// Two layouts exist: localfs (a directory of .eml files with tag folders) and maildir
// (tmp/ new/ cur/ with Maildir++ tag folders). dir_mailbox does the rest the same way for
// both.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store::detail {

/// A message file found in a mailbox.
struct stored_file {
    /// The item's key in the metadata log, stable when the file moves between folders or
    /// changes its Maildir flags: localfs the file name without ".eml", maildir the base
    /// name before ":2,".
    std::string name;
    /// Path relative to the mailbox root, e.g. "archive/x.eml" or "cur/123.M4P5.host:2,S".
    std::string rel_path;
    /// Status tag of its folder; empty for the root/INBOX (status "unread" or none).
    std::string status;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t ino = 0;
};

/// What a layout needs to know to name a new message file.
struct new_file_facts {
    std::string guid;
    std::string source_id;
    std::uint64_t size = 0;
    /// The size with every bare LF counted as CRLF (Dovecot's ",W=" virtual size).
    std::uint64_t crlf_size = 0;
};

class dir_layout {
  public:
    virtual ~dir_layout() = default;

    virtual std::string_view kind() const noexcept = 0;

    /// izypop3's own files, relative to the mailbox root.
    virtual std::string_view meta_log_file() const noexcept = 0;
    virtual std::string_view maildrop_lock_file() const noexcept = 0;
    virtual std::string_view write_lock_file() const noexcept = 0;

    /// Creates what writing needs inside an existing root (state directory, Maildir's
    /// tmp/ new/ cur/). Returns 0 or the errno; `failed_path` names what could not be made.
    virtual int prepare(const std::string& root, std::string& failed_path) const = 0;

    /// Every message file of the mailbox. Returns 0 or the errno; `failed_path` names the
    /// directory that could not be read.
    virtual int scan(const std::string& root, std::vector<stored_file>& out,
                     std::string& failed_path) const = 0;

    /// The directory (relative to root) for temporary files bound for folder `status`,
    /// created with the folder if missing. Returns 0 or the errno.
    virtual int temp_dir(const std::string& root, std::string_view status,
                         std::string& rel_dir) const = 0;

    /// The name of a new item; `attempt` counts from 1 and grows when a name is taken.
    virtual std::string new_name(const new_file_facts& f, unsigned attempt) const = 0;

    /// True when a file of that name exists in any folder (names must stay unique across
    /// folders so that the metadata log can follow a file from folder to folder).
    virtual bool name_taken(const std::string& root, std::string_view name) const = 0;

    /// Where a new file `name` goes in folder `status` (relative to root; the folder is
    /// created when missing). Returns 0 or the errno.
    virtual int deliver_path(const std::string& root, std::string_view name,
                             std::string_view status, std::string& rel_path) const = 0;

    /// Where `f` goes when moved to folder `status`. Returns 0 or the errno.
    virtual int moved_path(const std::string& root, const stored_file& f, std::string_view status,
                           std::string& rel_path) const = 0;

    /// When a file without metadata arrived, in nanoseconds since the epoch (for ordering).
    virtual std::int64_t arrival_ns(const stored_file& f) const = 0;
};

std::unique_ptr<dir_layout> make_localfs_layout();
std::unique_ptr<dir_layout> make_maildir_layout();

/// The status tags that have a folder of their own: every status tag but "unread".
std::vector<std::string_view> folder_statuses();
/// The statuses a mailbox is scanned by: "" (the root, no status folder) first, then
/// folder_statuses().
std::vector<std::string_view> mailbox_statuses();

/// True when `names` holds `name`.
bool contains(const std::vector<std::string>& names, std::string_view name);

/// A layout's item name for a message file name; empty when the file is not a message.
using item_name_of = std::string (*)(std::string_view file_name);

/// Appends the message files of directory `rel_dir` (relative to `root`, in folder
/// `status`) to `out`: regular files whose names do not start with '.' and that `name_of`
/// names. A file gone or replaced since the directory was read is passed over. With
/// `subdirs`, the names of the directory's subdirectories go there. A missing directory
/// has no files. Returns 0 or the errno; `failed_path` names the directory that could not
/// be read.
int scan_message_files(const std::string& root, const std::string& rel_dir, std::string_view status,
                       item_name_of name_of, std::vector<stored_file>& out,
                       std::string& failed_path, std::vector<std::string>* subdirs = nullptr);

}  // namespace izypop3::store::detail
