#pragma once
// The POP3 maildrop locks of a directory store: one session per mailbox at a time, in this
// process and in every other process on the machine, with one descriptor for the whole
// store instead of one per session (a server holding 10,000 sessions would otherwise need
// 10,000 more descriptors than sockets).
//
// How: the store's lock files (with %u, <base>/.izypop3-maildrops/00 .. ff, base being the
// directory that holds the mailboxes; without, the one mailbox's .izypop3-maildrops.lock,
// a file, since a directory there would look like a Maildir++ folder) are each opened once, and a
// session locks one byte of one of them with an open-file-description lock (F_OFD_SETLK), at an
// offset made from the mailbox directory's device and inode (so two spellings of one directory meet
// at the same byte). Such locks conflict between descriptors, also of other processes, and the
// kernel drops them when a process dies, so a crashed server leaves no mailbox locked. Sessions of
// this process share the descriptors, so a table here keeps them apart. There are 256 files because
// the kernel keeps a file's locks in a list that every new lock walks: 10,000 sessions on one file
// would cost 10,000 steps a login. Where the lock files cannot be opened for writing (a read-only
// store), the mailbox's own lock file is flocked instead, one descriptor per session, as before.

#include "fs_ops.hpp"

#include <boost/system/result.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

namespace izypop3::store::detail {

class dir_mailbox;

class maildrop_locks : public std::enable_shared_from_this<maildrop_locks> {
  public:
    static constexpr std::size_t max_files = 256;

    /// With `sharded`, `path` is a directory (made when first needed) of max_files lock
    /// files; otherwise it is the one lock file.
    maildrop_locks(std::string path, bool sharded)
        : path_(std::move(path)), files_(sharded ? max_files : 1) {}
    ~maildrop_locks();
    maildrop_locks(const maildrop_locks&) = delete;
    maildrop_locks& operator=(const maildrop_locks&) = delete;

    /// Holds one mailbox's lock until destroyed.
    class hold {
      public:
        hold() = default;
        hold(hold&& o) noexcept;
        hold& operator=(hold&& o) noexcept;
        ~hold();

      private:
        friend class maildrop_locks;
        std::shared_ptr<maildrop_locks> owner_;
        std::uint64_t key_ = 0;
        unique_fd fallback_;  // the mailbox's own flocked lock file
    };

    /// Locks `box` (whose directory must exist). Errors: in_use when another session, here
    /// or in another process, holds it; io_error, with box's last_error for the log.
    boost::system::result<hold> acquire(dir_mailbox& box);

  private:
    void release(std::uint64_t key) noexcept;
    // The lock file for `key`, opened (and made) if need be; -1 when it cannot be written.
    int file_for(std::uint64_t key);

    const std::string path_;
    const std::size_t files_;
    std::mutex mu_;
    std::array<unique_fd, max_files> fds_;  // opened at the first acquire that needs each
    std::unordered_set<std::uint64_t> held_;
};

}  // namespace izypop3::store::detail
