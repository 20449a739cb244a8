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

class file_source final : public core::message_source {
public:
    file_source(unique_fd fd, std::uint64_t size, std::string fingerprint)
        : fd_(std::move(fd)), size_(size), fingerprint_(std::move(fingerprint)) {
        if (!fingerprint_.empty()) hash_ = std::make_unique<sha256>();
    }

    boost::system::result<std::size_t> read(std::span<char> buf) override {
        if (failed_) return failed_;
        if (done_ || buf.empty()) return std::size_t{0};
        if (pos_ < size_) {
            std::size_t want = static_cast<std::size_t>(
                std::min<std::uint64_t>(buf.size(), size_ - pos_));
            ssize_t n = read_some(buf.data(), want);
            if (n < 0) return fail(errno_to_errc(errno) == errc::read_only ? errc::read_only
                                                                           : errc::io_error);
            if (n == 0) return fail(errc::corrupt);  // shorter than recorded: truncated
            if (hash_) hash_->update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
            pos_ += static_cast<std::uint64_t>(n);
            return static_cast<std::size_t>(n);
        }
        // At the recorded size the file must end, and hold the recorded octets.
        char extra = 0;
        ssize_t n = read_some(&extra, 1);
        if (n < 0) return fail(errc::io_error);
        if (n > 0) return fail(errc::corrupt);  // grew after the snapshot
        if (hash_ && hash_->hex_digest() != fingerprint_) return fail(errc::corrupt);
        hash_.reset();
        done_ = true;
        fd_.reset();
        return std::size_t{0};
    }

private:
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
    std::unique_ptr<sha256> hash_;
    boost::system::error_code failed_;
    bool done_ = false;
};

}  // namespace

boost::system::result<std::unique_ptr<core::message_source>> open_file_source(
    const std::string& path, std::uint64_t size, std::string fingerprint) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) {
        int err = errno;
        if (err == ELOOP) return errc::corrupt;  // a symbolic link is never served
        return errno_to_errc(err);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errc::io_error;
    if (!S_ISREG(st.st_mode)) return errc::corrupt;
    if (static_cast<std::uint64_t>(st.st_size) != size) return errc::corrupt;
    // Sequential reads: let the kernel read ahead generously.
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return std::unique_ptr<core::message_source>(
        std::make_unique<file_source>(std::move(fd), size, std::move(fingerprint)));
}

}  // namespace izypop3::store::detail
