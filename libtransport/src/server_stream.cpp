#include "server_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace izypop3::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// sendfile(2) moves at most this much per call.
constexpr std::uint64_t max_sendfile = 0x7ffff000;

}  // namespace

asio::awaitable<error_code> server_stream::start_tls(SSL_CTX* ctx) {
    tls_ = std::make_unique<tls_channel>(socket_, ctx, true);
    tls_->on_write_wait(before_write_wait_);
    non_blocking_ = true;  // the channel made it so
    co_return co_await tls_->handshake();
}

asio::awaitable<std::tuple<error_code, std::size_t>> server_stream::read_some(
    asio::mutable_buffer buffer) {
    if (tls_) co_return co_await tls_->read_some(buffer);
    // Asio reads at once when the last read left data behind, and otherwise waits for the
    // socket first: one read a command.
    co_return co_await socket_.async_read_some(buffer, as_tuple_awaitable);
}

asio::awaitable<error_code> server_stream::writable() {
    if (before_write_wait_) before_write_wait_();
    auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, as_tuple_awaitable);
    co_return ec;
}

asio::awaitable<error_code> server_stream::write(asio::const_buffer bytes, bool more) {
    if (tls_) co_return co_await tls_->write_all(bytes);
    if (!non_blocking_) {
        error_code ec;
        socket_.non_blocking(true, ec);
        if (ec) co_return ec;
        non_blocking_ = true;
    }
    const auto* p = static_cast<const char*>(bytes.data());
    std::size_t left = bytes.size();
    const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
    while (left > 0) {
        const ssize_t n = ::send(socket_.native_handle(), p, left, flags);
        if (n >= 0) {
            p += n;
            left -= static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            co_return error_code(errno, boost::system::system_category());
        // EAGAIN: the socket is full, so the edge that says it has room is still to come.
        if (auto ec = co_await writable()) co_return ec;
    }
    co_return error_code{};
}

asio::awaitable<error_code> server_stream::send_file(int fd, std::uint64_t offset,
                                                     std::uint64_t length) {
    if (tls_) co_return co_await tls_->send_file(fd, offset, length);
    if (!non_blocking_) {
        error_code ec;
        socket_.non_blocking(true, ec);
        if (ec) co_return ec;
        non_blocking_ = true;
    }
    auto at = static_cast<off_t>(offset);
    while (length > 0) {
        const ssize_t n = ::sendfile(socket_.native_handle(), fd, &at,
                                     static_cast<std::size_t>(std::min(length, max_sendfile)));
        if (n > 0) {
            length -= static_cast<std::uint64_t>(n);
            continue;
        }
        if (n == 0) co_return asio::error::eof;  // the file ended early: it was truncated
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            co_return error_code(errno, boost::system::system_category());
        if (auto ec = co_await writable()) co_return ec;
    }
    co_return error_code{};
}

asio::awaitable<void> server_stream::close_tls() {
    if (tls_) co_await tls_->shutdown();
}

}  // namespace izypop3::transport::detail
