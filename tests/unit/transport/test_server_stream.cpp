// server_stream and tls_channel on real loopback sockets: TLS with OpenSSL reading and
// writing the socket itself (both ends, byte for byte, in large and small pieces, and the
// peer's close), and sendfile on a plain connection. Kernel TLS is not assumed: where the
// machine lacks the "tls" module, can_send_file() must say so under TLS.

#include "server_stream.hpp"
#include "tls_channel.hpp"

#include <izypop3/transport/tls_identity.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>

namespace izypop3::transport::detail {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

struct ssl_ctx_free {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using ctx_ptr = std::unique_ptr<SSL_CTX, ssl_ctx_free>;

ctx_ptr server_ctx() {
    auto id = make_self_signed_identity("localhost");
    EXPECT_TRUE(id.has_value());
    ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
    BIO* cb =
        BIO_new_mem_buf(id->certificate_pem.data(), static_cast<int>(id->certificate_pem.size()));
    BIO* kb =
        BIO_new_mem_buf(id->private_key_pem.data(), static_cast<int>(id->private_key_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), cert), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), key), 1);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
    return ctx;
}

// A connected pair of loopback sockets on `io`.
std::pair<tcp::socket, tcp::socket> socket_pair(asio::io_context& io) {
    tcp::acceptor acc(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(io);
    client.connect(acc.local_endpoint());
    tcp::socket server = acc.accept();
    return {std::move(server), std::move(client)};
}

asio::awaitable<std::string> read_exactly(auto& reader, std::size_t n) {
    std::string got;
    char buf[3000];  // smaller than a record: the rest stays in OpenSSL's buffer
    while (got.size() < n) {
        auto [ec, k] =
            co_await reader.read_some(asio::buffer(buf, std::min(sizeof buf, n - got.size())));
        if (ec) break;
        got.append(buf, k);
    }
    co_return got;
}

TEST(ServerStream, TlsBothWaysByteForByteAndTheClose) {
    asio::io_context io(1);
    auto [ss, cs] = socket_pair(io);
    auto sctx = server_ctx();
    ctx_ptr cctx(SSL_CTX_new(TLS_client_method()));
    server_stream server(ss);
    tls_channel client(cs, cctx.get(), false);
    const std::string up = random_bytes(300000, 1), down = random_bytes(5 * 1024 * 1024 + 7, 2);
    std::string got_up, got_down;
    error_code server_hs, client_hs, after_close;
    std::size_t after_close_n = 1;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            server_hs = co_await server.start_tls(sctx.get());
            got_up = co_await read_exactly(server, up.size());
            EXPECT_FALSE(co_await server.write(asio::buffer(down)));
            std::tie(after_close, after_close_n) =
                co_await server.read_some(asio::buffer(&after_close_n, 1));
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            client_hs = co_await client.handshake();
            EXPECT_FALSE(co_await client.write_all(asio::buffer(up)));
            got_down = co_await read_exactly(client, down.size());
            co_await client.shutdown();
            error_code ignored;
            cs.close(ignored);
        },
        asio::detached);
    io.run();
    EXPECT_FALSE(server_hs) << server_hs.message();
    EXPECT_FALSE(client_hs) << client_hs.message();
    EXPECT_TRUE(got_up == up);
    EXPECT_TRUE(got_down == down);
    EXPECT_EQ(after_close, asio::error::eof) << after_close.message();
    EXPECT_EQ(after_close_n, 0u);
    EXPECT_TRUE(server.tls_active());
}

TEST(ServerStream, APeerThatClosesWithoutCloseNotifyIsAnEnd) {
    asio::io_context io(1);
    auto [ss, cs] = socket_pair(io);
    auto sctx = server_ctx();
    ctx_ptr cctx(SSL_CTX_new(TLS_client_method()));
    server_stream server(ss);
    tls_channel client(cs, cctx.get(), false);
    error_code read_ec;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            EXPECT_FALSE(co_await server.start_tls(sctx.get()));
            char b[16];
            std::tie(read_ec, std::ignore) = co_await server.read_some(asio::buffer(b));
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            EXPECT_FALSE(co_await client.handshake());
            error_code ignored;
            cs.close(ignored);  // no close_notify
        },
        asio::detached);
    io.run();
    EXPECT_EQ(read_ec, asio::error::eof) << read_ec.message();
}

TEST(ServerStream, PlainSendFileSendsTheRegionAfterWhatWasWritten) {
    asio::io_context io(1);
    auto [ss, cs] = socket_pair(io);
    const std::string content = random_bytes(3 * 1024 * 1024 + 11, 3);
    char path[] = "/tmp/izypop3-stream-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::unlink(path);
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    server_stream server(ss);
    EXPECT_TRUE(server.can_send_file());
    std::string got;
    const std::size_t from = 5, length = content.size() - 9;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            EXPECT_FALSE(co_await server.write(asio::buffer(std::string_view("+OK\r\n")), true));
            EXPECT_FALSE(co_await server.send_file(fd, from, length));
            EXPECT_FALSE(co_await server.write(asio::buffer(std::string_view(".\r\n"))));
            error_code ignored;
            ss.shutdown(tcp::socket::shutdown_send, ignored);
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            char b[65536];
            for (;;) {
                auto [ec, n] = co_await cs.async_read_some(asio::buffer(b), as_tuple_awaitable);
                if (ec) break;
                got.append(b, n);
            }
        },
        asio::detached);
    io.run();
    ::close(fd);
    EXPECT_TRUE(got == "+OK\r\n" + content.substr(from, length) + ".\r\n");
}

TEST(ServerStream, UnderTlsWithoutKernelTlsFilesAreNotSent) {
    // This machine's kernel has no "tls" module (CI's neither): OpenSSL keeps the records
    // in user space, and the stream says sendfile is not possible, so the server reads.
    asio::io_context io(1);
    auto [ss, cs] = socket_pair(io);
    auto sctx = server_ctx();
    SSL_CTX_set_options(sctx.get(), SSL_OP_ENABLE_KTLS);
    ctx_ptr cctx(SSL_CTX_new(TLS_client_method()));
    server_stream server(ss);
    tls_channel client(cs, cctx.get(), false);
    bool kernel_tls_here = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            EXPECT_FALSE(co_await server.start_tls(sctx.get()));
            kernel_tls_here = BIO_get_ktls_send(SSL_get_wbio(server.tls_handle())) == 1;
        },
        asio::detached);
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { EXPECT_FALSE(co_await client.handshake()); },
        asio::detached);
    io.run();
    EXPECT_EQ(server.can_send_file(), kernel_tls_here);
}

}  // namespace
}  // namespace izypop3::transport::detail
