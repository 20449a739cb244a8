// Transcript tests of core::client_session and RFC 6856: UTF8 goes out before a USER, PASS
// or APOP that carries a non-ASCII user name or password, and only to a server that says
// "UTF8 USER"; SASL and ASCII logins never send it.

#include "client_transcript.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/client_session.hpp>
#include <izypop3/core/sasl/apop.hpp>

#include <gtest/gtest.h>

#include <string>

namespace izypop3::test {
namespace {

constexpr std::string_view capa_utf8_user =
    "+OK Capability list follows\r\nUSER\r\nUTF8 USER\r\nRESP-CODES\r\n.\r\n";

core::client_config utf8_config(std::string user, std::string secret) {
    auto c = client_transcript::default_config();
    c.tls_active = true;
    c.mechanism = "user";
    c.user = std::move(user);
    c.secret = std::move(secret);
    return c;
}

TEST(ClientUtf8, NonAsciiUserNameSendsUtf8FirstWhenOffered) {
    client_transcript t(utf8_config("jos\xC3\xA9", "secret"));
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says(capa_utf8_user).expect_client_sends("UTF8\r\n");
    t.server_says("+OK UTF8 enabled\r\n").expect_client_sends("USER jos\xC3\xA9\r\n");
    t.server_says("+OK\r\n").expect_client_sends("PASS secret\r\n");
    t.server_says("+OK logged in\r\n");
    EXPECT_EQ(t.logged_in(), "user");
}

TEST(ClientUtf8, NonAsciiPasswordAloneSendsUtf8Too) {
    client_transcript t(utf8_config("alice", "caf\xC3\xA9"));
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says(capa_utf8_user).expect_client_sends("UTF8\r\n");
    // A server that refuses UTF8 still gets the login; it judges the name itself.
    t.server_says("-ERR no\r\n").expect_client_sends("USER alice\r\n");
    t.server_says("+OK\r\n").expect_client_sends("PASS caf\xC3\xA9\r\n");
}

TEST(ClientUtf8, AsciiCredentialsOrNoUtf8UserCapabilitySendNoUtf8) {
    client_transcript ascii(utf8_config("alice", "wonderland"));
    ascii.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    ascii.server_says(capa_utf8_user).expect_client_sends("USER alice\r\n");

    // "UTF8" without USER: UTF-8 message headers, not user names (RFC 6856 section 2).
    client_transcript plain(utf8_config("jos\xC3\xA9", "secret"));
    plain.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    plain.server_says("+OK Capability list follows\r\nUSER\r\nUTF8\r\n.\r\n")
        .expect_client_sends("USER jos\xC3\xA9\r\n");
}

TEST(ClientUtf8, ApopWithAUtf8NameSendsUtf8First) {
    auto c = utf8_config("jos\xC3\xA9", "secret");
    c.mechanism = "apop";
    client_transcript t(c);
    const std::string ts = "<1.2@pop.example.org>";
    t.server_says("+OK ready " + ts + "\r\n").expect_client_sends("CAPA\r\n");
    t.server_says(capa_utf8_user).expect_client_sends("UTF8\r\n");
    t.server_says("+OK\r\n").expect_client_sends("APOP jos\xC3\xA9 " +
                                                 core::sasl::apop_digest(ts, "secret") + "\r\n");
}

TEST(ClientUtf8, SaslCarriesUtf8ByItselfAndSendsNoUtf8) {
    auto c = utf8_config("jos\xC3\xA9", "secret");
    c.mechanism = "plain";
    client_transcript t(c);
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("+OK Capability list follows\r\nUTF8 USER\r\nSASL PLAIN\r\n.\r\n")
        .expect_client_sends(
            "AUTH PLAIN " + core::base64_encode(std::string("\0jos\xC3\xA9\0secret", 13)) + "\r\n");
}

}  // namespace
}  // namespace izypop3::test
