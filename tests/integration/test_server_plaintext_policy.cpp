// The cleartext policy as the transport applies it (SECURITY S03/S04/S25, `allowplaintext
// loopback|true|false`): from a non-loopback address on an unencrypted connection, USER/PASS,
// AUTH PLAIN and AUTH LOGIN and APOP are refused and CAPA does not list them, unless the
// policy is `always`; loopback peers may use them under `loopback`, nobody under `never`;
// TLS sessions always may. The session rules themselves are transcript-tested in
// test_server_session.cpp; here the real server decides who is "loopback".
//
// The test needs one address of this machine that is not loopback (any interface that is
// up), because the peer address is what the policy looks at. Without one it fails.

#include <izypop3/core/server_session.hpp>
#include <izypop3/transport/server.hpp>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace izypop3;

// An IPv4 address of an interface that is up and not loopback, else a global IPv6 one.
std::optional<std::string> non_loopback_address() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return std::nullopt;
    std::optional<std::string> v4, v6;
    for (auto* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || !(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK)) continue;
        char text[INET6_ADDRSTRLEN] = {};
        if (a->ifa_addr->sa_family == AF_INET && !v4) {
            sockaddr_in sin{};
            std::memcpy(&sin, a->ifa_addr, sizeof sin);
            if (::inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text)) v4 = text;
        } else if (a->ifa_addr->sa_family == AF_INET6 && !v6) {
            sockaddr_in6 sin6{};
            std::memcpy(&sin6, a->ifa_addr, sizeof sin6);
            if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr) || IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr))
                continue;
            if (::inet_ntop(AF_INET6, &sin6.sin6_addr, text, sizeof text)) v6 = text;
        }
    }
    ::freeifaddrs(list);
    return v4 ? v4 : v6;
}

class policy_server {
  public:
    policy_server(const std::string& host, transport::cleartext_policy cleartext) {
        transport::server_options opt;
        opt.host = host;
        opt.pick_free_ports = true;
        opt.tls_port = 1;  // TLS wanted: STLS is offered on the plain port
        opt.threads = 1;
        opt.cleartext = cleartext;
        transport::server_hooks hooks;
        hooks.verify_password = [](std::string_view user, std::string_view pw) {
            return user == "alice" && pw == "wonderland" ? core::auth_outcome::accepted
                                                         : core::auth_outcome::rejected;
        };
        hooks.lookup_secret = [](std::string_view) {
            core::sasl::stored_secret s;
            s.plaintext = "wonderland";
            return std::optional(s);
        };
        hooks.secret_forms.plaintext = true;
        hooks.open_maildrop = [](std::string_view)
            -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
            return core::maildrop_failure::temporary;  // logging in is all these tests do
        };
        server_ = std::make_unique<transport::server>(
            opt, hooks,
            transport::logger(transport::log_level::error,
                              [](transport::log_level, std::string_view) {}));
        std::string error;
        const auto ec = server_->start(error);
        EXPECT_FALSE(ec) << error;
        thread_ = std::thread([this] { server_->run(false); });
    }
    ~policy_server() {
        server_->stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }

  private:
    std::unique_ptr<transport::server> server_;
    std::thread thread_;
};

class client {
  public:
    client(const std::string& host, std::uint16_t port) : sock_(io_) {
        sock_.connect(tcp::endpoint(asio::ip::make_address(host), port));
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
        const std::size_t n = tls_ ? asio::read_until(*tls_, buf_, "\r\n", ec)
                                   : asio::read_until(sock_, buf_, "\r\n", ec);
        if (ec) return "<" + ec.message() + ">";
        std::string l(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n - 2);
        buf_.consume(n);
        return l;
    }
    // The CAPA lines between the status line and ".", for the authorization state.
    std::vector<std::string> capa() {
        send("CAPA\r\n");
        std::vector<std::string> out;
        EXPECT_EQ(line(), "+OK Capability list follows");
        for (std::string l = line(); l != "." && !l.starts_with("<"); l = line()) out.push_back(l);
        return out;
    }

  private:
    asio::io_context io_;
    tcp::socket sock_;
    asio::ssl::context ctx_{asio::ssl::context::tls_client};
    std::optional<asio::ssl::stream<tcp::socket&>> tls_;
    asio::streambuf buf_;
};

bool has(const std::vector<std::string>& caps, std::string_view line) {
    return std::find(caps.begin(), caps.end(), line) != caps.end();
}

const std::string cleartext_refused =
    "-ERR [AUTH] Cleartext login refused on an unencrypted connection; use STLS or the TLS "
    "port first";
const std::string cleartext_mech_refused =
    "-ERR [AUTH] Cleartext mechanism refused on an unencrypted connection; use STLS or the TLS "
    "port first";

