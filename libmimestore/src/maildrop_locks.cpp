#include "maildrop_locks.hpp"

#include "dir_mailbox.hpp"

#include <izypop3/store/errc.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace izypop3::store::detail {
namespace {

// The byte of the lock file that stands for a directory: its device and inode mixed
// (splitmix64), kept within the positive range of off_t.
std::uint64_t key_of(const struct stat& st) {
    std::uint64_t x = static_cast<std::uint64_t>(st.st_dev) * 0x9e3779b97f4a7c15ULL ^
                      static_cast<std::uint64_t>(st.st_ino);
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x & 0x3fffffffffffffffULL;
}

int set_byte_lock(int fd, std::uint64_t key, short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = static_cast<off_t>(key);
    fl.l_len = 1;
    fl.l_pid = 0;  // required for open-file-description locks
    while (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

}  // namespace

maildrop_locks::~maildrop_locks() = default;

int maildrop_locks::file_for(std::uint64_t key) {
    unique_fd& fd = fds_[key % files_];
    if (fd) return fd.get();
    constexpr int flags = O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
    if (files_ == 1) {
        fd.reset(::open(path_.c_str(), flags, 0600));
        return fd.get();
    }
    char name[8];
    std::snprintf(name, sizeof name, "%02x", static_cast<unsigned>(key % files_));
    const std::string file = join_path(path_, name);
    fd.reset(::open(file.c_str(), flags, 0600));
    if (!fd && errno == ENOENT && make_dir(path_) == 0) fd.reset(::open(file.c_str(), flags, 0600));
    return fd.get();
}

maildrop_locks::hold::hold(hold&& o) noexcept
    : owner_(std::move(o.owner_)), key_(o.key_), fallback_(std::move(o.fallback_)) {}

maildrop_locks::hold& maildrop_locks::hold::operator=(hold&& o) noexcept {
    if (this != &o) {
        if (owner_) owner_->release(key_);
        owner_ = std::move(o.owner_);
        key_ = o.key_;
        fallback_ = std::move(o.fallback_);
    }
    return *this;
}

maildrop_locks::hold::~hold() {
    if (owner_) owner_->release(key_);
}

boost::system::result<maildrop_locks::hold> maildrop_locks::acquire(dir_mailbox& box) {
    struct stat st {};
    if (::stat(box.root().c_str(), &st) != 0) {
        box.note_error(errno_text("cannot stat the mailbox " + box.root(), errno));
        return errc::io_error;
    }
    const std::uint64_t key = key_of(st);
    std::lock_guard lock(mu_);
    const int fd = file_for(key);
    if (fd < 0) {
        // Read-only: the mailbox's own lock file, which flock can lock through a read-only
        // descriptor.
        auto own = box.lock_maildrop();
        if (!own) return own.error();
        hold h;
        h.fallback_ = std::move(*own);
        return h;
    }
    if (held_.count(key) != 0) {
        box.note_error(box.root() + " is locked by another session");
        return errc::in_use;
    }
    if (int err = set_byte_lock(fd, key, F_WRLCK)) {
        if (err == EAGAIN || err == EACCES) {
            box.note_error(box.root() + " is locked by a session of another process");
            return errc::in_use;
        }
        box.note_error(errno_text("cannot lock " + box.root() + " in " + path_, err));
        return errc::io_error;
    }
    held_.insert(key);
    hold h;
    h.owner_ = shared_from_this();
    h.key_ = key;
    return h;
}

void maildrop_locks::release(std::uint64_t key) noexcept {
    std::lock_guard lock(mu_);
    if (held_.erase(key) == 0 || !fds_[key % files_]) return;
    (void)set_byte_lock(fds_[key % files_].get(), key, F_UNLCK);
}

}  // namespace izypop3::store::detail
