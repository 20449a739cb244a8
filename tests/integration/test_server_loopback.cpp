// transport::server on loopback, driven by a raw blocking client: the bytes on a real socket,
// plain, STLS and implicit TLS, with the fake store behind it.

#include <izypop3/core/dot_unstuffer.hpp>
#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>
#include <izypop3/transport/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace izypop3;

// A server on free loopback ports, running on its own thread for one test.
class loopback_server {
public:
    explicit loopback_server(transport::server_options opt = {}) {
        store::store_config cfg;
        auto made = store::make_store(cfg, error_);
        EXPECT_TRUE(made) << error_;
        store_ = std::move(*made);
        opt.host = "127.0.0.1";
        opt.pick_free_ports = true;
        opt.tls_port = 1;  // any non-zero value asks for TLS; the port itself is picked
        opt.threads = 1;
        transport::server_hooks hooks;
        hooks.verify_password = [](std::string_view, std::string_view pw) {
            return pw == "12345" ? core::auth_outcome::accepted : core::auth_outcome::rejected;
        };
        hooks.lookup_secret = [](std::string_view) {
            core::sasl::stored_secret s;
            s.plaintext = "12345";
            return std::optional(s);
        };
        hooks.secret_forms.plaintext = true;
        hooks.open_maildrop = [this](std::string_view user)
            -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
            auto md = store_->open_maildrop(user);
            if (!md) return store::to_maildrop_failure(md.error());
            return std::move(*md);
        };
        transport::logger log(transport::log_level::warn, [](transport::log_level,
                                                             std::string_view) {});
        server_ = std::make_unique<transport::server>(opt, hooks, log);
        auto ec = server_->start(error_);
        EXPECT_FALSE(ec) << error_;
        thread_ = std::thread([this] { server_->run(false); });
    }
    ~loopback_server() {
        server_->stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }
    std::uint16_t tls_port() const { return server_->tls_port(); }
    store::mime_store& data() { return *store_; }
    transport::server& srv() { return *server_; }

private:
    std::string error_;
    std::unique_ptr<store::mime_store> store_;
    std::unique_ptr<transport::server> server_;
    std::thread thread_;
};

// A blocking POP3 client over plain TCP or TLS, reading line by line.
class raw_client {
public:
    explicit raw_client(std::uint16_t port) : sock_(io_) {
        sock_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    void start_tls() {
        ctx_.set_verify_mode(asio::ssl::verify_none);
        tls_.emplace(sock_, ctx_);
        tls_->handshake(asio::ssl::stream_base::client);
    }
    void send(std::string_view bytes) {
        if (tls_)
            asio::write(*tls_, asio::buffer(bytes));
        else
            asio::write(sock_, asio::buffer(bytes));
    }
    std::string line() {
        boost::system::error_code ec;
        std::size_t n = tls_ ? asio::read_until(*tls_, buf_, "\r\n", ec)
                             : asio::read_until(sock_, buf_, "\r\n", ec);
        if (ec) return "<" + ec.message() + ">";
        std::string l(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n - 2);
        buf_.consume(n);
        return l;
    }
    // Reads a multi-line body up to its terminator and returns the unstuffed octets.
    std::string body() {
        core::dot_unstuffer d;
        std::string out;
        for (;;) {
            std::string l = line();
            if (l.starts_with("<")) return out + l;
            l += "\r\n";
            auto p = d.decode(l, out);
            if (p.done) return out;
        }
    }
    bool closed_by_peer() {
        boost::system::error_code ec;
        char c;
        if (buf_.size()) return false;
        if (tls_)
            tls_->read_some(asio::buffer(&c, 1), ec);
        else
            sock_.read_some(asio::buffer(&c, 1), ec);
        return static_cast<bool>(ec);
    }

private:
    asio::io_context io_;
    tcp::socket sock_;
    asio::ssl::context ctx_{asio::ssl::context::tls_client};
    std::optional<asio::ssl::stream<tcp::socket&>> tls_;
    asio::streambuf buf_;
};

std::string message_octets(store::mime_store& s, std::size_t index) {
    store::query_options q;
    q.limit = store::query_options::unlimited;
    auto r = s.query(q);
    auto all = store::read_all(s, r->items.at(index));
    return *all;
}

TEST(server_loopback, greeting_login_and_retr_byte_exact) {
    loopback_server srv;
    raw_client c(srv.port());
    EXPECT_TRUE(c.line().starts_with("+OK POP3 Server ready <"));
    c.send("USER anyone\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    c.send("PASS 12345\r\n");
    EXPECT_EQ(c.line(), "+OK You are now logged in");
    c.send("RETR 1\r\n");
    EXPECT_TRUE(c.line().ends_with(" octets"));
    EXPECT_EQ(c.body(), message_octets(srv.data(), 0));
    c.send("QUIT\r\n");
    EXPECT_TRUE(c.line().starts_with("+OK"));
}

TEST(server_loopback, bad_login_is_delayed_and_refused) {
    loopback_server srv;
    raw_client c(srv.port());
    c.line();
    c.send("USER baduser\r\nPASS badpass\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(c.line(), "-ERR [AUTH] Invalid login");
    // The failure delay is part of the behaviour (not a speed target): it must be there.
    EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1500));
}

TEST(server_loopback, stls_discards_pipelined_plaintext) {
    loopback_server srv;
    raw_client c(srv.port());
    c.line();
    // SECURITY S01: NOOP rides in the same segment as STLS and must never be answered.
    c.send("STLS\r\nNOOP\r\n");
    EXPECT_EQ(c.line(), "+OK Begin TLS negotiation");
    c.start_tls();
    c.send("CAPA\r\n");
    EXPECT_EQ(c.line(), "+OK Capability list follows");
    std::string caps;
    for (std::string l = c.line(); l != "."; l = c.line()) caps += l + "\n";
    EXPECT_EQ(caps.find("STLS"), std::string::npos);
    EXPECT_NE(caps.find("USER"), std::string::npos);
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "-ERR TLS is already active");
}

