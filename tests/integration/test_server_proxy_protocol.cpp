// PROXY protocol on a real socket (issue 12 item 9): from a trusted proxy the v1 or v2
// header names the client, whose address then counts for maxperip, the failed-login delay,
// the logs and the cleartext rule (a proxied client is never loopback); bytes after the
// header (POP3 commands, a TLS ClientHello) reach the session untouched. From anyone else
// the header is never parsed, and a trusted proxy that sends a bad header or none is cut off.

#include "loopback_pop3.hpp"

#include <string>

namespace izypop3::test {
namespace {

using namespace std::string_literals;

transport::server_options trusting(const char* network) {
    transport::server_options opt;
    opt.trusted_proxies.push_back(*transport::ip_network::parse(network));
    opt.auth_failure_delay = std::chrono::milliseconds(10);
    return opt;
}

std::string v2_tcp4(std::array<std::uint8_t, 4> src, std::uint16_t sport) {
    std::string h = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c"s;
    for (auto b : src) h += static_cast<char>(b);
    h += "\x7f\x00\x00\x01"s;
    h += static_cast<char>(sport >> 8);
    h += static_cast<char>(sport & 0xff);
    h += "\x03\xe3"s;
    return h;
}

TEST(server_proxy_protocol, v1_header_names_the_client_and_it_is_not_loopback) {
    loopback_pop3_server srv(trusting("127.0.0.1/32"));
    line_client c(srv.port());
    // The header and a command in one segment: the command is the session's.
    c.send("PROXY TCP4 192.0.2.10 127.0.0.1 40000 110\r\nCAPA\r\n");
    EXPECT_EQ(c.line(), "+OK POP3 Server ready");  // no APOP: cleartext is barred
    EXPECT_EQ(c.line(), "+OK Capability list follows");
    std::vector<std::string> caps;
    for (std::string l = c.line(); l != "." && !l.starts_with("<"); l = c.line()) caps.push_back(l);
    EXPECT_FALSE(has_line(caps, "USER"));
    EXPECT_TRUE(has_line(caps, "STLS"));
    c.send("USER alice\r\n");
    EXPECT_TRUE(c.line().starts_with("-ERR [AUTH] Cleartext login refused"));
    c.send("QUIT\r\n");
    c.line();
    EXPECT_FALSE(srv.wait_for_log("[S1 192.0.2.10 via 127.0.0.1]").empty());
}

TEST(server_proxy_protocol, v1_tcp6_and_v2_local) {
    loopback_pop3_server srv(trusting("127.0.0.1"));
    {
        line_client c(srv.port());
        c.send("PROXY TCP6 2001:db8::7 2001:db8::1 40000 110\r\n");
        EXPECT_EQ(c.line(), "+OK POP3 Server ready");
        c.send("QUIT\r\n");
        c.line();
    }
    EXPECT_FALSE(srv.wait_for_log("[S1 2001:db8::7 via 127.0.0.1]").empty());
    {
        // A health check: LOCAL, the proxy speaking for itself, still not loopback.
        line_client c(srv.port());
        c.send("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00"s);
        EXPECT_EQ(c.line(), "+OK POP3 Server ready");
        EXPECT_FALSE(has_line(c.capa(), "USER"));
        c.send("QUIT\r\n");
        c.line();
    }
    EXPECT_FALSE(srv.wait_for_log("[S2 127.0.0.1 proxy]").empty());
}

TEST(server_proxy_protocol, v2_header_then_tls_on_the_tls_port) {
    loopback_pop3_server srv(trusting("127.0.0.0/8"));
    line_client c(srv.tls_port());
    c.send(v2_tcp4({198, 51, 100, 7}, 5555));
    c.start_tls();  // the ClientHello follows the header on the same connection
    EXPECT_TRUE(c.line().starts_with("+OK POP3 Server ready"));
    EXPECT_TRUE(has_line(c.capa(), "USER"));  // inside TLS a password may be sent
    c.send("QUIT\r\n");
    c.line();
    EXPECT_FALSE(srv.wait_for_log("[S1 198.51.100.7 via 127.0.0.1]").empty());
}

TEST(server_proxy_protocol, a_trusted_proxy_without_a_valid_header_is_cut_off) {
    loopback_pop3_server srv(trusting("127.0.0.1/32"));
    const std::vector<std::pair<std::string, std::string>> cases{
        {"USER alice\r\nPASS 12345\r\n", "not a PROXY protocol header"},
        {"PROXY TCP4 192.0.2.10 127.0.0.1 40000 110\n", "bare LF"},
        {"PROXY TCP4 192.0.2.300 127.0.0.1 40000 110\r\n", "not a dotted IPv4 quad"},
        {"\r\n\r\n\0\r\nQUIT\n\x21\x11\xff\xff"s, "more than the 4096 accepted"},
    };
    for (const auto& [bytes, reason] : cases) {
        line_client c(srv.port());
        c.send(bytes);
        EXPECT_TRUE(c.line().starts_with("<")) << reason;  // closed, no greeting
        EXPECT_FALSE(srv.wait_for_log(reason).empty()) << reason;
    }
    {
        // Half a header, then the proxy hangs up.
        line_client c(srv.port());
        c.send("PROXY TCP4 192.0.2.");
    }
    EXPECT_FALSE(srv.wait_for_log("no complete PROXY header").empty());
}

TEST(server_proxy_protocol, a_header_from_an_untrusted_peer_is_never_parsed) {
    loopback_pop3_server srv(trusting("10.0.0.0/8"));
    line_client c(srv.port());
    EXPECT_TRUE(c.line().starts_with("+OK POP3 Server ready <"));  // greeted at once
    c.send("PROXY TCP4 192.0.2.10 127.0.0.1 40000 110\r\n");
    EXPECT_EQ(c.line(), "-ERR Unknown command");
    EXPECT_TRUE(has_line(c.capa(), "USER"));  // still the loopback peer it is
    c.send("QUIT\r\n");
    c.line();
    EXPECT_FALSE(srv.wait_for_log("[S1 127.0.0.1]").empty());
    EXPECT_TRUE(srv.log_with("192.0.2.10").empty());
}

TEST(server_proxy_protocol, maxperip_counts_the_real_client) {
    auto opt = trusting("127.0.0.1/32");
    opt.max_connections_per_ip = 1;
    loopback_pop3_server srv(opt);
    line_client a(srv.port());
    a.send("PROXY TCP4 192.0.2.10 127.0.0.1 40000 110\r\n");
    EXPECT_EQ(a.line(), "+OK POP3 Server ready");
    line_client b(srv.port());
    b.send("PROXY TCP4 192.0.2.10 127.0.0.1 40001 110\r\n");
    EXPECT_EQ(b.line(), "-ERR [IN-USE] Too many connections from your address");
    // Another client behind the same proxy is not affected.
    line_client c(srv.port());
    c.send("PROXY TCP4 192.0.2.11 127.0.0.1 40002 110\r\n");
    EXPECT_EQ(c.line(), "+OK POP3 Server ready");
}

TEST(server_proxy_protocol, the_failed_login_delay_grows_for_the_real_client_only) {
    auto opt = trusting("127.0.0.1/32");
    opt.cleartext = transport::cleartext_policy::always;
    loopback_pop3_server srv(opt);
    for (const char* client : {"192.0.2.10", "192.0.2.10", "192.0.2.11"}) {
        line_client c(srv.port());
        c.send("PROXY TCP4 "s + client + " 127.0.0.1 40000 110\r\nUSER a\r\nPASS wrong\r\n");
        c.line();
        c.line();
        EXPECT_EQ(c.line(), "-ERR [AUTH] Invalid login");
    }
    const auto first =
        srv.wait_for_log("failure 1 from this address lately, reply delayed 10 ms", 2);
    const auto second = srv.wait_for_log("failure 2 from this address lately, reply delayed 20 ms");
    ASSERT_EQ(second.size(), 1u);
    EXPECT_NE(second[0].find("192.0.2.10 via"), std::string::npos);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_NE(first[1].find("192.0.2.11 via"), std::string::npos);
}

}  // namespace
}  // namespace izypop3::test
