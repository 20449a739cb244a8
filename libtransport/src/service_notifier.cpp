#include <izypop3/transport/service_notifier.hpp>

#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace izypop3::transport {

using boost::system::error_code;

namespace {
error_code last_error() {
    return {errno, boost::system::system_category()};
}
}  // namespace

boost::system::error_code notify_service_manager(std::string_view state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return {};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::size_t len = std::strlen(path);
    if (len >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@'))
        return make_error_code(boost::system::errc::invalid_argument);
    std::memcpy(addr.sun_path, path, len);
    if (path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return last_error();
    const auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
    const auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                               reinterpret_cast<const sockaddr*>(&addr), addr_len);
    const error_code ec = sent < 0 ? last_error() : error_code{};
    ::close(fd);
    return ec;
}

std::string reloading_state() {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return fmt::format("RELOADING=1\nMONOTONIC_USEC={}",
                       static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000);
}

}  // namespace izypop3::transport
