// The operator's HTTP endpoints on Boost.Beast: one io_context on one thread, a coroutine
// per connection, keep-alive, and a small pool where the handler runs (it may query the
// store). Every read and write has the request deadline; a request over the size limit, or
// not GET/HEAD, gets its error status and nothing reaches the handler.

#include <izypop3/transport/http_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <fmt/format.h>

#include <atomic>
#include <optional>
#include <thread>

namespace izypop3::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);
}

struct http_server::impl {
    http_options opt;
    http_handler handler;
    logger log;
    asio::io_context io{1};
    asio::thread_pool workers{2};
    std::optional<tcp::acceptor> acceptor;
    std::atomic<std::size_t> open{0};
    std::thread thread;

    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(beast::tcp_stream stream);
    asio::awaitable<http_reply> answer(std::string path);
    http::response<http::string_body> respond(const http::request<http::empty_body>& req,
                                              http_reply reply) const;
};

// Runs the handler on the worker pool and resumes on the connection's thread.
asio::awaitable<http_reply> http_server::impl::answer(std::string path) {
    return asio::async_initiate<const asio::use_awaitable_t<>, void(http_reply)>(
        [this](auto done, std::string p) {
            auto ex = asio::get_associated_executor(done);
            asio::post(workers, [this, done = std::move(done), p = std::move(p), ex]() mutable {
                http_reply r;
                try {
                    r = handler(p);
                } catch (const std::exception& e) {
                    r = {500, "text/plain; charset=utf-8",
                         std::string("internal error: ") + e.what() + "\n"};
                }
                asio::post(ex, [done = std::move(done), r = std::move(r)]() mutable {
                    std::move(done)(std::move(r));
                });
            });
        },
        asio::use_awaitable, std::move(path));
}

http::response<http::string_body> http_server::impl::respond(
    const http::request<http::empty_body>& req, http_reply reply) const {
    http::response<http::string_body> res{static_cast<http::status>(reply.status), req.version()};
    res.set(http::field::server, "izypop3");
    res.set(http::field::content_type, reply.content_type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    if (reply.status == 405) res.set(http::field::allow, "GET, HEAD");
    res.keep_alive(req.keep_alive());
    res.content_length(reply.body.size());
    // HEAD: the length of the body GET would send, and no body.
    if (req.method() != http::verb::head) res.body() = std::move(reply.body);
    return res;
}

asio::awaitable<void> http_server::impl::serve(beast::tcp_stream stream) {
    beast::flat_buffer buffer(opt.max_request_octets);
    for (;;) {
        http::request_parser<http::empty_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(opt.max_request_octets));
        parser.body_limit(opt.max_request_octets);
        stream.expires_after(opt.request_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, as_tuple_awaitable);
        if (ec == http::error::end_of_stream) break;
        std::optional<http_reply> early;
        if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
            early = http_reply{431, "text/plain; charset=utf-8", "request header too large\n"};
        } else if (ec == http::error::body_limit) {
            early = http_reply{413, "text/plain; charset=utf-8", "request body too large\n"};
        } else if (ec) {
            if (ec != beast::error::timeout && ec != asio::error::connection_reset)
                log.debug("HTTP: closing a connection: {}", ec.message());
            break;
        }
        const auto& req = parser.get();
        http_reply reply;
        if (early) {
            reply = std::move(*early);
        } else if (req.method() != http::verb::get && req.method() != http::verb::head) {
            reply = {405, "text/plain; charset=utf-8", "only GET and HEAD\n"};
        } else {
            const std::string_view target = req.target();
            reply = co_await answer(std::string(target.substr(0, target.find('?'))));
        }
        auto res = respond(req, std::move(reply));
        if (early) res.keep_alive(false);
        stream.expires_after(opt.request_timeout);
        auto [wec, wn] = co_await http::async_write(stream, res, as_tuple_awaitable);
        if (wec || !res.keep_alive()) break;
    }
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> http_server::impl::accept_loop() {
    for (;;) {
        auto [ec, sock] = co_await acceptor->async_accept(as_tuple_awaitable);
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        if (ec) continue;
        if (open >= opt.max_connections) {
            log.warn("HTTP: refusing a connection: {} open (the limit)", open.load());
            continue;  // the socket closes as it goes out of scope
        }
        ++open;
        asio::co_spawn(io, serve(beast::tcp_stream(std::move(sock))),
                       [this](std::exception_ptr) { --open; });
    }
}

http_server::http_server(http_options options, http_handler handler, logger log)
    : impl_(std::make_unique<impl>()) {
    impl_->opt = std::move(options);
    impl_->handler = std::move(handler);
    impl_->log = std::move(log);
}

http_server::~http_server() {
    stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->workers.join();
}

error_code http_server::start(std::string& error_text) {
    auto& d = *impl_;
    error_code ec;
    const auto address = asio::ip::make_address(d.opt.host, ec);
    if (ec) {
        error_text = fmt::format("http.host '{}' is not an IP address; use e.g. 127.0.0.1 or ::1",
                                 d.opt.host);
        return ec;
    }
    const tcp::endpoint ep(address, d.opt.port);
    d.acceptor.emplace(d.io);
    d.acceptor->open(ep.protocol(), ec);
    if (!ec && address.is_v6()) d.acceptor->set_option(asio::ip::v6_only(false), ec);
    if (!ec) d.acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) d.acceptor->bind(ep, ec);
    if (!ec) d.acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        error_text = fmt::format("cannot listen for HTTP on [{}]:{}: {}", d.opt.host, d.opt.port,
                                 ec.message());
        return ec;
    }
    asio::co_spawn(d.io, d.accept_loop(), asio::detached);
    return {};
}

void http_server::serve_in_background() {
    impl_->thread = std::thread([d = impl_.get()] { d->io.run(); });
}

void http_server::stop() {
    asio::post(impl_->io, [d = impl_.get()] {
        if (d->acceptor) {
            error_code ignored;
            d->acceptor->close(ignored);
        }
        d->io.stop();
    });
}

std::uint16_t http_server::port() const noexcept {
    if (!impl_->acceptor) return 0;
    error_code ec;
    const auto ep = impl_->acceptor->local_endpoint(ec);
    return ec ? 0 : ep.port();
}

}  // namespace izypop3::transport
