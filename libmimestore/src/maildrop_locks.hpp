#pragma once
// The POP3 maildrop locks of a directory store: one session per mailbox at a time, in this
// process and in every other process on the machine, with one descriptor for the whole
// store instead of one per session (a server holding 10,000 sessions would otherwise need
// 10,000 more descriptors than sockets).
//
// How: the store's lock file (<base>/.izypop3-maildrops.lock, base being the directory
// that holds the mailboxes) is opened once, and a session locks one byte of it with an
// open-file-description lock (F_OFD_SETLK), at an offset made from the mailbox directory's
// device and inode (so two spellings of one directory meet at the same byte). Such locks
// conflict between descriptors, also of other processes, and the kernel drops them when a
// process dies, so a crashed server leaves no mailbox locked. Sessions of this process
// share the descriptor, so a table here keeps them apart. Where the lock file cannot be
// opened for writing (a read-only store), the mailbox's own lock file is flocked instead,
// one descriptor per session, as before.

#include "fs_ops.hpp"

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

namespace izypop3::store::detail {

class dir_mailbox;

class maildrop_locks : public std::enable_shared_from_this<maildrop_locks> {
  public:
    explicit maildrop_locks(std::string lock_file) : path_(std::move(lock_file)) {}
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

    const std::string path_;
    std::mutex mu_;
    unique_fd fd_;  // the store's lock file, opened at the first acquire that can
    std::unordered_set<std::uint64_t> held_;
};

}  // namespace izypop3::store::detail