TEST(server_loopback, implicit_tls_retr_and_dele_quit) {
    loopback_server srv;
    raw_client c(srv.tls_port());
    c.start_tls();
    EXPECT_TRUE(c.line().starts_with("+OK POP3 Server ready"));
    c.send("USER u\r\nPASS 12345\r\nSTAT\r\nDELE 2\r\nQUIT\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    EXPECT_EQ(c.line(), "+OK You are now logged in");
    EXPECT_TRUE(c.line().starts_with("+OK 99 "));
    EXPECT_EQ(c.line(), "+OK Message 2 deleted");
    EXPECT_EQ(c.line(), "+OK izypop3 signing off (1 messages deleted)");
    store::query_options q;
    q.limit = 0;
    q.mailbox = "u";  // the fake store gives each user a maildrop of their own
    EXPECT_EQ(srv.data().query(q)->count, 98u);
}

TEST(server_loopback, dropped_connection_deletes_nothing) {
    loopback_server srv;
    {
        raw_client c(srv.port());
        c.line();
        c.send("USER u\r\nPASS 12345\r\nDELE 1\r\nDELE 2\r\n");
        c.line();
        c.line();
        EXPECT_EQ(c.line(), "+OK Message 1 deleted");
        EXPECT_EQ(c.line(), "+OK Message 2 deleted");
    }  // SECURITY S16: TCP close without QUIT
    // The maildrop lock is released when the server notices the drop; then nothing is gone.
    for (int i = 0; i < 50; ++i) {
        raw_client c(srv.port());
        c.line();
        c.send("USER u\r\nPASS 12345\r\n");
        c.line();
        const std::string reply = c.line();
        if (reply.starts_with("-ERR [IN-USE]")) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            continue;
        }
        EXPECT_EQ(reply, "+OK You are now logged in");
        c.send("STAT\r\n");
        EXPECT_TRUE(c.line().starts_with("+OK 99 "));
        return;
    }
    FAIL() << "the maildrop stayed locked after the client went away";
}

TEST(server_loopback, second_session_gets_in_use) {
    loopback_server srv;
    raw_client a(srv.port());
    a.line();
    a.send("USER same\r\nPASS 12345\r\n");
    a.line();
    EXPECT_EQ(a.line(), "+OK You are now logged in");
    raw_client b(srv.port());
    b.line();
    b.send("USER same\r\nPASS 12345\r\n");
    b.line();
    EXPECT_TRUE(b.line().starts_with("-ERR [IN-USE]"));
}

TEST(server_loopback, idle_timeout_closes_without_update) {
    transport::server_options opt;
    opt.idle_timeout = std::chrono::seconds(1);
    loopback_server srv(opt);
    raw_client c(srv.port());
    c.line();
    c.send("USER u\r\nPASS 12345\r\nDELE 1\r\n");
    c.line();
    c.line();
    c.line();
    EXPECT_EQ(c.line(), "-ERR Autologout; idle for too long");
    EXPECT_TRUE(c.closed_by_peer());
    store::query_options q;
    q.limit = 0;
    q.mailbox = "u";  // the fake store gives each user a maildrop of their own
    EXPECT_EQ(srv.data().query(q)->count, 99u);
}

TEST(server_loopback, shutdown_closes_sessions_without_deleting) {
    auto srv = std::make_unique<loopback_server>();
    raw_client c(srv->port());
    c.line();
    c.send("USER u\r\nPASS 12345\r\nDELE 1\r\n");
    c.line();
    c.line();
    c.line();
    srv->srv().stop();
    EXPECT_TRUE(c.line().starts_with("-ERR [SYS/TEMP] Server is shutting down"));
    EXPECT_TRUE(c.closed_by_peer());
    store::query_options q;
    q.limit = 0;
    q.mailbox = "u";  // the fake store gives each user a maildrop of their own
    EXPECT_EQ(srv->data().query(q)->count, 99u);
}

TEST(server_loopback, overlong_line_gets_one_error) {
    loopback_server srv;
    raw_client c(srv.port());
    c.line();
    c.send(std::string(100 * 1024, 'A') + "\r\nNOOP\r\n");  // SECURITY S08
    EXPECT_EQ(c.line(), "-ERR Line too long");
    EXPECT_TRUE(c.line().starts_with("-ERR NOOP"));  // still alive, NOOP is pre-login -ERR
}

}  // namespace
