#pragma once
// TLS on a connected TCP socket, with OpenSSL reading and writing the socket itself (a
// socket BIO on its descriptor, which is non-blocking) and the coroutine waiting for the
// socket only when OpenSSL says it must (SSL_ERROR_WANT_READ / WANT_WRITE).
//
// Why not asio::ssl::stream: that keeps OpenSSL on memory BIOs and copies every record
// between them and the socket through buffers of its own, 2 x 17 KiB per connection plus
// the BIO pair's, which an idle connection holds for its whole life. Here the only buffers
// are OpenSSL's record buffers, which SSL_MODE_RELEASE_BUFFERS gives back whenever they are
// empty, and records go from OpenSSL to the socket directly. With a descriptor OpenSSL can
// also hand a connection to kernel TLS (SSL_OP_ENABLE_KTLS, where the kernel has the "tls"
// module), and then send a file without reading it (SSL_sendfile).
//
// OpenSSL writes with write(2), so the first channel made sets SIGPIPE to be ignored (unless
// the program has a handler for it): a peer that went away is an error, not a signal.
//
// One operation at a time, on the thread of the socket's io_context (no other thread may
// run that context: a wait begins right after OpenSSL found the socket drained, which is
// what makes an edge-triggered readiness wait safe).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <tuple>

namespace izypop3::transport::detail {

class tls_channel {
  public:
    /// A TLS endpoint over `socket` (which must outlive it), server or client side, made
    /// from `ctx`. Sets the socket non-blocking. Check native_handle() for null (no memory).
    tls_channel(boost::asio::ip::tcp::socket& socket, SSL_CTX* ctx, bool server_side);
    ~tls_channel();
    tls_channel(const tls_channel&) = delete;
    tls_channel& operator=(const tls_channel&) = delete;

    SSL* native_handle() const noexcept { return ssl_; }
    /// Called before a write waits for room in the socket (to bound that wait).
    void on_write_wait(std::function<void()> f) { before_write_wait_ = std::move(f); }

    /// The handshake. A cancelled socket (a deadline) ends it with operation_aborted.
    boost::asio::awaitable<boost::system::error_code> handshake();
    /// At least one octet of application data, or an error: eof when the peer closed (with
    /// or without close_notify), operation_aborted when the socket was cancelled.
    boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(
        boost::asio::mutable_buffer buffer);
    /// All of `bytes`, or an error.
    boost::asio::awaitable<boost::system::error_code> write_all(boost::asio::const_buffer bytes);
    /// True when the kernel encrypts what is sent (kernel TLS): send_file() may be used.
    bool kernel_sends() const noexcept;
    /// `length` octets of file `fd` from `offset`, encrypted by the kernel (SSL_sendfile).
    /// Only when kernel_sends().
    boost::asio::awaitable<boost::system::error_code> send_file(int fd, std::uint64_t offset,
                                                                std::uint64_t length);
    /// Sends close_notify (once; does not wait for the peer's).
    boost::asio::awaitable<void> shutdown();

  private:
    // What an OpenSSL call that returned `ret` asks for: wait_read or wait_write (retry
    // after the wait), or an error to end the operation with.
    struct next_step {
        int wait = -1;  // a socket_base::wait_type, or -1: no wait, `error` decides
        boost::system::error_code error;
    };
    next_step after(int ret) const;
    // Waits for what `step` asks; true when the call is to be retried.
    boost::asio::awaitable<bool> wait(const next_step& step, boost::system::error_code& error);

    boost::asio::ip::tcp::socket& socket_;
    SSL* ssl_ = nullptr;
    std::function<void()> before_write_wait_;
};

}  // namespace izypop3::transport::detail
