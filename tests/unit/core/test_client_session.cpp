// Transcript tests of core::client_session against scripted servers: greetings of real
// servers, mechanism choice, every SASL exchange the client speaks, STLS, the client rows of
// the security checklist (SECURITY.md section 5, C01-C14), and the TRANSACTION replies
// (listings, bodies, pipelining). Every command the client writes is compared byte for byte.

#include "client_transcript.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/client_session.hpp>
#include <izypop3/core/crypto.hpp>
#include <izypop3/core/errc.hpp>

#include <gtest/gtest.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::test {
namespace {

using core::errc;
using core::request_kind;
using namespace std::string_literals;

using transcript_ptr = std::unique_ptr<client_transcript>;

core::client_config cleartext_config() {
    auto c = client_transcript::default_config();
    c.allow_plaintext = true;
    return c;
}

core::client_config tls_config() {
    auto c = client_transcript::default_config();
    c.tls_active = true;
    return c;
}

std::string b64(std::string_view s) {
    return core::base64_encode(s);
}

std::string b64d(std::string_view s) {
    auto r = core::base64_decode(s);
    EXPECT_TRUE(r) << "not base64: " << s;
    return r ? *r : std::string();
}

// The one line (without CRLF) the client sent, or "" when it sent something else.
std::string single_line(const std::string& sent) {
    if (sent.size() < 2 || sent.find("\r\n") != sent.size() - 2) {
        ADD_FAILURE() << "expected one line, got: " << sent;
        return {};
    }
    return sent.substr(0, sent.size() - 2);
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char ch) {
        const auto u = static_cast<unsigned char>(ch);
        return u >= 0x20 && u < 0x7f;
    });
}

void expect_failure(const client_transcript& t, errc e) {
    ASSERT_TRUE(t.failure()) << "the client did not fail";
    EXPECT_EQ(t.failure()->ec, core::make_error_code(e))
        << t.failure()->ec.message() << ": " << t.failure()->detail;
    EXPECT_TRUE(printable_ascii(t.failure()->detail)) << t.failure()->detail;
    EXPECT_FALSE(t.logged_in());
}

// A failure after login: the same checks, except that the login did happen.
void expect_transaction_failure(const client_transcript& t, errc e) {
    ASSERT_TRUE(t.failure()) << "the client did not fail";
    EXPECT_EQ(t.failure()->ec, core::make_error_code(e))
        << t.failure()->ec.message() << ": " << t.failure()->detail;
    EXPECT_TRUE(printable_ascii(t.failure()->detail)) << t.failure()->detail;
    EXPECT_TRUE(t.logged_in());
}

// Nothing the client wrote could carry the password (SECURITY C02).
void expect_no_credentials_sent(const client_transcript& t) {
    const std::string& s = t.sent();
    EXPECT_EQ(s.find("wonderland"), std::string::npos) << s;
    EXPECT_EQ(s.find(b64("wonderland")), std::string::npos) << s;
    for (std::string_view verb : {"USER", "PASS", "APOP", "AUTH"})
        EXPECT_EQ(s.find(verb), std::string::npos) << verb << " in: " << s;
}

const std::string capa_user_pipelining =
    "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\n.\r\n";
const std::string capa_user_only = "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\n.\r\n";

// A client logged in with USER/PASS (cleartext allowed) after the given CAPA reply.
transcript_ptr logged_in_client(const std::string& capa = capa_user_pipelining,
                                core::client_config c = cleartext_config()) {
    auto t = std::make_unique<client_transcript>(std::move(c));
    t->server_says("+OK POP3 ready\r\n").expect_client_sends("CAPA\r\n");
    t->server_says(capa).expect_client_sends("USER alice\r\n");
    t->server_says("+OK\r\n").expect_client_sends("PASS wonderland\r\n");
    t->server_says("+OK Logged in.\r\n");
    EXPECT_EQ(t->logged_in(), "user");
    EXPECT_FALSE(t->failed());
    return t;
}

// ---------------------------------------------------------------------------------------
// Greetings of real servers

TEST(ClientSession, GmailGreetingTlsPicksPlain) {
    client_transcript t(tls_config());
    t.server_says("+OK Gpop ready for requests from 1.2.3.4 a1mb123456pzb\r\n")
        .expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().greeting(), "Gpop ready for requests from 1.2.3.4 a1mb123456pzb");
    EXPECT_EQ(t.session().apop_timestamp(), "");
    t.server_says(
         "+OK Capability list follows\r\nUSER\r\nRESP-CODES\r\nEXPIRE 0\r\nLOGIN-DELAY 300\r\n"
         "TOP\r\nUIDL\r\nX-GOOGLE-RICO\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    EXPECT_TRUE(t.session().capa_supported());
    EXPECT_TRUE(t.session().has_capability("x-google-rico"));
    EXPECT_FALSE(t.session().pipelining_active());
    t.server_says("+OK Welcome.\r\n");
    EXPECT_EQ(t.logged_in(), "plain");
    EXPECT_EQ(t.events(), (std::vector<std::string>{"logged_in plain"}));
}

TEST(ClientSession, SecureserverGreetingTimestampApopOverTls) {
    client_transcript t(tls_config());
    t.server_says("+OK <27156.1637766361@p3plibpop05.prod.phx3.secureserver.net>\r\n")
        .expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().apop_timestamp(),
              "<27156.1637766361@p3plibpop05.prod.phx3.secureserver.net>");
    // An RFC 1939-only server: no CAPA. With TLS, APOP beats USER/PASS.
    t.server_says("-ERR unknown command\r\n")
        .expect_client_sends("APOP alice d3e6adf25366ae0c8231af41a7ec90b8\r\n");
    EXPECT_FALSE(t.session().capa_supported());
    t.server_says("+OK maildrop has 2 messages\r\n");
    EXPECT_EQ(t.logged_in(), "apop");
}

TEST(ClientSession, DovecotGreeting) {
    client_transcript t(cleartext_config());
    t.server_says("+OK Dovecot ready.\r\n").expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().greeting(), "Dovecot ready.");
    EXPECT_EQ(t.session().apop_timestamp(), "");
    t.server_says(
         "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nUSER\r\n"
         "SASL PLAIN\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    EXPECT_TRUE(t.session().pipelining_active());
    EXPECT_EQ(t.session().capabilities().size(), 8u);
    t.server_says("+OK Logged in.\r\n");
    EXPECT_EQ(t.logged_in(), "plain");
}

TEST(ClientSession, Rfc1939GreetingWithExtraTextAfterTimestamp) {
    auto c = client_transcript::default_config();
    c.user = "mrose";
    c.secret = "tanstaaf";
    c.mechanism = "APOP";  // named: allowed without TLS
    client_transcript t(c);
    t.server_says("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us> have fun\r\n")
        .expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().apop_timestamp(), "<1896.697170952@dbc.mtview.ca.us>");
    EXPECT_EQ(t.session().greeting(),
              "POP3 server ready <1896.697170952@dbc.mtview.ca.us> have fun");
    // The digest is RFC 1939 section 7's own example.
    t.server_says("-ERR\r\n")
        .expect_client_sends("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
    t.server_says("+OK mrose's maildrop has 2 messages (320 octets)\r\n");
    EXPECT_EQ(t.logged_in(), "apop");
}

TEST(ClientSession, BareOkGreeting) {
    client_transcript t(cleartext_config());
    t.server_says("+OK\r\n").expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().greeting(), "");
}

TEST(ClientSession, ErrGreetingFails) {
    client_transcript t(cleartext_config());
    t.server_says("-ERR [SYS/TEMP] too many connections\r\n").expect_client_sends("");
    expect_failure(t, errc::protocol_violation);
    EXPECT_NE(t.failure()->detail.find("too many connections"), std::string::npos);
}

TEST(ClientSession, GarbageGreetingFails) {
    client_transcript t(cleartext_config());
    t.server_says("* OK IMAP4rev1 ready\r\n").expect_client_sends("");
    expect_failure(t, errc::malformed_status);
}

// ---------------------------------------------------------------------------------------
// No CAPA (RFC 1939-only servers)

TEST(ClientSession, NoCapaFallsBackToUserWhenCleartextAllowed) {
    client_transcript t(cleartext_config());
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("-ERR unknown command\r\n").expect_client_sends("USER alice\r\n");
    t.server_says("+OK\r\n").expect_client_sends("PASS wonderland\r\n");
    t.server_says("+OK\r\n");
    EXPECT_EQ(t.logged_in(), "user");
    EXPECT_FALSE(t.session().capa_supported());
    EXPECT_FALSE(t.session().pipelining_active());
}

TEST(ClientSession, NoCapaFallsBackToUserOverTls) {
    client_transcript t(tls_config());
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("-ERR\r\n").expect_client_sends("USER alice\r\n");
}

TEST(ClientSession, NoCapaNoTlsNoCleartextFailsWithoutSendingCredentials) {
    client_transcript t;  // defaults: no TLS, cleartext not allowed
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("-ERR\r\n").expect_client_sends("");
    expect_failure(t, errc::cleartext_refused);
    expect_no_credentials_sent(t);
}

