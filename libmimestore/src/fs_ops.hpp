#pragma once
// POSIX file operations for the directory stores (localfs, maildir): descriptors that close
// themselves, writes that survive EINTR and short writes, fsync of files and directories,
// a rename that never replaces, and errno mapped to the store's error codes.

#include <izypop3/store/errc.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store::detail {

/// Owns a file descriptor; closing is done once, on destruction or reset().
class unique_fd {
  public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    ~unique_fd() { reset(); }
    unique_fd(unique_fd&& o) noexcept : fd_(o.release()) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) reset(o.release());
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1) noexcept;

  private:
    int fd_ = -1;
};

/// An errno value as a store error: ENOSPC/EDQUOT -> disk_full, EACCES/EPERM/EROFS ->
/// read_only, ENOENT -> not_found, anything else -> io_error.
errc errno_to_errc(int err) noexcept;

/// "what: strerror(err)", for the texts a store keeps for its logs.
std::string errno_text(std::string_view what, int err);

/// Joins two path parts with one '/'; an empty part is left out.
std::string join_path(std::string_view a, std::string_view b);

/// Writes all of `data` (retrying EINTR and short writes). On failure returns the errno.
int write_all(int fd, std::string_view data) noexcept;

/// fsync(fd), retrying EINTR. Returns 0 or the errno.
int fsync_fd(int fd) noexcept;

/// Opens `dir` and fsyncs it, so that entries created, renamed or removed in it are
/// durable (fsync(2): the directory needs its own fsync). Returns 0 or the errno.
int fsync_dir(const std::string& dir) noexcept;

/// syncfs(2) on the file system that holds `path`: every file's data and metadata written
/// there so far (by anybody) reach the disk, with one journal commit and one cache flush
/// however many files there are. Since Linux 5.8 it reports a failed writeback of any file
/// on that file system (earlier kernels did not). Returns 0 or the errno.
int sync_file_system(const std::string& path) noexcept;

/// mkdir with mode 0700; an existing directory is success. Returns 0 or the errno
/// (ENOTDIR when the path exists and is something else).
int make_dir(const std::string& path) noexcept;
/// make_dir for each of `subs` under `root`, in order; on failure `failed_path` names the
/// directory that could not be made.
int make_dirs_in(const std::string& root, std::span<const std::string_view> subs,
                 std::string& failed_path);

/// Creates `path` and its missing parents (mode 0700). Returns 0 or the errno.
int make_dirs(const std::string& path) noexcept;

/// rename(2) that fails with EEXIST instead of replacing `to` (renameat2 RENAME_NOREPLACE,
/// or link + unlink on file systems without it). Returns 0 or the errno.
int rename_no_replace(const std::string& from, const std::string& to) noexcept;

/// What lstat says about a path.
struct file_facts {
    bool exists = false;
    bool is_dir = false;
    bool is_regular = false;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::uint64_t ino = 0;
};
/// lstat (a symbolic link is neither a directory nor a regular file). Returns 0 (also when
/// the path does not exist: exists = false) or the errno.
int probe(const std::string& path, file_facts& out) noexcept;

/// stat, following symbolic links (for paths the user configured). Same contract as probe.
int probe_follow(const std::string& path, file_facts& out) noexcept;

struct dir_entry {
    std::string name;
    bool is_regular = false;  ///< a regular file, not a symbolic link
    bool is_dir = false;
    file_facts facts;  ///< with list_dir's `stat_files`, for regular files
};
/// The entries of `dir` except "." and "..". ENOENT yields an empty list and `missing`.
/// With `stat_files`, regular files are looked at (lstat relative to the open directory,
/// not through their whole path again) and one gone since the listing is left out.
/// Returns 0 or the errno.
int list_dir(const std::string& dir, std::vector<dir_entry>& out, bool* missing = nullptr,
             bool stat_files = false);

/// A name unique to this process and moment: "<sec>.M<usec>P<pid>Q<n>R<random hex>", the
/// first half of the classic Maildir recipe (the caller adds ".<host>").
std::string unique_stem();

/// This host's name made safe for a Maildir file name ('/' -> "\057", ':' -> "\072",
/// ',' -> "\054", as the Maildir recipe and Dovecot do).
std::string maildir_host();

}  // namespace izypop3::store::detail
