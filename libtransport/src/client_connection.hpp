#pragma once
// The coroutine core of the client transport: one TCP connection with optional TLS, every
// wait bounded by a watchdog. Private to libtransport (it names Asio types); the public face
// is client_stream.hpp.

#include <izypop3/transport/client_stream.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <tuple>

namespace izypop3::transport::detail {

namespace asio = boost::asio;
using boost::system::error_code;

/// A TLS client context for `options`: TLS 1.2 at least, the CA file or the system store
/// loaded when the chain is to be checked. One context may serve many connections with the
/// same options (name checks and pins are per connection). `error_text` says what failed.
boost::system::result<std::shared_ptr<asio::ssl::context>> make_client_tls_context(
    const tls_client_options& options, std::string& error_text);

/// One connection. All calls on the executor given at construction, one operation at a
/// time. Errors are client_errc values (or system codes for socket failures) with
/// error_text() filled in for the user.
class client_connection {
public:
    /// `tls` may be null: a context is then made from the options when TLS starts.
    client_connection(asio::any_io_executor executor, client_stream_options options,
                      std::shared_ptr<asio::ssl::context> tls = nullptr);
    ~client_connection();
    client_connection(const client_connection&) = delete;
    client_connection& operator=(const client_connection&) = delete;

    asio::awaitable<error_code> connect();
    asio::awaitable<error_code> start_tls();
    /// At least one octet, or an error (EOF = client_errc::connection_closed).
    asio::awaitable<std::tuple<error_code, std::size_t>> read_some(asio::mutable_buffer buffer);
    asio::awaitable<error_code> write_all(asio::const_buffer bytes);
    /// Cancels the operation in progress and fails every later one with interrupted.
    void interrupt() noexcept;
    void close() noexcept;

    const std::string& error_text() const noexcept;
    const connection_info& info() const noexcept;
    const client_stream_options& options() const noexcept;

    struct state;

private:
    std::shared_ptr<state> st_;
};

}  // namespace izypop3::transport::detail
