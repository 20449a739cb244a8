#include "fs_ops.hpp"

#include <fmt/format.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace izypop3::store::detail {

void unique_fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

errc errno_to_errc(int err) noexcept {
    switch (err) {
        case ENOSPC:
        case EDQUOT:
            return errc::disk_full;
        case EACCES:
        case EPERM:
        case EROFS:
            return errc::read_only;
        case ENOENT:
            return errc::not_found;
        default:
            return errc::io_error;
    }
}

std::string errno_text(std::string_view what, int err) {
    return fmt::format("{}: {}", what, std::strerror(err));
}

std::string join_path(std::string_view a, std::string_view b) {
    if (a.empty()) return std::string(b);
    if (b.empty()) return std::string(a);
    std::string out(a);
    if (out.back() != '/') out.push_back('/');
    out.append(b);
    return out;
}

int write_all(int fd, std::string_view data) noexcept {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

int fsync_fd(int fd) noexcept {
    while (::fsync(fd) != 0) {
        if (errno != EINTR) return errno;
    }
    return 0;
}

int fsync_dir(const std::string& dir) noexcept {
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return errno;
    return fsync_fd(fd.get());
}

int sync_file_system(const std::string& path) noexcept {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return errno;
    return ::syncfs(fd.get()) == 0 ? 0 : errno;
}

int make_dirs_in(const std::string& root, std::span<const std::string_view> subs,
                 std::string& failed_path) {
    for (auto sub : subs) {
        std::string p = join_path(root, sub);
        if (int err = make_dir(p)) {
            failed_path = std::move(p);
            return err;
        }
    }
    return 0;
}

int make_dir(const std::string& path) noexcept {
    if (::mkdir(path.c_str(), 0700) == 0) return 0;
    int err = errno;
    if (err != EEXIST) return err;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int make_dirs(const std::string& path) noexcept {
    if (path.empty()) return ENOENT;
    std::size_t at = 0;
    for (;;) {
        at = path.find('/', at + 1);
        std::string part = path.substr(0, at);
        if (!part.empty() && part != "/") {
            if (int err = make_dir(part)) return err;
        }
        if (at == std::string::npos) return 0;
    }
}

int rename_no_replace(const std::string& from, const std::string& to) noexcept {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
    int err = errno;
    if (err != EINVAL && err != ENOSYS) return err;
    // The file system cannot do RENAME_NOREPLACE: link() fails with EEXIST just the same.
    if (::link(from.c_str(), to.c_str()) != 0) return errno;
    ::unlink(from.c_str());
    return 0;
}

namespace {

void fill_facts(const struct stat& st, file_facts& out) {
    out.exists = true;
    out.is_dir = S_ISDIR(st.st_mode);
    out.is_regular = S_ISREG(st.st_mode);
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    out.ino = static_cast<std::uint64_t>(st.st_ino);
}

}  // namespace

int probe(const std::string& path, file_facts& out) noexcept {
    out = file_facts{};
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT || errno == ENOTDIR ? 0 : errno;
    fill_facts(st, out);
    return 0;
}

int probe_follow(const std::string& path, file_facts& out) noexcept {
    out = file_facts{};
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return errno == ENOENT || errno == ENOTDIR ? 0 : errno;
    fill_facts(st, out);
    return 0;
}

int list_dir(const std::string& dir, std::vector<dir_entry>& out, bool* missing, bool stat_files) {
    out.clear();
    if (missing != nullptr) *missing = false;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) {
        int err = errno;
        if (err == ENOENT) {
            if (missing != nullptr) *missing = true;
            return 0;
        }
        return err;
    }
    int err = 0;
    for (;;) {
        errno = 0;
        const struct dirent* e = ::readdir(d);
        if (e == nullptr) {
            err = errno;
            break;
        }
        std::string_view name(e->d_name);
        if (name == "." || name == "..") continue;
        dir_entry de;
        de.name = std::string(name);
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            // Some file systems (XFS without ftype, some network ones) do not say.
            struct stat st {};
            if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_LNK;
            }
        }
        de.is_regular = type == DT_REG;
        de.is_dir = type == DT_DIR;
        if (stat_files && de.is_regular) {
            struct stat st {};
            if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
            fill_facts(st, de.facts);
            de.is_regular = de.facts.is_regular;  // replaced by something else meanwhile
        }
        out.push_back(std::move(de));
    }
    ::closedir(d);
    return err;
}

std::string unique_stem() {
    static std::atomic<std::uint64_t> counter{0};
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    struct timeval tv {};
    ::gettimeofday(&tv, nullptr);
    return fmt::format("{}.M{}P{}Q{}R{:08x}", tv.tv_sec, tv.tv_usec, ::getpid(),
                       counter.fetch_add(1) + 1, static_cast<std::uint32_t>(rng()));
}

std::string maildir_host() {
    std::array<char, 256> buf{};
    if (::gethostname(buf.data(), buf.size() - 1) != 0) return "localhost";
    std::string out;
    for (const char* p = buf.data(); *p != '\0'; ++p) {
        switch (*p) {
            case '/':
                out += "\\057";
                break;
            case ':':
                out += "\\072";
                break;
            case ',':
                out += "\\054";
                break;
            default:
                out += *p;
        }
    }
    return out.empty() ? std::string("localhost") : out;
}

}  // namespace izypop3::store::detail