std::string address_or_fail() {
    const auto a = non_loopback_address();
    if (!a)
        ADD_FAILURE() << "this machine has no non-loopback address that is up; the cleartext "
                         "policy test connects to one (bring up any network interface)";
    return a.value_or("127.0.0.1");
}

TEST(server_plaintext_policy, non_loopback_peer_without_tls_gets_no_cleartext_login) {
    const std::string host = address_or_fail();
    policy_server srv(host, transport::cleartext_policy::loopback);
    client c(host, srv.port());
    // No APOP timestamp where APOP would be refused (S25).
    EXPECT_EQ(c.line(), "+OK POP3 Server ready");
    const auto caps = c.capa();
    EXPECT_FALSE(has(caps, "USER"));
    EXPECT_TRUE(has(caps, "SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5"));
    EXPECT_TRUE(has(caps, "STLS"));
    c.send("USER alice\r\n");
    EXPECT_EQ(c.line(), cleartext_refused);
    c.send("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    EXPECT_EQ(c.line(), cleartext_mech_refused);
    c.send("AUTH\r\n");
    EXPECT_EQ(c.line(), "+OK Supported mechanisms follow");
    EXPECT_EQ(c.line(), "SCRAM-SHA-256");
    EXPECT_EQ(c.line(), "SCRAM-SHA-1");
    EXPECT_EQ(c.line(), "CRAM-MD5");
    EXPECT_EQ(c.line(), ".");

    // After STLS the same peer may log in with a password.
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "+OK Begin TLS negotiation");
    c.start_tls();
    const auto tls_caps = c.capa();
    EXPECT_TRUE(has(tls_caps, "USER"));
    EXPECT_TRUE(has(tls_caps, "SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"));
    c.send("USER alice\r\nPASS wonderland\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    // The maildrop hook says "try later": the password was checked and accepted.
    EXPECT_EQ(c.line(), "-ERR [SYS/TEMP] Mailbox is temporarily unavailable; try again later");
}

TEST(server_plaintext_policy, a_third_refused_cleartext_login_closes_the_connection) {
    const std::string host = address_or_fail();
    policy_server srv(host, transport::cleartext_policy::loopback);
    client c(host, srv.port());
    c.line();
    c.send("USER alice\r\nPASS x\r\nAUTH LOGIN\r\n");
    EXPECT_EQ(c.line(), cleartext_refused);
    EXPECT_EQ(c.line(), cleartext_refused);
    EXPECT_EQ(c.line(), cleartext_mech_refused);
    EXPECT_EQ(c.line(), "-ERR Too many failed logins; closing the connection");
    EXPECT_TRUE(c.line().starts_with("<"));  // closed
}

TEST(server_plaintext_policy, allowplaintext_false_refuses_loopback_too) {
    policy_server srv("127.0.0.1", transport::cleartext_policy::never);
    client c("127.0.0.1", srv.port());
    EXPECT_EQ(c.line(), "+OK POP3 Server ready");  // no APOP timestamp
    const auto caps = c.capa();
    EXPECT_FALSE(has(caps, "USER"));
    EXPECT_TRUE(has(caps, "SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5"));
    c.send("USER alice\r\n");
    EXPECT_EQ(c.line(), cleartext_refused);
    c.send("APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n");
    EXPECT_EQ(c.line(),
              "-ERR [AUTH] APOP refused on an unencrypted connection; use STLS and USER/PASS or "
              "AUTH, or the TLS port");
    c.send("STLS\r\n");
    EXPECT_EQ(c.line(), "+OK Begin TLS negotiation");
    c.start_tls();
    c.send("USER alice\r\nPASS wonderland\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    EXPECT_EQ(c.line(), "-ERR [SYS/TEMP] Mailbox is temporarily unavailable; try again later");
}

TEST(server_plaintext_policy, allowplaintext_lets_a_non_loopback_peer_use_cleartext) {
    const std::string host = address_or_fail();
    policy_server srv(host, transport::cleartext_policy::always);
    client c(host, srv.port());
    c.line();
    const auto caps = c.capa();
    EXPECT_TRUE(has(caps, "USER"));
    EXPECT_TRUE(has(caps, "SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"));
    c.send("USER alice\r\nPASS wonderland\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    EXPECT_EQ(c.line(), "-ERR [SYS/TEMP] Mailbox is temporarily unavailable; try again later");
}

TEST(server_plaintext_policy, loopback_peer_may_use_cleartext) {
    policy_server srv("127.0.0.1", transport::cleartext_policy::loopback);
    client c("127.0.0.1", srv.port());
    c.line();
    const auto caps = c.capa();
    EXPECT_TRUE(has(caps, "USER"));
    EXPECT_TRUE(has(caps, "SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"));
    c.send("USER alice\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
}

}  // namespace
