#include "file_source.hpp"

#include "fs_ops.hpp"
#include "sha256.hpp"

#include <izypop3/store/errc.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace izypop3::store::detail {
namespace {

// Below this size the kernel's default read-ahead already covers the file; the advice
// would be one more system call per message for nothing.
constexpr std::uint64_t advise_from_size = 256 * 1024;

std::int64_t mtime_ns_of(const struct stat& st) {
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

class file_source final : public core::message_source {
  public:
    file_source(unique_fd fd, std::uint64_t size, std::string fingerprint,
                std::optional<std::int64_t> sendable_mtime_ns)
        : fd_(std::move(fd)),
          size_(size),
          fingerprint_(std::move(fingerprint)),
          sendable_mtime_ns_(sendable_mtime_ns) {
        if (!fingerprint_.empty()) hash_ = std::make_unique<sha256>();
    }

    boost::system::result<std::size_t> read(std::span<char> buf) override {
        sendable_mtime_ns_.reset();  // read once, the region is no longer whole
        if (failed_) return failed_;
        if (done_ || buf.empty()) return std::size_t{0};
        if (pos_ < size_) return read_body(buf);
        // At the recorded size the file must end, and hold the recorded octets.
        if (!end_seen_) {
            char extra = 0;
            ssize_t n = read_some(&extra, 1);
            if (n < 0) return fail(errc::io_error);
            if (n > 0) return fail(errc::corrupt);  // grew after the snapshot
        }
        if (hash_ && hash_->hex_digest() != fingerprint_) return fail(errc::corrupt);
        hash_.reset();
        done_ = true;
        fd_.reset();
        return std::size_t{0};
    }

    std::optional<core::file_region> wire_file() override {
        if (!sendable_mtime_ns_ || pos_ != 0 || failed_ || done_) return std::nullopt;
        return core::file_region{fd_.get(), 0, size_};
    }

    boost::system::error_code check_sent_file() override {
        struct stat st {};
        if (!sendable_mtime_ns_ || ::fstat(fd_.get(), &st) != 0) return fail(errc::io_error);
        if (static_cast<std::uint64_t>(st.st_size) != size_ ||
            mtime_ns_of(st) != *sendable_mtime_ns_)
            return fail(errc::corrupt);  // changed while it was being sent
        done_ = true;
        fd_.reset();
        return {};
    }

  private:
    boost::system::result<std::size_t> read_body(std::span<char> buf) {
        const std::uint64_t remaining = size_ - pos_;
        // With room for one octet more than is left, one read also finds the end: a
        // regular file answers short only there, so a full answer means it grew.
        const std::size_t ask =
            buf.size() > remaining ? static_cast<std::size_t>(remaining) + 1 : buf.size();
        ssize_t n = read_some(buf.data(), ask);
        if (n < 0)
            return fail(errno_to_errc(errno) == errc::read_only ? errc::read_only : errc::io_error);
        if (n == 0) return fail(errc::corrupt);  // shorter than recorded: truncated
        const auto got = static_cast<std::size_t>(n);
        if (got > remaining) return fail(errc::corrupt);  // grew after the snapshot
        if (ask > remaining && got == remaining) end_seen_ = true;
        if (hash_) hash_->update(std::string_view(buf.data(), got));
        pos_ += got;
        return got;
    }

    ssize_t read_some(char* p, std::size_t n) {
        for (;;) {
            ssize_t got = ::read(fd_.get(), p, n);
            if (got >= 0 || errno != EINTR) return got;
        }
    }

    boost::system::error_code fail(errc e) {
        failed_ = e;
        fd_.reset();
        return failed_;
    }

    unique_fd fd_;
    std::uint64_t size_;
    std::uint64_t pos_ = 0;
    std::string fingerprint_;
    std::optional<std::int64_t> sendable_mtime_ns_;
    std::unique_ptr<sha256> hash_;
    boost::system::error_code failed_;
    bool end_seen_ = false;  // a read already found the end where it should be
    bool done_ = false;
};

}  // namespace

boost::system::result<std::unique_ptr<core::message_source>> open_file_source(
    const std::string& path, file_expectation expect) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        int err = errno;
        if (err == ELOOP) return errc::corrupt;  // a symbolic link is never served
        return errno_to_errc(err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errc::io_error;
    if (!S_ISREG(st.st_mode)) return errc::corrupt;
    if (static_cast<std::uint64_t>(st.st_size) != expect.size) return errc::corrupt;
    // Sequential reads of a big file: let the kernel read ahead generously.
    if (expect.size >= advise_from_size) ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    std::optional<std::int64_t> sendable;
    if (expect.wire_form_mtime_ns && *expect.wire_form_mtime_ns == mtime_ns_of(st))
        sendable = expect.wire_form_mtime_ns;
    return std::unique_ptr<core::message_source>(std::make_unique<file_source>(
        std::move(fd), expect.size, std::move(expect.fingerprint), sendable));
}

}  // namespace izypop3::store::detail
