// client_stream: the blocking facade. Each call runs one coroutine of client_connection on a
// private io_context in the calling thread, until it completes.

#include "client_connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <exception>
#include <optional>

namespace izypop3::transport {

namespace asio = boost::asio;
using boost::system::error_code;

struct client_stream::impl {
    explicit impl(client_stream_options o) : conn(io.get_executor(), std::move(o)) {}

    // Declared first so it is destroyed last: the connection's socket and timer need it.
    asio::io_context io{1};
    detail::client_connection conn;

    template <class T>
    T run(asio::awaitable<T> op) {
        std::optional<T> result;
        std::exception_ptr failure;
        asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, T value) {
            failure = e;
            if (!e) result.emplace(std::move(value));
        });
        io.restart();
        io.run();
        if (failure) std::rethrow_exception(failure);
        return std::move(*result);
    }
};

client_stream::client_stream(client_stream_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

client_stream::~client_stream() = default;

error_code client_stream::connect() {
    auto ec = impl_->run(impl_->conn.connect());
    if (ec) impl_->conn.close();
    return ec;
}

error_code client_stream::start_tls() {
    auto ec = impl_->run(impl_->conn.start_tls());
    if (ec) impl_->conn.close();
    return ec;
}

error_code client_stream::write_all(std::string_view bytes) {
    auto ec = impl_->run(impl_->conn.write_all(asio::buffer(bytes.data(), bytes.size())));
    if (ec) impl_->conn.close();
    return ec;
}

boost::system::result<std::size_t> client_stream::read_some(char* data, std::size_t size) {
    auto [ec, n] = impl_->run(impl_->conn.read_some(asio::buffer(data, size)));
    if (ec) {
        impl_->conn.close();
        return ec;
    }
    return n;
}

void client_stream::close() noexcept { impl_->conn.close(); }

void client_stream::interrupt() noexcept {
    // Posted: the connection belongs to the thread running its io_context. If no call is
    // running, the handler runs first thing in the next one and fails it.
    asio::post(impl_->io, [i = impl_.get()] { i->conn.interrupt(); });
}

const std::string& client_stream::error_text() const noexcept { return impl_->conn.error_text(); }
const connection_info& client_stream::info() const noexcept { return impl_->conn.info(); }

}  // namespace izypop3::transport