TEST(ClientSession, NoCapaNamedApopWithoutTls) {
    auto c = client_transcript::default_config();
    c.mechanism = "apop";
    client_transcript t(c);
    t.server_says("+OK <1.2@x>\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("-ERR\r\n")
        .expect_client_sends(
            "APOP alice " +
            core::to_hex(core::digest(core::hash_algorithm::md5, "<1.2@x>wonderland")) + "\r\n");
    t.server_says("-ERR [AUTH] permission denied\r\n");
    expect_failure(t, errc::authentication_failed);
    EXPECT_NE(t.failure()->detail.find("permission denied"), std::string::npos);
}

TEST(ClientSession, NoCapaNamedSaslMechanismWaitsForEmptyChallenge) {
    // RFC 1734 servers know no initial response: PLAIN's goes after the "+ ".
    auto c = cleartext_config();
    c.mechanism = "PLAIN";
    client_transcript t(c);
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("-ERR\r\n").expect_client_sends("AUTH PLAIN\r\n");
    t.server_says("+ \r\n").expect_client_sends("AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    t.server_says("+OK\r\n");
    EXPECT_EQ(t.logged_in(), "plain");
}

// ---------------------------------------------------------------------------------------
// Mechanism choice

struct choice_case {
    std::string name;
    std::string caps;  // CAPA lines after +OK, without the terminator
    bool tls = false;
    bool cleartext = false;
    std::string mechanism = "auto";
    std::string greeting = "+OK ready <9.9@pop.example.org>";
    std::string first_line;  // the client's first command after CAPA (prefix), "" = fails
    errc error = errc::mechanism_unavailable;  // when it fails
};

class MechanismChoice : public ::testing::TestWithParam<choice_case> {};

TEST_P(MechanismChoice, FirstAuthCommand) {
    const auto& p = GetParam();
    auto c = client_transcript::default_config();
    c.tls_active = p.tls;
    c.allow_plaintext = p.cleartext;
    c.mechanism = p.mechanism;
    client_transcript t(c);
    t.server_says(p.greeting + "\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("+OK\r\n" + p.caps + ".\r\n");
    const std::string sent = t.take();
    if (p.first_line.empty()) {
        EXPECT_EQ(sent, "");
        expect_failure(t, p.error);
        expect_no_credentials_sent(t);
    } else {
        EXPECT_TRUE(sent.starts_with(p.first_line)) << sent;
        EXPECT_FALSE(t.failed());
    }
}

const std::string all_sasl = "SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256\r\nUSER\r\n";

INSTANTIATE_TEST_SUITE_P(
    ClientSession, MechanismChoice,
    ::testing::Values(
        choice_case{"AllOverTls", all_sasl, true, false, "auto", "+OK <9.9@x>",
                    "AUTH SCRAM-SHA-256 "},
        choice_case{"AllWithoutTls", all_sasl, false, false, "auto", "+OK <9.9@x>",
                    "AUTH SCRAM-SHA-256 "},
        choice_case{"Sha1Next", "SASL PLAIN SCRAM-SHA-1 CRAM-MD5\r\nUSER\r\n", true, false, "auto",
                    "+OK <9.9@x>", "AUTH SCRAM-SHA-1 "},
        choice_case{"CramNext", "SASL LOGIN CRAM-MD5 PLAIN\r\nUSER\r\n", false, false, "auto",
                    "+OK <9.9@x>", "AUTH CRAM-MD5\r\n"},
        choice_case{"ApopOverTlsBeatsPlain", "SASL PLAIN LOGIN\r\nUSER\r\n", true, false, "auto",
                    "+OK <9.9@x>", "APOP alice "},
        choice_case{"ApopNeverWithoutTls", "SASL PLAIN LOGIN\r\nUSER\r\n", false, true, "auto",
                    "+OK <9.9@x>", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n"},
        choice_case{"PlainOverTls", "SASL LOGIN PLAIN\r\nUSER\r\n", true, false, "auto",
                    "+OK ready", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n"},
        choice_case{"LoginBeforeUser", "SASL LOGIN\r\nUSER\r\n", true, false, "auto", "+OK ready",
                    "AUTH LOGIN"},
        choice_case{"UserLast", "USER\r\n", true, false, "auto", "+OK ready", "USER alice\r\n"},
        choice_case{"NoCleartextWithoutTls", "SASL PLAIN LOGIN\r\nUSER\r\n", false, false, "auto",
                    "+OK ready <9.9@x>", "", errc::cleartext_refused},
        choice_case{"CleartextPermitted", "SASL PLAIN LOGIN\r\nUSER\r\n", false, true, "auto",
                    "+OK ready", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n"},
        // Naming a mechanism is no consent to send the password in clear (issue 12).
        choice_case{"NamedPlainIsNoPermission", "SASL PLAIN LOGIN\r\nUSER\r\n", false, false,
                    "plain", "+OK ready", "", errc::cleartext_refused},
        choice_case{"NamedUserIsNoPermission", "SASL PLAIN\r\nUSER\r\n", false, false, "USER",
                    "+OK ready", "", errc::cleartext_refused},
        choice_case{"NamedPlainWithConsent", "SASL PLAIN LOGIN\r\nUSER\r\n", false, true, "plain",
                    "+OK ready", "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n"},
        choice_case{"NamedButNotOffered", "SASL PLAIN\r\nUSER\r\n", true, false, "scram-sha-256",
                    "+OK ready", ""},
        choice_case{"NamedApopWithoutTimestamp", "USER\r\n", true, false, "apop", "+OK ready", ""},
        choice_case{"OauthNeverAutomatic", "SASL XOAUTH2 OAUTHBEARER\r\n", true, false, "auto",
                    "+OK ready", ""},
        choice_case{"UserNotListed", "SASL CRAM-MD5\r\n", true, false, "auto", "+OK ready",
                    "AUTH CRAM-MD5\r\n"},
        choice_case{"NothingUsable", "SASL GSSAPI NTLM\r\n", true, false, "auto", "+OK ready", ""}),
    [](const ::testing::TestParamInfo<choice_case>& i) { return i.param.name; });

TEST(ClientSession, NamedMechanismNotOfferedSaysWhatIs) {
    auto c = tls_config();
    c.mechanism = "cram-md5";
    client_transcript t(c);
    t.server_says("+OK\r\n");
    t.server_says("+OK\r\nSASL PLAIN LOGIN\r\n.\r\n").expect_client_sends("CAPA\r\n");
    expect_failure(t, errc::mechanism_unavailable);
    EXPECT_NE(t.failure()->detail.find("PLAIN LOGIN"), std::string::npos) << t.failure()->detail;
}

TEST(ClientSession, PasswordWithLineBreakIsNeverSent) {
    auto c = cleartext_config();
    c.secret = "pw\r\nDELE 1";
    client_transcript t(c);
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says(capa_user_only).expect_client_sends("");
    expect_failure(t, errc::authentication_failed);
    EXPECT_EQ(t.sent().find("DELE"), std::string::npos);
}

TEST(ClientSession, UserPassRejected) {
    client_transcript t(cleartext_config());
    t.server_says("+OK ready\r\n").take();
    t.server_says(capa_user_only).expect_client_sends("USER alice\r\n");
    t.server_says("+OK\r\n").expect_client_sends("PASS wonderland\r\n");
    t.server_says("-ERR [AUTH] Authentication failed.\r\n").expect_client_sends("");
    expect_failure(t, errc::authentication_failed);
    EXPECT_NE(t.failure()->detail.find("[AUTH] Authentication failed."), std::string::npos);
}

TEST(ClientSession, UserRejected) {
    client_transcript t(cleartext_config());
    t.server_says("+OK ready\r\n").take();
    t.server_says(capa_user_only).expect_client_sends("USER alice\r\n");
    t.server_says("-ERR no such user\r\n").expect_client_sends("");
    expect_failure(t, errc::authentication_failed);
}

// Issue 18 item 5: a refusal that passes is not a wrong password.
TEST(ClientSession, TemporaryRefusalsAtPassAreDeferred) {
    for (std::string code : {"IN-USE", "LOGIN-DELAY", "SYS/TEMP", "in-use"}) {
        client_transcript t(cleartext_config());
        t.server_says("+OK ready\r\n").take();
        t.server_says(capa_user_only).expect_client_sends("USER alice\r\n");
        t.server_says("+OK\r\n").expect_client_sends("PASS wonderland\r\n");
        t.server_says("-ERR [" + code + "] not now\r\n").expect_client_sends("");
        expect_failure(t, errc::login_deferred);
        EXPECT_EQ(t.failure()->detail, "-ERR [" + code + "] not now") << code;
    }
}

TEST(ClientSession, TemporaryRefusalOfSaslIsDeferred) {
    client_transcript t(tls_config());
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN\r\n.\r\n").take();
    t.server_says("-ERR [SYS/TEMP] backend down\r\n").expect_client_sends("");
    expect_failure(t, errc::login_deferred);
}

TEST(ClientSession, AuthCodeAndPlainErrStayAuthenticationFailures) {
    for (std::string reply : {"-ERR [AUTH] bad password", "-ERR bad password",
                              "-ERR [SYS/PERM] account closed", "-ERR [IN-USE-ISH] x"}) {
        client_transcript t(cleartext_config());
        t.server_says("+OK ready\r\n").take();
        t.server_says(capa_user_only).expect_client_sends("USER alice\r\n");
        t.server_says("+OK\r\n").expect_client_sends("PASS wonderland\r\n");
        t.server_says(reply + "\r\n").expect_client_sends("");
        expect_failure(t, errc::authentication_failed);
        EXPECT_EQ(t.failure()->detail, reply);
    }
}

// Issue 18 item 4: mechanisms that failed on an earlier connection are skipped in auto.
TEST(ClientSession, AutoSkipsMechanismsThatFailedBefore) {
    auto c = tls_config();
    c.skip_mechanisms = {"apop"};
    client_transcript t(c);
    t.server_says("+OK ready <1.2@x>\r\n").take();
    t.server_says("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    EXPECT_EQ(t.session().mechanism_tried(), "plain");
}

TEST(ClientSession, AutoWithEverythingSkippedFindsNothing) {
    auto c = tls_config();
    c.skip_mechanisms = {"APOP", "plain", "user"};
    client_transcript t(c);
    t.server_says("+OK ready <1.2@x>\r\n").take();
    t.server_says("+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n").expect_client_sends("");
    expect_failure(t, errc::mechanism_unavailable);
    EXPECT_EQ(t.session().mechanism_tried(), "");
}

TEST(ClientSession, SkippingNeverBringsCleartextWithoutTls) {
    auto c = client_transcript::default_config();
    c.skip_mechanisms = {"cram-md5"};
    client_transcript t(c);
    t.server_says("+OK ready\r\n").take();
    t.server_says("+OK\r\nUSER\r\nSASL CRAM-MD5 PLAIN\r\n.\r\n").expect_client_sends("");
    expect_failure(t, errc::cleartext_refused);
    expect_no_credentials_sent(t);
}

TEST(ClientSession, NamedMechanismIgnoresTheSkipList) {
    auto c = tls_config();
    c.mechanism = "plain";
    c.skip_mechanisms = {"plain"};
    client_transcript t(c);
    t.server_says("+OK ready\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
}

// ---------------------------------------------------------------------------------------
// SASL exchanges

TEST(ClientSession, CramMd5Rfc2195Example) {
    auto c = client_transcript::default_config();
    c.user = "tim";
    c.secret = "tanstaaftanstaaf";
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL CRAM-MD5\r\n.\r\n").expect_client_sends("AUTH CRAM-MD5\r\n");
    t.server_says("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n")
        .expect_client_sends("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n");
    t.server_says("+OK CRAM authentication successful\r\n");
    EXPECT_EQ(t.logged_in(), "cram-md5");
}

TEST(ClientSession, LoginExchange) {
    client_transcript t(tls_config());
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL LOGIN\r\n.\r\n");
    std::string first = t.take();
    // LOGIN has no initial response in RFC terms; some clients send the user name as one.
    if (first == "AUTH LOGIN\r\n") {
        t.server_says("+ VXNlcm5hbWU6\r\n").expect_client_sends("YWxpY2U=\r\n");
    } else {
        EXPECT_EQ(first, "AUTH LOGIN YWxpY2U=\r\n");
    }
    t.server_says("+ UGFzc3dvcmQ6\r\n").expect_client_sends("d29uZGVybGFuZA==\r\n");
    t.server_says("+OK\r\n");
    EXPECT_EQ(t.logged_in(), "login");
}

TEST(ClientSession, SaslRejected) {
    client_transcript t(tls_config());
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    t.server_says("-ERR [AUTH] Authentication failed\r\n").expect_client_sends("");
    expect_failure(t, errc::authentication_failed);
}

TEST(ClientSession, EmptyPasswordPlainInitialResponse) {
    auto c = tls_config();
    c.secret = "";
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN " + b64("\0alice\0"s) + "\r\n");
}

TEST(ClientSession, Xoauth2WithInitialResponse) {
    auto c = tls_config();
    c.mechanism = "xoauth2";
    c.secret = "ya29.token";
    client_transcript t(c);
    t.server_says("+OK Gpop ready\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n.\r\n")
        .expect_client_sends("AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=\r\n");
    t.server_says("+OK Welcome.\r\n");
    EXPECT_EQ(t.logged_in(), "xoauth2");
}

TEST(ClientSession, Xoauth2TwoStep) {
    // Office 365 rejects the initial response: "AUTH XOAUTH2", then the token after "+ ".
    auto c = tls_config();
    c.mechanism = "XOAUTH2";
    c.secret = "ya29.token";
    c.xoauth2_two_step = true;
    client_transcript t(c);
    t.server_says("+OK The Microsoft Exchange POP3 service is ready.\r\n").take();
    t.server_says("+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN XOAUTH2\r\nUSER\r\n.\r\n")
        .expect_client_sends("AUTH XOAUTH2\r\n");
    t.server_says("+ \r\n").expect_client_sends(
        "dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=\r\n");
    t.server_says("+OK User successfully authenticated.\r\n");
    EXPECT_EQ(t.logged_in(), "xoauth2");
}

// Issue 18 item 1: Exchange Online refuses the token on the AUTH line; the session says so,
// so that the caller can try the two-step form on a new connection.
TEST(ClientSession, Xoauth2OneLineRefusedByExchangeIsReported) {
    auto c = tls_config();
    c.mechanism = "xoauth2";
    c.secret = "ya29.token";
    client_transcript t(c);
    t.server_says("+OK The Microsoft Exchange POP3 service is ready.\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN XOAUTH2\r\nUSER\r\n.\r\n")
        .expect_client_sends("AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB5YTI5LnRva2VuAQE=\r\n");
    t.server_says("-ERR Protocol error. Connection is closed. 10\r\n").expect_client_sends("");
    expect_failure(t, errc::authentication_failed);
    EXPECT_EQ(t.failure()->detail, "-ERR Protocol error. Connection is closed. 10");
    EXPECT_TRUE(t.session().initial_response_refused());
    EXPECT_EQ(t.session().mechanism_tried(), "xoauth2");
}

TEST(ClientSession, Xoauth2OneLineAnsweredByCloseIsReported) {
    auto c = tls_config();
    c.mechanism = "xoauth2";
    c.secret = "ya29.token";
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL XOAUTH2\r\n.\r\n").take();
    t.server_closes();
    expect_failure(t, errc::authentication_failed);
    EXPECT_TRUE(t.session().initial_response_refused());
}

TEST(ClientSession, RefusalAfterAChallengeOrWithACodeIsNotAboutTheForm) {
    {  // Gmail: a bad token gets an error challenge first
        auto c = tls_config();
        c.mechanism = "xoauth2";
        client_transcript t(c);
        t.server_says("+OK\r\n").take();
        t.server_says("+OK\r\nSASL XOAUTH2\r\n.\r\n").take();
        t.server_says("+ eyJzdGF0dXMiOiI0MDAifQ==\r\n").expect_client_sends("\r\n");
        t.server_says("-ERR Invalid credentials\r\n");
        EXPECT_FALSE(t.session().initial_response_refused());
    }
    {
        auto c = tls_config();
        c.mechanism = "xoauth2";
        client_transcript t(c);
        t.server_says("+OK\r\n").take();
        t.server_says("+OK\r\nSASL XOAUTH2\r\n.\r\n").take();
        t.server_says("-ERR [AUTH] token expired\r\n");
        EXPECT_FALSE(t.session().initial_response_refused());
    }
    {  // the two-step form itself refused
        auto c = tls_config();
        c.mechanism = "xoauth2";
        c.xoauth2_two_step = true;
        client_transcript t(c);
        t.server_says("+OK\r\n").take();
        t.server_says("+OK\r\nSASL XOAUTH2\r\n.\r\n").expect_client_sends("AUTH XOAUTH2\r\n");
        t.server_says("-ERR Protocol error\r\n");
        EXPECT_FALSE(t.session().initial_response_refused());
    }
}

TEST(ClientSession, Xoauth2ErrorChallengeAnsweredWithEmptyLine) {
    auto c = tls_config();
    c.mechanism = "xoauth2";
    c.secret = "ya29.token";
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL XOAUTH2\r\n.\r\n").take();
    t.server_says(
         "+ eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29v"
         "Z2xlLmNvbS8ifQ==\r\n")
        .expect_client_sends("\r\n");
    EXPECT_FALSE(t.failed());
    t.server_says("-ERR [AUTH] Invalid credentials (Failure)\r\n").expect_client_sends("");
    expect_failure(t, errc::authentication_failed);
}

TEST(ClientSession, OauthbearerErrorChallengeAnsweredWithCtrlA) {
    auto c = tls_config();
    c.mechanism = "oauthbearer";
    c.secret = "ya29.token";
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL OAUTHBEARER\r\n.\r\n");
    const std::string line = single_line(t.take());
    ASSERT_TRUE(line.starts_with("AUTH OAUTHBEARER ")) << line;
    const std::string ir = b64d(line.substr(17));
    EXPECT_TRUE(ir.starts_with("n,")) << ir;  // RFC 7628 section 3.1: a GS2 header
    EXPECT_NE(ir.find("\x01"
                      "auth=Bearer ya29.token\x01\x01"),
              std::string::npos)
        << ir;
    EXPECT_NE(ir.find("host=pop.example.org"), std::string::npos) << ir;
    t.server_says("+ eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIiwic2NvcGUiOiJleGFtcGxlX3Njb3BlIn0=\r\n")
        .expect_client_sends(b64("\x01") + "\r\n");
    EXPECT_EQ(b64("\x01"), "AQ==");
    t.server_says("-ERR [AUTH] Authentication failed\r\n");
    expect_failure(t, errc::authentication_failed);
}

TEST(ClientSession, LongInitialResponseSentAfterEmptyChallenge) {
    // RFC 5034 section 4: the AUTH line is at most 255 octets; a longer initial response
    // waits for the server's empty challenge.
    auto c = tls_config();
    c.mechanism = "xoauth2";
    c.secret = std::string(200, 't');
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL XOAUTH2\r\n.\r\n").expect_client_sends("AUTH XOAUTH2\r\n");
    const std::string ir =
        "user=alice\x01"
        "auth=Bearer " +
        c.secret + "\x01\x01";
    ASSERT_GT(std::string("AUTH XOAUTH2 ").size() + b64(ir).size() + 2, 255u);
    t.server_says("+ \r\n").expect_client_sends(b64(ir) + "\r\n");
    t.server_says("+OK\r\n");
    EXPECT_EQ(t.logged_in(), "xoauth2");
}

TEST(ClientSession, InitialResponseThatFitsExactlyStaysOnTheLine) {
    // "AUTH PLAIN " (11) + 240 base64 octets (180 raw) + CRLF = 253 octets: within 255.
    auto c = tls_config();
    c.mechanism = "plain";
    c.secret = std::string(180 - 7, 'p');  // "\0alice\0" is 7 octets
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN\r\n.\r\n");
    const std::string line = single_line(t.take());
    EXPECT_EQ(line, "AUTH PLAIN " + b64("\0alice\0"s + c.secret));
    EXPECT_EQ(line.size() + 2, 253u);
}

// A SCRAM server written out from RFC 5802 section 3 with core's hash primitives, so the
// client is checked against the RFC rather than against our own server mechanism.
class scram_server {
  public:
    scram_server(core::hash_algorithm alg, std::string password)
        : alg_(alg), password_(std::move(password)) {}

    std::string first(const std::string& client_first) {
        // "n,," [authzid] "n=user,r=nonce"
        EXPECT_TRUE(client_first.starts_with("n,")) << client_first;
        const auto header_end = client_first.find(',', 2);
        bare_ = client_first.substr(header_end + 1);
        EXPECT_TRUE(bare_.starts_with("n=alice,r=")) << bare_;
        const std::string cnonce = bare_.substr(bare_.find(",r=") + 3);
        EXPECT_GE(cnonce.size(), 16u);
        EXPECT_TRUE(printable_ascii(cnonce));
        EXPECT_EQ(cnonce.find(','), std::string::npos);
        nonce_ = cnonce + "3rfcNHYJY1ZVvWVs7j";
        server_first_ = "r=" + nonce_ + ",s=" + b64(salt_) + ",i=4096";
        return server_first_;
    }

    // The server-final message, or "" when the proof is wrong. `corrupt` flips a bit of the
    // server signature.
    std::string final(const std::string& client_final, bool corrupt = false) {
        const auto p = client_final.rfind(",p=");
        EXPECT_NE(p, std::string::npos);
        const std::string without_proof = client_final.substr(0, p);
        EXPECT_EQ(without_proof, "c=biws,r=" + nonce_);
        const std::string proof = b64d(client_final.substr(p + 3));
        const std::string auth_message = bare_ + "," + server_first_ + "," + without_proof;
        const std::string salted = core::pbkdf2(alg_, password_, salt_, 4096);
        const std::string client_key = core::hmac(alg_, salted, "Client Key");
        const std::string stored_key = core::digest(alg_, client_key);
        const std::string client_signature = core::hmac(alg_, stored_key, auth_message);
        std::string expected = client_key;
        for (std::size_t i = 0; i < expected.size(); ++i) expected[i] ^= client_signature[i];
        EXPECT_EQ(core::to_hex(proof), core::to_hex(expected)) << "client proof";
        std::string server_signature =
            core::hmac(alg_, core::hmac(alg_, salted, "Server Key"), auth_message);
        if (corrupt) server_signature[0] = static_cast<char>(server_signature[0] ^ 1);
        return "v=" + b64(server_signature);
    }

  private:
    core::hash_algorithm alg_;
    std::string password_;
    std::string salt_ = "salt-of-alice-16";
    std::string bare_, nonce_, server_first_;
};

struct scram_case {
    std::string name;
    std::string mech;  // upper case
    core::hash_algorithm alg;
};

class ScramExchange : public ::testing::TestWithParam<scram_case> {
  protected:
    // Logs in up to the server-final message; returns the client-final line's reply point.
    void run_to_server_final(client_transcript& t, scram_server& srv) {
        const auto& p = GetParam();
        t.server_says("+OK\r\n").take();
        t.server_says("+OK\r\nSASL " + p.mech + "\r\n.\r\n");
        const std::string auth = single_line(t.take());
        ASSERT_TRUE(auth.starts_with("AUTH " + p.mech + " ")) << auth;
        const std::string client_first = b64d(auth.substr(6 + p.mech.size()));
        t.server_says("+ " + b64(srv.first(client_first)) + "\r\n");
        client_final_ = b64d(single_line(t.take()));
    }
    std::string client_final_;
};

TEST_P(ScramExchange, VerifiedLogin) {
    client_transcript t(tls_config());
    scram_server srv(GetParam().alg, "wonderland");
    run_to_server_final(t, srv);
    t.server_says("+ " + b64(srv.final(client_final_)) + "\r\n").expect_client_sends("\r\n");
    EXPECT_FALSE(t.logged_in());
    t.server_says("+OK\r\n");
    std::string lower = GetParam().mech;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(t.logged_in(), lower);
}

TEST_P(ScramExchange, WrongServerSignatureFailsEvenIfServerSaysOk) {
    client_transcript t(tls_config());
    scram_server srv(GetParam().alg, "wonderland");
    run_to_server_final(t, srv);
    t.server_says("+ " + b64(srv.final(client_final_, true)) + "\r\n").expect_client_sends("*\r\n");
    t.server_says("+OK you are in, trust me\r\n").expect_client_sends("");
    expect_failure(t, errc::sasl_server_not_verified);
}

TEST_P(ScramExchange, OkWithoutServerFinalFails) {
    client_transcript t(tls_config());
    scram_server srv(GetParam().alg, "wonderland");
    run_to_server_final(t, srv);
    t.server_says("+OK\r\n").expect_client_sends("");
    expect_failure(t, errc::sasl_server_not_verified);
}

TEST_P(ScramExchange, ForeignNonceCancels) {
    client_transcript t(tls_config());
    const auto& p = GetParam();
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL " + p.mech + "\r\n.\r\n").take();
    t.server_says("+ " + b64("r=attackersnonce0123456789,s=" + b64("salt") + ",i=4096") + "\r\n")
        .expect_client_sends("*\r\n");
    t.server_says("-ERR\r\n");
    ASSERT_TRUE(t.failed());
    EXPECT_NE(t.failure()->ec, core::make_error_code(errc::authentication_failed));
}

INSTANTIATE_TEST_SUITE_P(
    ClientSession, ScramExchange,
    ::testing::Values(scram_case{"Sha1", "SCRAM-SHA-1", core::hash_algorithm::sha1},
                      scram_case{"Sha256", "SCRAM-SHA-256", core::hash_algorithm::sha256}),
    [](const ::testing::TestParamInfo<scram_case>& i) { return i.param.name; });

TEST(ClientSession, C13BadBase64ChallengeCancels) {
    client_transcript t(tls_config());
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL CRAM-MD5\r\n.\r\n").expect_client_sends("AUTH CRAM-MD5\r\n");
    t.server_says("+ !!!not*base64\x1b[0m\r\n").expect_client_sends("*\r\n");
    EXPECT_FALSE(t.failed());  // waits for the server to confirm the cancel
    t.server_says("-ERR [AUTH] cancelled\r\n").expect_client_sends("");
    expect_failure(t, errc::bad_base64);
}

TEST(ClientSession, C13CancelAnsweredWithOkStillFails) {
    client_transcript t(tls_config());
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL CRAM-MD5\r\n.\r\n").take();
    t.server_says("+ A===\r\n").expect_client_sends("*\r\n");
    t.server_says("+OK\r\n").expect_client_sends("");
    expect_failure(t, errc::bad_base64);
}

TEST(ClientSession, C13HugeChallengeIsLineTooLong) {
    auto c = tls_config();
    c.max_status_line = 1024;
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSASL CRAM-MD5\r\n.\r\n").take();
    t.server_says("+ " + std::string(100000, 'A') + "\r\n").expect_client_sends("");
    expect_failure(t, errc::line_too_long);
}

// ---------------------------------------------------------------------------------------
// STLS (RFC 2595) and the stripping / injection attacks

const std::string capa_stls_plain = "+OK\r\nSTLS\r\nSASL PLAIN\r\nUSER\r\nPIPELINING\r\n.\r\n";

core::client_config stls_required_config() {
    auto c = client_transcript::default_config();
    c.starttls = core::starttls_policy::required;
    return c;
}

TEST(ClientSession, C03StlsThenCapaAgainAndPreTlsCapabilitiesForgotten) {
    client_transcript t(stls_required_config());
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    EXPECT_EQ(t.tls_handshakes(), 0u);
    t.server_says("+OK Begin TLS negotiation now.\r\n").expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.tls_handshakes(), 1u);
    EXPECT_TRUE(t.session().tls_active());
    EXPECT_TRUE(t.session().capabilities().empty());
    EXPECT_FALSE(t.session().has_capability("PIPELINING"));
    t.server_says("+OK\r\nSASL SCRAM-SHA-256\r\nTOP\r\n.\r\n");
    const std::string auth = t.take();
    EXPECT_TRUE(auth.starts_with("AUTH SCRAM-SHA-256 ")) << auth;
    EXPECT_EQ(t.session().capabilities(), (std::vector<std::string>{"SASL SCRAM-SHA-256", "TOP"}));
    EXPECT_FALSE(t.session().has_capability("STLS"));
    EXPECT_FALSE(t.session().has_capability("USER"));
    EXPECT_EQ(t.log().front(), "S: +OK ready\r\n");
    EXPECT_NE(std::find(t.log().begin(), t.log().end(), "start_tls"), t.log().end());
}

TEST(ClientSession, StlsIfOfferedUpgradesToo) {
    client_transcript t;  // if_offered is the default
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    t.server_says("+OK\r\n").expect_client_sends("CAPA\r\n");
    // After TLS the cleartext mechanisms are allowed.
    t.server_says("+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
}

TEST(ClientSession, StlsIfOfferedRefusedGoesOnWithoutTls) {
    client_transcript t;
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nSTLS\r\nSASL PLAIN CRAM-MD5\r\nUSER\r\n.\r\n")
        .expect_client_sends("STLS\r\n");
    t.server_says("-ERR TLS not available right now\r\n").expect_client_sends("AUTH CRAM-MD5\r\n");
    EXPECT_EQ(t.tls_handshakes(), 0u);
    EXPECT_FALSE(t.session().tls_active());
}

TEST(ClientSession, StlsNeverIsNotSent) {
    auto c = cleartext_config();
    c.starttls = core::starttls_policy::never;
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
}

TEST(ClientSession, ImplicitTlsDoesNotStls) {
    auto c = tls_config();
    c.starttls = core::starttls_policy::required;
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
}

TEST(ClientSession, C01InjectedReplyAfterStlsOkAborts) {
    client_transcript t(stls_required_config());
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    t.server_says("+OK Begin TLS\r\n+OK\r\n").expect_client_sends("");
    expect_failure(t, errc::unexpected_data);
    EXPECT_EQ(t.tls_handshakes(), 0u);
    expect_no_credentials_sent(t);
}

TEST(ClientSession, C01InjectedCapabilitiesAfterStlsOkAbort) {
    client_transcript t;
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    t.server_says("+OK Begin TLS\r\n+OK\r\nSASL PLAIN\r\n.\r\n").expect_client_sends("");
    expect_failure(t, errc::unexpected_data);
    EXPECT_EQ(t.tls_handshakes(), 0u);
}

TEST(ClientSession, BytesFedBeforeTheHandshakeAreDropped) {
    // A transport that read plaintext after "+OK" but before the handshake must not have
    // it parsed as a post-TLS reply.
    client_transcript t(stls_required_config());
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    t.session().feed("+OK Begin TLS\r\n");
    auto a = t.session().next();
    ASSERT_TRUE(std::holds_alternative<core::client_action::start_tls>(a));
    t.session().feed("+OK\r\nSASL PLAIN\r\n.\r\n");  // injected, arrives in plaintext
    t.session().complete_tls(true);
    a = t.session().next();
    ASSERT_TRUE(std::holds_alternative<core::client_action::send>(a));
    EXPECT_EQ(std::get<core::client_action::send>(a).bytes, "CAPA\r\n");
    a = t.session().next();
    EXPECT_TRUE(std::holds_alternative<core::client_action::need_input>(a));
}

TEST(ClientSession, C02StlsRequiredButNotOffered) {
    client_transcript t(stls_required_config());
    t.server_says("+OK <1.2@x>\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("+OK\r\nSASL PLAIN\r\nUSER\r\n.\r\n").expect_client_sends("");
    expect_failure(t, errc::tls_required);
    EXPECT_EQ(t.sent(), "CAPA\r\n");
    expect_no_credentials_sent(t);
}

TEST(ClientSession, C02StlsRefused) {
    client_transcript t(stls_required_config());
    t.server_says("+OK <1.2@x>\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    t.server_says("-ERR \x1b[1mTLS is broken\r\n").expect_client_sends("");
    expect_failure(t, errc::tls_required);
    EXPECT_EQ(t.sent(), "CAPA\r\nSTLS\r\n");
    expect_no_credentials_sent(t);
}

TEST(ClientSession, C02CapaHidden) {
    auto c = stls_required_config();
    c.mechanism = "apop";  // even a named mechanism never goes out before TLS
    client_transcript t(c);
    t.server_says("+OK <1.2@x>\r\n").take();
    t.server_says("-ERR\r\n").expect_client_sends("");
    expect_failure(t, errc::tls_required);
    EXPECT_EQ(t.sent(), "CAPA\r\n");
    expect_no_credentials_sent(t);
}

TEST(ClientSession, C02HandshakeFails) {
    client_transcript t(stls_required_config());
    t.tls_results({false});
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    t.server_says("+OK\r\n").expect_client_sends("");
    expect_failure(t, errc::tls_required);
    EXPECT_EQ(t.tls_handshakes(), 1u);
    expect_no_credentials_sent(t);
}

TEST(ClientSession, C02MalformedStlsReply) {
    client_transcript t(stls_required_config());
    t.server_says("+OK\r\n").take();
    t.server_says(capa_stls_plain).expect_client_sends("STLS\r\n");
    t.server_says("OK go ahead\r\n").expect_client_sends("");
    ASSERT_TRUE(t.failed());
    expect_no_credentials_sent(t);
}

TEST(ClientSession, C06EscapesInGreetingKeptButNeverInFailureText) {
    client_transcript t;  // no cleartext, no TLS: the login will fail on our side
    const std::string text = "\x1b[31m[SYS/PERM] Your account is suspended\x1b[0m <1.2@x>";
    t.server_says("+OK " + text + "\r\n").expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().greeting(), text);  // kept as is; the caller escapes it
    EXPECT_EQ(t.session().apop_timestamp(), "<1.2@x>");
    t.server_says("+OK\r\nUSER\r\n.\r\n").expect_client_sends("");
    expect_failure(t, errc::cleartext_refused);
}

TEST(ClientSession, C06EscapesInErrGreetingArePrintable) {
    client_transcript t;
    t.server_says("-ERR [SYS/PERM] \x1b]0;owned\x07\x1b[2J\xff bye\r\n");
    expect_failure(t, errc::protocol_violation);
    EXPECT_EQ(t.failure()->detail.find('\x1b'), std::string::npos);
    EXPECT_NE(t.failure()->detail.find("[SYS/PERM]"), std::string::npos);
}

TEST(ClientSession, C06EscapesInLoginErrorArePrintable) {
    client_transcript t(cleartext_config());
    t.server_says("+OK\r\n").take();
    t.server_says(capa_user_only).take();
    t.server_says("-ERR \x1b[2J\r\x07 no\r\n");
    expect_failure(t, errc::authentication_failed);
}

TEST(ClientSession, C07UnsolicitedLinesAfterGreeting) {
    client_transcript t(cleartext_config());
    t.server_says("+OK ready\r\n+OK\r\nUSER\r\n.\r\n").expect_client_sends("");
    expect_failure(t, errc::unexpected_data);
    EXPECT_EQ(t.sent(), "");
}

TEST(ClientSession, C07ExtraReplyAfterLoginOk) {
    client_transcript t(cleartext_config());
    t.server_says("+OK\r\n").take();
    t.server_says(capa_user_pipelining).take();
    t.server_says("+OK\r\n").expect_client_sends("PASS wonderland\r\n");
    t.server_says("+OK Logged in\r\n+OK 0 0\r\n");
    expect_failure(t, errc::unexpected_data);
}

TEST(ClientSession, C07ExtraReplyBeforeUserCommand) {
    // "+OK" to USER followed by a fake "+OK" for the PASS we have not sent yet.
    client_transcript t(cleartext_config());
    t.server_says("+OK\r\n").take();
    t.server_says(capa_user_pipelining).take();
    t.server_says("+OK\r\n+OK\r\n").expect_client_sends("");
    expect_failure(t, errc::unexpected_data);
    EXPECT_EQ(t.sent().find("PASS"), std::string::npos);
}

TEST(ClientSession, C07UnsolicitedDataWhileIdle) {
    auto t = logged_in_client();
    const auto id = t->submit(request_kind::noop);
    t->expect_client_sends("NOOP\r\n");
    t->server_says("+OK\r\n+OK 1 100\r\n");
    ASSERT_NE(t->response(id), nullptr);
    expect_transaction_failure(*t, errc::unexpected_data);
}

TEST(ClientSession, C07UnsolicitedDataBeforeNextCommand) {
    // Not pipelining: the stray line must not become the reply to the next command.
    auto t = logged_in_client(capa_user_only);
    const auto a = t->submit(request_kind::noop);
    const auto b = t->submit(request_kind::dele, 1);
    t->expect_client_sends("NOOP\r\n");
    t->server_says("+OK\r\n+OK message 1 deleted\r\n").expect_client_sends("");
    ASSERT_NE(t->response(a), nullptr);
    EXPECT_EQ(t->response(b), nullptr);
    expect_transaction_failure(*t, errc::unexpected_data);
}

TEST(ClientSession, C08StatusLineLongerThanLimit) {
    auto c = cleartext_config();
    c.max_status_line = 512;
    client_transcript t(c);
    t.server_says("+OK " + std::string(600, 'x') + "\r\n").expect_client_sends("");
    expect_failure(t, errc::line_too_long);
}

TEST(ClientSession, C08StatusLineAtLimitIsFine) {
    auto c = cleartext_config();
    c.max_status_line = 512;
    client_transcript t(c);
    t.server_says("+OK " + std::string(500, 'x') + "\r\n").expect_client_sends("CAPA\r\n");
}

std::size_t heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    // Large blocks are mmapped and counted in hblkhd, not uordblks.
    const auto m = mallinfo2();
    return m.uordblks + m.hblkhd;
#else
    return 0;
#endif
}

TEST(ClientSession, C08EndlessLineKeepsMemoryBounded) {
    client_transcript t(cleartext_config());
    const std::string chunk(64 * 1024, 'A');
    const std::size_t before = heap_in_use();
    std::size_t peak = 0;
    for (std::size_t fed = 0; fed < 16 * 1024 * 1024; fed += chunk.size()) {
        t.feed_raw(chunk);
        t.run();
        peak = std::max(peak, heap_in_use());
    }
    expect_failure(t, errc::line_too_long);
    EXPECT_EQ(t.sent(), "");
    if (before != 0) {
        EXPECT_LT(peak - std::min(peak, before), 1024u * 1024u);
    }
}

TEST(ClientSession, C08BytesAfterAFailureAreNotBuffered) {
    // After any failure (here an unsolicited reply) a server that keeps sending must not
    // grow the client's buffer, whether or not the bytes contain line ends.
    client_transcript t(cleartext_config());
    t.server_says("+OK ready\r\n+OK\r\n");
    expect_failure(t, errc::unexpected_data);
    std::string chunk;
    while (chunk.size() < 64 * 1024) chunk += "+OK more lines the client no longer wants\r\n";
    const std::size_t before = heap_in_use();
    std::size_t peak = 0;
    for (int i = 0; i < 256; ++i) {
        t.session().feed(chunk);
        peak = std::max(peak, heap_in_use());
    }
    if (before != 0) {
        EXPECT_LT(peak - std::min(peak, before), 1024u * 1024u);
    }
    auto a = t.session().next();
    ASSERT_TRUE(std::holds_alternative<core::client_action::failed>(a));
    EXPECT_EQ(std::get<core::client_action::failed>(a).ec,
              core::make_error_code(errc::unexpected_data));
}

TEST(ClientSession, C08EndlessListingLine) {
    auto t = logged_in_client();
    t->submit(request_kind::uidl);
    t->expect_client_sends("UIDL\r\n");
    t->server_says("+OK\r\n1 abc\r\n2 ");
    const std::string chunk(64 * 1024, 'u');
    for (int i = 0; i < 64; ++i) {
        t->feed_raw(chunk);
        t->run();
    }
    expect_transaction_failure(*t, errc::line_too_long);
    ASSERT_EQ(t->entries().size(), 1u);
    EXPECT_EQ(t->entries()[0].uid, "abc");
}

TEST(ClientSession, C08TooManyCapabilityLines) {
    client_transcript t(cleartext_config());
    t.server_says("+OK\r\n").take();
    std::string capa = "+OK\r\n";
    for (int i = 0; i < 5000; ++i) capa += "X-CAP-" + std::to_string(i) + "\r\n";
    t.server_says(capa + ".\r\n").expect_client_sends("");
    expect_failure(t, errc::protocol_violation);
}

TEST(ClientSession, C09EofInTheMiddleOfABody) {
    auto t = logged_in_client();
    const auto id = t->submit(request_kind::retr, 1);
    t->expect_client_sends("RETR 1\r\n");
    t->server_says("+OK 120 octets\r\nSubject: x\r\n\r\nhalf a bo");
    EXPECT_FALSE(t->failed());
    t->server_closes();
    expect_transaction_failure(*t, errc::body_incomplete);
    EXPECT_TRUE(t->body_ends().empty());
    EXPECT_EQ(t->body(id), "Subject: x\r\n\r\nhalf a bo");
}

TEST(ClientSession, C09EofRightBeforeTerminator) {
    auto t = logged_in_client();
    t->submit(request_kind::retr, 1);
    t->take();
    t->server_says("+OK\r\nbody\r\n").server_closes();
    expect_transaction_failure(*t, errc::body_incomplete);
    EXPECT_TRUE(t->body_ends().empty());
}

TEST(ClientSession, EofInTheMiddleOfAListing) {
    auto t = logged_in_client();
    t->submit(request_kind::list);
    t->take();
    t->server_says("+OK\r\n1 100\r\n").server_closes();
    ASSERT_TRUE(t->failed());
    EXPECT_TRUE(t->listing_ends().empty());
}

TEST(ClientSession, EofDuringLoginFails) {
    client_transcript t(cleartext_config());
    t.server_says("+OK\r\n").take();
    t.server_closes();
    ASSERT_TRUE(t.failed());
    EXPECT_FALSE(t.closed());
}

TEST(ClientSession, EofWhileIdleIsClosed) {
    auto t = logged_in_client();
    t->server_closes();
    EXPECT_TRUE(t->closed());
    EXPECT_FALSE(t->failed());
}

// C10, a body past max_octets (the message and the connection are given up): see
// test_client_hostile.cpp.

TEST(ClientSession, MaxOctetsExactlyReachedIsFine) {
    auto t = logged_in_client();
    const auto id = t->submit(request_kind::retr, 1, 0, 7);
    t->take();
    t->server_says("+OK\r\nsmall\r\n.\r\n");
    ASSERT_NE(t->body_end(id), nullptr);
    EXPECT_FALSE(t->body_end(id)->ec);
    EXPECT_EQ(t->body_end(id)->octets, 7u);
}

TEST(ClientSession, C11UidLengths) {
    auto t = logged_in_client();
    const auto id = t->submit(request_kind::uidl);
    t->take();
    const std::string uid70(70, 'a');
    const std::string uid1(1, 'b');
    t->server_says("+OK\r\n1 " + uid70 + "\r\n2 " + uid1 +
                   "\r\n3 ../x\r\n4 ~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}\r\n.\r\n");
    EXPECT_FALSE(t->failed());
    ASSERT_EQ(t->entries().size(), 4u);
    EXPECT_EQ(t->entries()[0].uid, uid70);
    EXPECT_EQ(t->entries()[1].uid, uid1);
    // Printable and so valid here; turning a UID into a file name safely is the store's job.
    EXPECT_EQ(t->entries()[2].uid, "../x");
    EXPECT_EQ(t->entries()[3].uid, "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}");
    EXPECT_EQ(t->entries()[3].number, 4u);
    EXPECT_EQ(t->listing_ends(), (std::vector<std::uint64_t>{id}));
}

class BadUid : public ::testing::TestWithParam<std::string> {};

TEST_P(BadUid, ListingLineFails) {
    auto t = logged_in_client();
    t->submit(request_kind::uidl);
    t->take();
    t->server_says("+OK\r\n1 good\r\n2 " + GetParam() + "\r\n3 fine\r\n.\r\n");
    expect_transaction_failure(*t, errc::bad_uid);
    ASSERT_EQ(t->entries().size(), 1u);
}

TEST_P(BadUid, SingleReplyFails) {
    auto t = logged_in_client();
    t->submit(request_kind::uidl, 2);
    t->take();
    t->server_says("+OK 2 " + GetParam() + "\r\n");
    // A space ends the UID in the single-line reply (text may follow it), so only the
    // octets before it are judged there.
    if (GetParam().find(' ') != std::string::npos) return;
    expect_transaction_failure(*t, errc::bad_uid);
    EXPECT_TRUE(t->responses().empty());
}

INSTANTIATE_TEST_SUITE_P(ClientSession, BadUid,
                         ::testing::Values(std::string(71, 'c'),
                                           "ab\x01"
                                           "cd",
                                           "ab\x7f", "caf\xc3\xa9", "tab\there", "sp ace",
                                           "esc\x1b[0m"));

class MalformedListing : public ::testing::TestWithParam<std::string> {};

TEST_P(MalformedListing, ListLine) {
    auto t = logged_in_client();
    t->submit(request_kind::list);
    t->take();
    t->server_says("+OK\r\n1 100\r\n" + GetParam() + "\r\n.\r\n");
    expect_transaction_failure(*t, errc::malformed_listing);
    EXPECT_EQ(t->entries().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(ClientSession, MalformedListing,
                         ::testing::Values("2 -5", "2 9223372036854775808", "2 0x10", "2 12abc",
                                           "-1 100", "0 100", "2", "2 ", "+2 100", "4294967296 100",
                                           "2 18446744073709551616", "x y", " 2 100", "2 +5"));

class MalformedStat : public ::testing::TestWithParam<std::string> {};

TEST_P(MalformedStat, StatReply) {
    auto t = logged_in_client();
    t->submit(request_kind::stat);
    t->take();
    t->server_says("+OK " + GetParam() + "\r\n");
    expect_transaction_failure(*t, errc::malformed_listing);
    EXPECT_TRUE(t->responses().empty());
}

INSTANTIATE_TEST_SUITE_P(ClientSession, MalformedStat,
                         ::testing::Values("-1 0", "2 -320", "2 9223372036854775808", "0x2 320",
                                           "2 0x140", "4294967296 0", "2", "", "two 320",
                                           "2 320abc"));

TEST(ClientSession, C12ListSingleMalformed) {
    auto t = logged_in_client();
    t->submit(request_kind::list, 1);
    t->take();
    t->server_says("+OK 1 -3\r\n");
    expect_transaction_failure(*t, errc::malformed_listing);
}

TEST(ClientSession, ListSingleForAnotherMessageIsMalformed) {
    auto t = logged_in_client();
    t->submit(request_kind::list, 1);
    t->take();
    t->server_says("+OK 2 300\r\n");
    expect_transaction_failure(*t, errc::malformed_listing);
}

TEST(ClientSession, C14MalformedApopTimestamps) {
    for (std::string greeting : {"+OK <>", "+OK <12345.localhost>", "+OK <a b@c>", "+OK <1.2@x",
                                 "+OK 1.2@x>", "+OK <1.2@x\x01y>"}) {
        SCOPED_TRACE(greeting);
        auto c = tls_config();
        c.mechanism = "apop";
        client_transcript t(c);
        t.server_says(greeting + "\r\n").expect_client_sends("CAPA\r\n");
        EXPECT_EQ(t.session().apop_timestamp(), "");
        t.server_says("-ERR\r\n").expect_client_sends("");
        expect_failure(t, errc::mechanism_unavailable);
        expect_no_credentials_sent(t);
    }
}

TEST(ClientSession, C14MalformedTimestampAutoModeFallsBackToUser) {
    client_transcript t(tls_config());
    t.server_says("+OK <>\r\n").take();
    t.server_says("-ERR\r\n").expect_client_sends("USER alice\r\n");
}

TEST(ClientSession, C14ApopWithoutTlsNotChosenAutomatically) {
    client_transcript t(cleartext_config());
    t.server_says("+OK <1.2@x>\r\n").take();
    t.server_says("-ERR\r\n").expect_client_sends("USER alice\r\n");
}

// ---------------------------------------------------------------------------------------
// TRANSACTION

TEST(ClientSession, SubmitBeforeLoginIsAProgrammerError) {
    client_transcript t;
    EXPECT_THROW(t.submit(request_kind::stat), std::logic_error);
    EXPECT_THROW(t.session().complete_tls(true), std::logic_error);
}

TEST(ClientSession, StatListUidlTopRetrDeleQuit) {
    auto t = logged_in_client(capa_user_only);
    const auto stat = t->submit(request_kind::stat);
    t->expect_client_sends("STAT\r\n");
    t->server_says("+OK 2 320\r\n");
    ASSERT_NE(t->response(stat), nullptr);
    EXPECT_TRUE(t->response(stat)->ok);
    EXPECT_EQ(t->response(stat)->kind, request_kind::stat);
    EXPECT_EQ(t->response(stat)->a, 2u);
    EXPECT_EQ(t->response(stat)->b, 320u);

    const auto list = t->submit(request_kind::list);
    t->expect_client_sends("LIST\r\n");
    t->server_says("+OK 2 messages (320 octets)\r\n1 120\r\n2 200 extra\r\n.\r\n");
    EXPECT_EQ(t->response(list)->text, "2 messages (320 octets)");
    ASSERT_EQ(t->entries().size(), 2u);
    EXPECT_EQ(t->entries()[0].id, list);
    EXPECT_EQ(t->entries()[0].number, 1u);
    EXPECT_EQ(t->entries()[0].size, 120u);
    EXPECT_EQ(t->entries()[1].number, 2u);
    EXPECT_EQ(t->entries()[1].size, 200u);
    EXPECT_EQ(t->listing_ends(), (std::vector<std::uint64_t>{list}));

    const auto list2 = t->submit(request_kind::list, 2);
    t->expect_client_sends("LIST 2\r\n");
    t->server_says("+OK 2 200\r\n");
    EXPECT_EQ(t->response(list2)->a, 2u);
    EXPECT_EQ(t->response(list2)->b, 200u);

    const auto uidl = t->submit(request_kind::uidl);
    t->expect_client_sends("UIDL\r\n");
    t->server_says("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n");
    ASSERT_EQ(t->entries().size(), 4u);
    EXPECT_EQ(t->entries()[2].id, uidl);
    EXPECT_EQ(t->entries()[2].uid, "whqtswO00WBw418f9t5JxYwZ");
    EXPECT_EQ(t->entries()[3].uid, "QhdPYR:00WBw1Ph7x7");

    const auto uidl1 = t->submit(request_kind::uidl, 1);
    t->expect_client_sends("UIDL 1\r\n");
    t->server_says("+OK 1 whqtswO00WBw418f9t5JxYwZ\r\n");
    EXPECT_EQ(t->response(uidl1)->a, 1u);
    EXPECT_EQ(t->response(uidl1)->uid, "whqtswO00WBw418f9t5JxYwZ");

    const auto top = t->submit(request_kind::top, 1, 0);
    t->expect_client_sends("TOP 1 0\r\n");
    t->server_says("+OK\r\nSubject: one\r\n\r\n.\r\n");
    EXPECT_EQ(t->body(top), "Subject: one\r\n\r\n");
    ASSERT_NE(t->body_end(top), nullptr);
    EXPECT_EQ(t->body_end(top)->octets, 16u);

    const auto retr = t->submit(request_kind::retr, 1);
    t->expect_client_sends("RETR 1\r\n");
    t->server_says("+OK 120 octets\r\nSubject: one\r\n\r\nbody\r\n.\r\n");
    EXPECT_EQ(t->body(retr), "Subject: one\r\n\r\nbody\r\n");
    EXPECT_EQ(t->response(retr)->kind, request_kind::retr);

    const auto dele = t->submit(request_kind::dele, 1);
    t->expect_client_sends("DELE 1\r\n");
    t->server_says("+OK message 1 deleted\r\n");
    EXPECT_TRUE(t->response(dele)->ok);

    const auto noop = t->submit(request_kind::noop);
    const auto rset = t->submit(request_kind::rset);
    t->expect_client_sends("NOOP\r\n");
    t->server_says("+OK\r\n").expect_client_sends("RSET\r\n");
    t->server_says("+OK maildrop has 2 messages\r\n");
    EXPECT_TRUE(t->response(noop)->ok);
    EXPECT_TRUE(t->response(rset)->ok);

    const auto quit = t->submit(request_kind::quit);
    t->expect_client_sends("QUIT\r\n");
    EXPECT_FALSE(t->closed());
    t->server_says("+OK dewey POP3 server signing off\r\n");
    EXPECT_TRUE(t->response(quit)->ok);
    EXPECT_TRUE(t->closed());
    EXPECT_FALSE(t->failed());
    EXPECT_EQ(t->session().outstanding(), 0u);
}

TEST(ClientSession, CapaAfterLogin) {
    auto t = logged_in_client();
    const auto id = t->submit(request_kind::capa);
    t->expect_client_sends("CAPA\r\n");
    t->server_says("+OK\r\nTOP\r\nUIDL\r\n.\r\n");
    EXPECT_EQ(t->listing_ends(), (std::vector<std::uint64_t>{id}));
    EXPECT_EQ(t->session().capabilities(), (std::vector<std::string>{"TOP", "UIDL"}));
}

TEST(ClientSession, ErrRepliesWithCodes) {
    auto t = logged_in_client(capa_user_only);
    const auto id = t->submit(request_kind::retr, 9);
    t->expect_client_sends("RETR 9\r\n");
    t->server_says("-ERR [SYS/TEMP] no such message\r\n");
    ASSERT_NE(t->response(id), nullptr);
    EXPECT_FALSE(t->response(id)->ok);
    EXPECT_EQ(t->response(id)->code, "SYS/TEMP");
    EXPECT_EQ(t->response(id)->text, "no such message");
    EXPECT_EQ(t->body_end(id), nullptr);
    EXPECT_FALSE(t->failed());
    const auto quit = t->submit(request_kind::quit);
    t->expect_client_sends("QUIT\r\n");
    t->server_says("-ERR [SYS/PERM] some deleted messages not removed\r\n");
    EXPECT_FALSE(t->response(quit)->ok);
    EXPECT_TRUE(t->closed());
}

TEST(ClientSession, MalformedReplyInTransaction) {
    auto t = logged_in_client();
    t->submit(request_kind::noop);
    t->take();
    t->server_says("+ \r\n");
    expect_transaction_failure(*t, errc::malformed_status);
}

TEST(ClientSession, WrongListSizesAreOnlyHints) {
    auto t = logged_in_client();
    const auto list = t->submit(request_kind::list);
    const auto r1 = t->submit(request_kind::retr, 1);
    const auto r2 = t->submit(request_kind::retr, 2);
    t->expect_client_sends("LIST\r\nRETR 1\r\nRETR 2\r\n");
    const std::string longer =
        "Subject: longer than listed\r\n\r\n" + std::string(200, 'x') + "\r\n";
    const std::string shorter = "Subject: s\r\n\r\nx\r\n";
    t->server_says("+OK\r\n1 10\r\n2 5000\r\n.\r\n+OK 10 octets\r\n" + longer +
                   ".\r\n+OK 5000 octets\r\n" + shorter + ".\r\n");
    EXPECT_EQ(t->listing_ends(), (std::vector<std::uint64_t>{list}));
    EXPECT_EQ(t->body(r1), longer);
    EXPECT_EQ(t->body(r2), shorter);
    EXPECT_FALSE(t->body_end(r1)->ec);
    EXPECT_FALSE(t->body_end(r2)->ec);
    EXPECT_EQ(t->body_end(r1)->octets, longer.size());
    EXPECT_EQ(t->body_end(r2)->octets, shorter.size());
}

TEST(ClientSession, BareLfServer) {
    client_transcript t(cleartext_config());
    t.server_says("+OK hi\n").expect_client_sends("CAPA\r\n");
    t.server_says("+OK\nUSER\nPIPELINING\n.\n").expect_client_sends("USER alice\r\n");
    t.server_says("+OK\n").expect_client_sends("PASS wonderland\r\n");
    t.server_says("+OK\n");
    ASSERT_EQ(t.logged_in(), "user");
    const auto list = t.submit(request_kind::list);
    const auto retr = t.submit(request_kind::retr, 1);
    const auto quit = t.submit(request_kind::quit);
    t.expect_client_sends("LIST\r\nRETR 1\r\nQUIT\r\n");
    t.server_says("+OK\n1 17\n.\n+OK\nSubject: a\n\n..b\n.\n+OK bye\n");
    EXPECT_EQ(t.entries().size(), 1u);
    EXPECT_EQ(t.listing_ends(), (std::vector<std::uint64_t>{list}));
    EXPECT_EQ(t.body(retr), "Subject: a\r\n\r\n.b\r\n");
    EXPECT_TRUE(t.response(quit)->ok);
    EXPECT_TRUE(t.closed());
}

TEST(ClientSession, ErrInTheMiddleOfAPipeline) {
    auto t = logged_in_client();
    const auto a = t->submit(request_kind::retr, 1);
    const auto b = t->submit(request_kind::retr, 2);
    const auto c = t->submit(request_kind::uidl);
    const auto d = t->submit(request_kind::retr, 3);
    t->expect_client_sends("RETR 1\r\nRETR 2\r\nUIDL\r\nRETR 3\r\n");
    t->server_says(
        "+OK\r\none\r\n.\r\n-ERR no such message\r\n-ERR [SYS/TEMP] UIDL broken\r\n"
        "+OK\r\nthree\r\n.\r\n");
    EXPECT_TRUE(t->response(a)->ok);
    EXPECT_FALSE(t->response(b)->ok);
    EXPECT_EQ(t->response(b)->text, "no such message");
    EXPECT_FALSE(t->response(c)->ok);
    EXPECT_EQ(t->response(c)->code, "SYS/TEMP");
    EXPECT_TRUE(t->response(d)->ok);
    EXPECT_EQ(t->body(a), "one\r\n");
    EXPECT_EQ(t->body(d), "three\r\n");
    EXPECT_EQ(t->bodies().count(b), 0u);
    EXPECT_TRUE(t->listing_ends().empty());
    EXPECT_EQ(t->events(), (std::vector<std::string>{
                               "logged_in user", "response 1 ok", "body_end 1", "response 2 err",
                               "response 3 err", "response 4 ok", "body_end 4"}));
}

std::string retr_reply(int n) {
    return "+OK\r\nSubject: " + std::to_string(n) + "\r\n\r\nbody " + std::to_string(n) +
           "\r\n.\r\n";
}

std::size_t count_of(const std::string& s, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t pos = 0; (pos = s.find(what, pos)) != std::string::npos; pos += what.size())
        ++n;
    return n;
}

TEST(ClientSession, PipelineWindowBoundsCommandsInFlight) {
    auto c = cleartext_config();
    c.pipeline_window = 4;
    auto t = logged_in_client(capa_user_pipelining, c);
    EXPECT_TRUE(t->session().pipelining_active());
    std::vector<std::uint64_t> ids;
    for (int i = 1; i <= 10; ++i) ids.push_back(t->submit(request_kind::retr, i));
    t->expect_client_sends("RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 4\r\n");
    EXPECT_EQ(t->session().outstanding(), 10u);
    t->server_says(retr_reply(1)).expect_client_sends("RETR 5\r\n");
    t->server_says(retr_reply(2) + retr_reply(3)).expect_client_sends("RETR 6\r\nRETR 7\r\n");
    std::string rest;
    for (int i = 4; i <= 10; ++i) rest += retr_reply(i);
    t->server_says(rest);
    EXPECT_EQ(count_of(t->sent(), "RETR "), 10u);
    for (int i = 1; i <= 10; ++i)
        EXPECT_EQ(t->body(ids[i - 1]),
                  "Subject: " + std::to_string(i) + "\r\n\r\nbody " + std::to_string(i) + "\r\n");
    EXPECT_EQ(t->session().outstanding(), 0u);
}

TEST(ClientSession, PipelineWindowNeverExceededWhileBytesTrickleIn) {
    auto c = cleartext_config();
    c.pipeline_window = 4;
    auto t = logged_in_client(capa_user_pipelining, c);
    for (int i = 1; i <= 10; ++i) t->submit(request_kind::retr, i);
    std::string all;
    for (int i = 1; i <= 10; ++i) all += retr_reply(i);
    t->take();
    std::size_t answered = 0;
    for (std::size_t pos = 0; pos < all.size(); ++pos) {
        t->feed_raw(all.substr(pos, 1));
        t->run();
        answered = t->body_ends().size();
        EXPECT_LE(count_of(t->sent(), "RETR "), answered + 4) << pos;
    }
    EXPECT_EQ(answered, 10u);
}

TEST(ClientSession, WithoutPipeliningOneAtATime) {
    auto t = logged_in_client(capa_user_only);
    EXPECT_FALSE(t->session().pipelining_active());
    for (int i = 1; i <= 3; ++i) t->submit(request_kind::retr, i);
    t->expect_client_sends("RETR 1\r\n");
    t->server_says(retr_reply(1)).expect_client_sends("RETR 2\r\n");
    t->server_says(retr_reply(2)).expect_client_sends("RETR 3\r\n");
    t->server_says(retr_reply(3)).expect_client_sends("");
    EXPECT_EQ(t->body_ends().size(), 3u);
}

TEST(ClientSession, PipeliningSwitchedOffByConfig) {
    auto c = cleartext_config();
    c.pipelining = false;
    auto t = logged_in_client(capa_user_pipelining, c);
    EXPECT_FALSE(t->session().pipelining_active());
    t->submit(request_kind::stat);
    t->submit(request_kind::list);
    t->expect_client_sends("STAT\r\n");
    t->server_says("+OK 0 0\r\n").expect_client_sends("LIST\r\n");
}

TEST(ClientSession, ForcedPipeliningWithoutTheCapability) {
    auto c = cleartext_config();
    c.force_pipelining = true;
    auto t = logged_in_client(capa_user_only, c);
    EXPECT_TRUE(t->session().pipelining_active());
    for (int i = 1; i <= 3; ++i) t->submit(request_kind::retr, i);
    t->expect_client_sends("RETR 1\r\nRETR 2\r\nRETR 3\r\n");
    t->server_says(retr_reply(1) + retr_reply(2) + retr_reply(3)).expect_client_sends("");
    EXPECT_EQ(t->body_ends().size(), 3u);
}

TEST(ClientSession, ForcedPipeliningStillOffWhenSwitchedOff) {
    auto c = cleartext_config();
    c.force_pipelining = true;
    c.pipelining = false;
    auto t = logged_in_client(capa_user_only, c);
    EXPECT_FALSE(t->session().pipelining_active());
    t->submit(request_kind::retr, 1);
    t->submit(request_kind::retr, 2);
    t->expect_client_sends("RETR 1\r\n");
}

TEST(ClientSession, PipelineOctetsBoundRetrsInFlight) {
    auto c = cleartext_config();
    c.pipeline_octets = 100;
    auto t = logged_in_client(capa_user_pipelining, c);
    // 40 + 40 fit, a third 40 would not; a lone message larger than the bound still goes.
    t->submit(request_kind::retr, 1, 0, 40);
    t->submit(request_kind::retr, 2, 0, 40);
    t->submit(request_kind::retr, 3, 0, 40);
    t->submit(request_kind::retr, 4, 0, 500);
    t->submit(request_kind::dele, 1);
    t->expect_client_sends("RETR 1\r\nRETR 2\r\n");
    t->server_says(retr_reply(1)).expect_client_sends("RETR 3\r\n");
    t->server_says(retr_reply(2)).expect_client_sends("");
    t->server_says(retr_reply(3)).expect_client_sends("RETR 4\r\nDELE 1\r\n");
    t->server_says(retr_reply(4) + "+OK deleted\r\n").expect_client_sends("");
    EXPECT_EQ(t->body_ends().size(), 4u);
    EXPECT_EQ(t->session().outstanding(), 0u);
}

TEST(ClientSession, NothingIsSentAfterQuit) {
    auto t = logged_in_client();
    t->submit(request_kind::retr, 1);
    t->submit(request_kind::quit);
    t->submit(request_kind::noop);
    t->expect_client_sends("RETR 1\r\nQUIT\r\n");
    t->server_says(retr_reply(1)).expect_client_sends("");
    t->server_says("+OK bye\r\n").expect_client_sends("");
    EXPECT_TRUE(t->closed());
}

// The dot-stuffed fixture: lines starting with "." and "..", a lone "." line inside the
// body, an empty line, and a line that is only "..".
const std::string stuffed_wire =
    "+OK 61 octets\r\nSubject: dots\r\n\r\n..leading dot\r\n...two dots\r\n..\r\n\r\n"
    "....\r\nend.\r\n.\r\n+OK 1 61\r\n";
const std::string stuffed_message =
    "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n\r\n...\r\nend.\r\n";

void check_stuffed(client_transcript& t, std::uint64_t retr, std::uint64_t list) {
    EXPECT_FALSE(t.failed()) << (t.failed() ? t.failure()->detail : "");
    EXPECT_EQ(t.body(retr), stuffed_message);
    ASSERT_NE(t.body_end(retr), nullptr);
    EXPECT_EQ(t.body_end(retr)->octets, stuffed_message.size());
    ASSERT_NE(t.response(list), nullptr);
    EXPECT_EQ(t.response(list)->b, 61u);
    EXPECT_EQ(t.events(), (std::vector<std::string>{"logged_in user", "response 1 ok", "body_end 1",
                                                    "response 2 ok"}));
}

TEST(ClientSession, DotStuffedBodyWhole) {
    auto t = logged_in_client();
    const auto retr = t->submit(request_kind::retr, 1);
    const auto list = t->submit(request_kind::list, 1);
    t->expect_client_sends("RETR 1\r\nLIST 1\r\n");
    t->server_says(stuffed_wire);
    check_stuffed(*t, retr, list);
    EXPECT_EQ(t->body_pieces().size(), 1u);
}

TEST(ClientSession, DotStuffedBodyByteByByte) {
    auto t = logged_in_client();
    const auto retr = t->submit(request_kind::retr, 1);
    const auto list = t->submit(request_kind::list, 1);
    t->take();
    t->server_says_in_pieces(stuffed_wire, 1);
    check_stuffed(*t, retr, list);
}

TEST(ClientSession, DotStuffedBodySplitAtEveryOffset) {
    for (std::size_t split = 1; split < stuffed_wire.size(); ++split) {
        SCOPED_TRACE(split);
        auto t = logged_in_client();
        const auto retr = t->submit(request_kind::retr, 1);
        const auto list = t->submit(request_kind::list, 1);
        t->take();
        t->server_says(stuffed_wire.substr(0, split));
        t->server_says(stuffed_wire.substr(split));
        check_stuffed(*t, retr, list);
        if (HasFailure()) break;
    }
}

TEST(ClientSession, BodyChunkBoundsBodyEvents) {
    auto c = cleartext_config();
    c.body_chunk = 5;
    auto t = logged_in_client(capa_user_pipelining, c);
    const auto retr = t->submit(request_kind::retr, 1);
    const auto list = t->submit(request_kind::list, 1);
    t->take();
    t->server_says(stuffed_wire);
    check_stuffed(*t, retr, list);
    EXPECT_GT(t->body_pieces().size(), 5u);
    for (auto n : t->body_pieces()) EXPECT_LE(n, 6u);  // a bare LF may grow into CRLF
}

TEST(ClientSession, BodyChunkZeroStillProgresses) {
    auto c = cleartext_config();
    c.body_chunk = 0;  // nonsense, but must not loop forever
    auto t = logged_in_client(capa_user_pipelining, c);
    const auto retr = t->submit(request_kind::retr, 1);
    const auto list = t->submit(request_kind::list, 1);
    t->take();
    t->server_says(stuffed_wire);
    check_stuffed(*t, retr, list);
}

TEST(ClientSession, EmptyBody) {
    auto t = logged_in_client();
    const auto id = t->submit(request_kind::top, 1, 0);
    t->take();
    t->server_says("+OK\r\n.\r\n");
    ASSERT_NE(t->body_end(id), nullptr);
    EXPECT_EQ(t->body_end(id)->octets, 0u);
    EXPECT_EQ(t->body(id), "");
}

TEST(ClientSession, TerminatorLookalikesInsideBody) {
    // ".. x" and "..x" are stuffed lines whose first dot goes; only ".CRLF" ends the body.
    auto t = logged_in_client();
    const auto id = t->submit(request_kind::retr, 1);
    t->take();
    t->server_says("+OK\r\n.. x\r\n..x\r\n.\r\n");
    EXPECT_EQ(t->body(id), ". x\r\n.x\r\n");
    EXPECT_EQ(t->body_ends().size(), 1u);
}

}  // namespace
}  // namespace izypop3::test
