#include "common/staged_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace izypop3::app {

std::optional<staged_file> staged_file::create(std::string path, std::string& why) {
    std::string temp = path + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        why = "cannot create " + temp + ": " + std::strerror(errno);
        return std::nullopt;
    }
    return staged_file(std::move(path), std::move(temp), fd);
}

staged_file::staged_file(std::string path, std::string temp, int fd) noexcept
    : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}

staged_file::staged_file(staged_file&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::exchange(other.temp_, std::string())),
      fd_(std::exchange(other.fd_, -1)) {}

staged_file::~staged_file() {
    if (fd_ >= 0) ::close(fd_);
    if (!temp_.empty()) ::unlink(temp_.c_str());
}

bool staged_file::commit(std::string_view text, std::string& why) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd_, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            why = "cannot write " + temp_ + ": " + std::strerror(errno);
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    const int closed = ::close(std::exchange(fd_, -1));
    if (closed != 0) {
        why = "cannot write " + temp_ + ": " + std::strerror(errno);
        return false;
    }
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
        why = "cannot rename " + temp_ + " to " + path_ + ": " + std::strerror(errno);
        return false;
    }
    temp_.clear();
    return true;
}

}  // namespace izypop3::app
