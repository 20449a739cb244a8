#include "tls_channel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <openssl/err.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <mutex>

namespace izypop3::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// OpenSSL's largest single write; bigger buffers go in several calls.
constexpr std::size_t max_write = std::numeric_limits<int>::max() / 2;

// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the peer has gone
// (Asio's own writes pass MSG_NOSIGNAL): a closed client must be an error, not the end of
// the process. A handler the program installed is left alone.
void ignore_sigpipe() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction old {};
        if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL)
            ::signal(SIGPIPE, SIG_IGN);
    });
}

}  // namespace

tls_channel::tls_channel(asio::ip::tcp::socket& socket, SSL_CTX* ctx, bool server_side)
    : socket_(socket), ssl_(SSL_new(ctx)) {
    if (!ssl_) return;
    ignore_sigpipe();
    error_code ignored;
    socket_.non_blocking(true, ignored);
    SSL_set_fd(ssl_, static_cast<int>(socket_.native_handle()));
    // A write may end part-way (the socket is full) and be continued from where it stopped.
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server_side) {
        SSL_set_accept_state(ssl_);
    } else {
        SSL_set_connect_state(ssl_);
    }
}

tls_channel::~tls_channel() {
    if (ssl_) SSL_free(ssl_);
}

tls_channel::next_step tls_channel::after(int ret) const {
    const int sys = errno;  // of the call that returned `ret`
    switch (SSL_get_error(ssl_, ret)) {
        case SSL_ERROR_NONE:
            return {};
        // OpenSSL met EAGAIN on the descriptor: the socket is drained (or full), so the next
        // readiness edge is still to come and a wait cannot miss it.
        case SSL_ERROR_WANT_READ:
            return {asio::ip::tcp::socket::wait_read, {}};
        case SSL_ERROR_WANT_WRITE:
            return {asio::ip::tcp::socket::wait_write, {}};
        case SSL_ERROR_ZERO_RETURN:
            return {-1, asio::error::eof};
        case SSL_ERROR_SYSCALL: {
            if (const unsigned long e = ERR_get_error())
                return {-1, error_code(static_cast<int>(e), asio::error::get_ssl_category())};
            // Nothing queued: the peer closed the connection mid-stream (or reset it).
            if (ret == 0 || sys == 0 || sys == ECONNRESET || sys == EPIPE)
                return {-1, asio::error::eof};
            return {-1, error_code(sys, boost::system::system_category())};
        }
        default: {
            const unsigned long e = ERR_get_error();
            // OpenSSL 3 reports a close without close_notify as an SSL error.
            if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
                return {-1, asio::error::eof};
            return {-1, error_code(static_cast<int>(e ? e : 1), asio::error::get_ssl_category())};
        }
    }
}

asio::awaitable<bool> tls_channel::wait(const next_step& step, error_code& error) {
    if (step.wait < 0) {
        error = step.error ? step.error : error_code(asio::error::eof);
        co_return false;
    }
    if (step.wait == asio::ip::tcp::socket::wait_write && before_write_wait_) before_write_wait_();
    // SSL_MODE_RELEASE_BUFFERS frees a record buffer only once a record in it was used up;
    // one set up for a read that found nothing would stay for as long as the client is
    // quiet (17 KiB a connection). Empty buffers go back before the wait.
    (void)SSL_free_buffers(ssl_);
    auto [ec] = co_await socket_.async_wait(
        static_cast<asio::ip::tcp::socket::wait_type>(step.wait), as_tuple_awaitable);
    error = ec;
    co_return !ec;
}

asio::awaitable<error_code> tls_channel::handshake() {
    if (!ssl_) co_return asio::error::no_memory;
    for (;;) {
        ERR_clear_error();
        const int r = SSL_do_handshake(ssl_);
        if (r == 1) co_return error_code{};
        error_code ec;
        if (!co_await wait(after(r), ec)) co_return ec;
    }
}

asio::awaitable<std::tuple<error_code, std::size_t>> tls_channel::read_some(
    asio::mutable_buffer buffer) {
    if (!ssl_) co_return std::tuple{error_code(asio::error::no_memory), std::size_t{0}};
    for (;;) {
        ERR_clear_error();
        std::size_t n = 0;
        const int r = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &n);
        if (r == 1) co_return std::tuple{error_code{}, n};
        error_code ec;
        if (!co_await wait(after(r), ec)) co_return std::tuple{ec, std::size_t{0}};
    }
}

asio::awaitable<error_code> tls_channel::write_all(asio::const_buffer bytes) {
    if (!ssl_) co_return asio::error::no_memory;
    const auto* p = static_cast<const char*>(bytes.data());
    std::size_t left = bytes.size();
    while (left > 0) {
        ERR_clear_error();
        std::size_t n = 0;
        const int r = SSL_write_ex(ssl_, p, std::min(left, max_write), &n);
        if (r == 1) {
            p += n;
            left -= n;
            continue;
        }
        error_code ec;
        if (!co_await wait(after(r), ec)) co_return ec;
    }
    co_return error_code{};
}

bool tls_channel::kernel_sends() const noexcept {
    return ssl_ && BIO_get_ktls_send(SSL_get_wbio(ssl_)) == 1;
}

asio::awaitable<error_code> tls_channel::send_file(int fd, std::uint64_t offset,
                                                   std::uint64_t length) {
    if (!kernel_sends()) co_return asio::error::operation_not_supported;
    while (length > 0) {
        ERR_clear_error();
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(length, max_write));
        const ossl_ssize_t r = SSL_sendfile(ssl_, fd, static_cast<off_t>(offset), want, 0);
        if (r > 0) {
            offset += static_cast<std::uint64_t>(r);
            length -= static_cast<std::uint64_t>(r);
            continue;
        }
        error_code ec;
        if (!co_await wait(after(static_cast<int>(r)), ec)) co_return ec;
    }
    co_return error_code{};
}

asio::awaitable<void> tls_channel::shutdown() {
    if (!ssl_) co_return;
    for (int tries = 0; tries < 4; ++tries) {
        ERR_clear_error();
        const int r = SSL_shutdown(ssl_);
        // 0: our close_notify is out; the peer's is not awaited.
        if (r >= 0) co_return;
        error_code ec;
        if (!co_await wait(after(r), ec)) co_return;
    }
}

}  // namespace izypop3::transport::detail
