#pragma once
// The byte stream of one server connection: its TCP socket, and TLS over that socket once
// started (tls_channel). Besides reads and writes it can send part of a file without
// reading it: sendfile(2) on a plain connection, SSL_sendfile when the kernel does the TLS,
// and it says when it cannot (can_send_file), so that the caller reads the file instead.
//
// Writes on a plain connection go straight to the non-blocking socket and wait only when it
// is full; `more` (MSG_MORE) tells the kernel that the next write belongs to the same
// reply, so a status line and the file after it leave in full segments although the socket
// has TCP_NODELAY (which the server sets so that every complete reply leaves at once).

#include "tls_channel.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <tuple>

namespace izypop3::transport::detail {

class server_stream {
  public:
    explicit server_stream(boost::asio::ip::tcp::socket& socket) : socket_(socket) {}

    boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
    /// Called before a write waits for room in the socket (the caller bounds that wait;
    /// a write that goes out at once costs no timer).
    void on_write_wait(std::function<void()> f) { before_write_wait_ = std::move(f); }
    bool tls_active() const noexcept { return tls_ != nullptr; }
    SSL* tls_handle() const noexcept { return tls_ ? tls_->native_handle() : nullptr; }

    /// The TLS handshake as the server, over what was plain so far. Nothing may be
    /// buffered on the plain side: STLS has made the session drop what followed it.
    boost::asio::awaitable<boost::system::error_code> start_tls(SSL_CTX* ctx);
    boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(
        boost::asio::mutable_buffer buffer);
    /// All of `bytes`; with `more`, the kernel may hold a small tail for what follows.
    boost::asio::awaitable<boost::system::error_code> write(boost::asio::const_buffer bytes,
                                                            bool more = false);
    /// sendfile is possible: a plain connection, or kernel TLS.
    bool can_send_file() const noexcept { return !tls_ || tls_->kernel_sends(); }
    /// `length` octets of file `fd` from `offset`, without reading them into memory.
    boost::asio::awaitable<boost::system::error_code> send_file(int fd, std::uint64_t offset,
                                                                std::uint64_t length);
    /// TLS close_notify, when TLS is active.
    boost::asio::awaitable<void> close_tls();

  private:
    // Waits until the socket can take more (after EAGAIN).
    boost::asio::awaitable<boost::system::error_code> writable();

    boost::asio::ip::tcp::socket& socket_;
    std::unique_ptr<tls_channel> tls_;
    std::function<void()> before_write_wait_;
    bool non_blocking_ = false;
};

}  // namespace izypop3::transport::detail
