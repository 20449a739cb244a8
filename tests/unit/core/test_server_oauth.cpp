// XOAUTH2 and OAUTHBEARER on the server: the mechanisms' parsers (RFC 7628 section 3.1,
// Google's XOAUTH2) and whole exchanges through server_session, byte for byte, with the
// token validator played by the transcript environment.

#include "server_transcript.hpp"

#include "../../../libpop3core/src/sasl/server_mechanisms.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/sasl/client_mechanism.hpp>
#include <izypop3/core/sasl/server_mechanism.hpp>
#include <izypop3/core/server_session.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace izypop3::test {
namespace {

namespace sasl = core::sasl;
namespace step = core::sasl::step;
using core::close_reason;
using namespace std::string_literals;

const std::string logged_in = "+OK You are now logged in\r\n";
const std::string invalid_login = "-ERR [AUTH] Invalid login\r\n";
const std::string too_many_failed = "-ERR Too many failed logins; closing the connection\r\n";
const std::string oauthbearer_error = R"({"status":"invalid_token"})";
const std::string xoauth2_error = R"({"status":"401","schemes":"bearer"})";

const std::string good_token = "ya29.a0-Good_Token~+/==";

std::string xoauth2(std::string_view user, std::string_view token) {
    return "user="s + std::string(user) + "\x01" + "auth=Bearer " + std::string(token) + "\x01\x01";
}

std::string oauthbearer(std::string_view authzid, std::string_view token) {
    return "n,"s + (authzid.empty() ? "" : "a=" + std::string(authzid)) +
           ",\x01host=pop.example\x01" + "port=995\x01" + "auth=Bearer " + std::string(token) +
           "\x01\x01";
}

core::server_config token_config() {
    auto c = server_transcript::default_config();
    c.validate_tokens = true;
    return c;
}

fake_environment token_environment() {
    auto e = server_transcript::default_environment();
    e.tokens = {{good_token, "alice"}, {"bobs-token", "bob"}};
    e.unavailable_tokens = {"flaky-token"};
    return e;
}

std::unique_ptr<server_transcript> started(core::server_config c = token_config()) {
    auto t = std::make_unique<server_transcript>(std::move(c), token_environment());
    t->take();
    return t;
}

std::string auth_line(std::string_view mech, std::string_view message) {
    return "AUTH "s + std::string(mech) + " " + core::base64_encode(message) + "\r\n";
}

// ---------------------------------------------------------------------------------------
// The parsers, through the mechanisms

template <class T>
T expect_step(const sasl::step_result& r) {
    if (!std::holds_alternative<T>(r)) {
        ADD_FAILURE() << "unexpected step, index " << r.index();
        return T{};
    }
    return std::get<T>(r);
}

TEST(SaslOauth, Xoauth2MessageGivesUserAndToken) {
    auto m = sasl::detail::make_xoauth2_server();
    auto v = expect_step<step::verify_token>(m->start(xoauth2("alice", good_token)));
    EXPECT_EQ(v.user, "alice");
    EXPECT_EQ(v.token, good_token);
    EXPECT_EQ(expect_step<step::success>(m->resume_token("alice"s)).user, "alice");
}

TEST(SaslOauth, OauthbearerMessageGivesAuthzidAndToken) {
    auto m = sasl::detail::make_oauthbearer_server();
    // "=2C" is an escaped comma (RFC 5801 saslname).
    auto v = expect_step<step::verify_token>(m->start(oauthbearer("a=2Cb", good_token)));
    EXPECT_EQ(v.user, "a,b");
    EXPECT_EQ(v.token, good_token);
    EXPECT_EQ(expect_step<step::success>(m->resume_token("a,b"s)).user, "a,b");
}

TEST(SaslOauth, OauthbearerWithoutAuthzidLogsInAsTheTokensOwner) {
    auto m = sasl::detail::make_oauthbearer_server();
    auto v =
        expect_step<step::verify_token>(m->start("y,,\x01"s
                                                 "auth=bearer tok\x01\x01"));
    EXPECT_EQ(v.user, "");
    EXPECT_EQ(v.token, "tok");  // the scheme name is case-insensitive
    EXPECT_EQ(expect_step<step::success>(m->resume_token("bob"s)).user, "bob");
}

TEST(SaslOauth, WrongOwnerOrInvalidTokenGivesTheErrorChallenge) {
    auto m = sasl::detail::make_oauthbearer_server();
    (void)m->start(oauthbearer("alice", good_token));
    auto e = expect_step<step::error_challenge>(m->resume_token("bob"s));
    EXPECT_EQ(e.data, oauthbearer_error);
    EXPECT_EQ(e.reason, "bearer token belongs to another user");

    auto x = sasl::detail::make_xoauth2_server();
    (void)x->start(xoauth2("alice", good_token));
    auto e2 = expect_step<step::error_challenge>(x->resume_token(std::nullopt));
    EXPECT_EQ(e2.data, xoauth2_error);
    EXPECT_EQ(e2.reason, "bearer token not valid");
}

TEST(SaslOauth, MalformedMessagesFailWithoutAskingAnyone) {
    const std::vector<std::string> xoauth2_bad = {
        "",
        "user=alice",
        "user=alice\x01"
        "auth=Bearer tok\x01",  // list not closed
        "user=alice\x01"
        "auth=Bearer tok",          // no separator at all
        "auth=Bearer tok\x01\x01",  // no user
        "user=\x01"
        "auth=Bearer tok\x01\x01",  // empty user
        "user=alice\x01\x01",       // no auth
        "user=alice\x01"
        "auth=Basic tok\x01\x01",  // not a bearer token
        "user=alice\x01"
        "auth=Bearer \x01\x01",  // empty token
        "user=alice\x01"
        "auth=Bearer a b\x01\x01",  // space in the token
        "user=alice\x01"
        "auth=Bearer a=b\x01\x01",  // "=" only at the end
        "user=alice\x01"
        "auth=Bearer tok\x01"
        "auth=Bearer t2\x01\x01",  // key twice
        "user=al\x02ice\x01"
        "auth=Bearer tok\x01\x01",  // control octet
        "user=al\rice\x01"
        "auth=Bearer tok\x01\x01",  // CR in the login name
        "user=alice\x01\x01"
        "auth=Bearer tok\x01\x01",  // empty pair
        "=alice\x01"
        "auth=Bearer tok\x01\x01",  // empty key
        "us1r=alice\x01"
        "user=a\x01"
        "auth=Bearer tok\x01\x01",  // key not ALPHA
        "user=alice\x01"
        "auth=Bearer tok\x01\x01trailing",
    };
    for (const auto& msg : xoauth2_bad) {
        auto m = sasl::detail::make_xoauth2_server();
        auto r = m->start(msg);
        const auto* f = std::get_if<step::failure>(&r);
        EXPECT_TRUE(f && f->malformed) << core::base64_encode(msg);
    }
    const std::vector<std::string> oauthbearer_bad = {
        "",
        "n,,",
        "n,,auth=Bearer tok\x01\x01",  // no ^A after the gs2 header
        "p=tls-unique,,\x01"
        "auth=Bearer tok\x01\x01",  // channel binding: none exists
        "x,,\x01"
        "auth=Bearer tok\x01\x01",
        "n,alice,\x01"
        "auth=Bearer tok\x01\x01",  // authzid without "a="
        "n,a=,\x01"
        "auth=Bearer tok\x01\x01",  // empty authzid
        "n,a=b=2Dc,\x01"
        "auth=Bearer tok\x01\x01",  // bad escape
        "n,a=alice\x01"
        "auth=Bearer tok\x01\x01",  // gs2 header not closed
        "n,,\x01host=x\x01\x01",    // no auth
        "n,,\x01"
        "auth=Bearer tok\x01",  // list not closed
        "n,a=al\nice,\x01"
        "auth=Bearer tok\x01\x01",  // LF in the login name
    };
    for (const auto& msg : oauthbearer_bad) {
        auto m = sasl::detail::make_oauthbearer_server();
        auto r = m->start(msg);
        const auto* f = std::get_if<step::failure>(&r);
        EXPECT_TRUE(f && f->malformed) << core::base64_encode(msg);
    }
}

// ---------------------------------------------------------------------------------------
// Whole exchanges through the session

TEST(ServerOauth, Xoauth2WithInitialResponseLogsIn) {
    auto t = started();
    t->feed(auth_line("XOAUTH2", xoauth2("alice", good_token))).expect_send(logged_in);
    EXPECT_EQ(t->session().user(), "alice");
    EXPECT_EQ(t->events(),
              (std::vector<std::string>{"validate_token alice", "open_maildrop alice"}));
    // The token never reaches the transcript.
    for (const auto& l : t->transcript()) EXPECT_EQ(l.find(good_token), std::string::npos) << l;
}

TEST(ServerOauth, TwoStepXoauth2LogsIn) {
    auto t = started();
    t->feed("AUTH XOAUTH2\r\n").expect_send("+ \r\n");
    t->feed(core::base64_encode(xoauth2("alice", good_token)) + "\r\n").expect_send(logged_in);
}

TEST(ServerOauth, OauthbearerLogsInAsTheNamedUser) {
    auto t = started();
    t->feed(auth_line("OAUTHBEARER", oauthbearer("bob", "bobs-token"))).expect_send(logged_in);
    EXPECT_EQ(t->session().user(), "bob");
}

TEST(ServerOauth, OauthbearerWithoutAuthzidLogsInAsTheOwner) {
    auto t = started();
    t->feed(auth_line("OAUTHBEARER", oauthbearer("", "bobs-token"))).expect_send(logged_in);
    EXPECT_EQ(t->session().user(), "bob");
}

// RFC 7628 section 3.2.3: error challenge, the client's ^A, then the failure. The
// failed-login delay comes before the challenge: a client that hangs up on it has paid.
TEST(ServerOauth, WrongTokenGetsTheJsonErrorAfterTheDelayThenFails) {
    auto t = started();
    const std::size_t before = t->sent().size();
    t->feed(auth_line("OAUTHBEARER", oauthbearer("alice", "stolen-or-made-up")))
        .expect_send("+ " + core::base64_encode(oauthbearer_error) + "\r\n");
    EXPECT_EQ(t->delays(), std::vector<std::uint32_t>{2000});
    EXPECT_EQ(t->delay_points(), std::vector<std::size_t>{before});  // nothing sent before it
    EXPECT_EQ(t->session().stats().auth_failures, 1u);
    t->feed(core::base64_encode("\x01") + "\r\n").expect_send(invalid_login);
    EXPECT_EQ(t->delays(), std::vector<std::uint32_t>{2000});  // one delay per failure
    EXPECT_EQ(t->session().stats().auth_failures, 1u);
    EXPECT_FALSE(t->has_event_prefix("open_maildrop"));
    EXPECT_EQ(t->session().state(), core::session_state::authorization);
}

TEST(ServerOauth, SomeoneElsesTokenIsRefused) {
    auto t = started();
    t->feed(auth_line("XOAUTH2", xoauth2("alice", "bobs-token")))
        .expect_send("+ " + core::base64_encode(xoauth2_error) + "\r\n");
    t->feed("\r\n").expect_send(invalid_login);
    EXPECT_FALSE(t->has_event_prefix("open_maildrop"));
}

// Cancelling the error challenge does not dodge the count or the delay.
TEST(ServerOauth, HangingUpOnTheErrorChallengeStillCountsTheFailure) {
    auto t = started();
    t->feed(auth_line("XOAUTH2", xoauth2("alice", "nope")))
        .expect_send("+ " + core::base64_encode(xoauth2_error) + "\r\n");
    EXPECT_EQ(t->delays(), std::vector<std::uint32_t>{2000});
    EXPECT_EQ(t->session().stats().auth_failures, 1u);
    t->feed_eof().expect_close(close_reason::peer_closed);
}

TEST(ServerOauth, CancellingTheErrorChallengeStillCountsTheFailure) {
    auto t = started();
    for (int i = 0; i < 2; ++i) {
        t->feed(auth_line("XOAUTH2", xoauth2("alice", "nope")))
            .expect_send("+ " + core::base64_encode(xoauth2_error) + "\r\n");
        t->feed("*\r\n").expect_send(invalid_login);
    }
    t->feed(auth_line("XOAUTH2", xoauth2("alice", "nope")))
        .expect_send("+ " + core::base64_encode(xoauth2_error) + "\r\n");
    t->feed("not base64 at all!\r\n")
        .expect_send(invalid_login + too_many_failed)
        .expect_close(close_reason::too_many_auth_failures);
    EXPECT_EQ(t->delays(), (std::vector<std::uint32_t>{2000, 2000, 2000}));
}

TEST(ServerOauth, MalformedMessageFailsAtOnceWithoutValidation) {
    auto t = started();
    t->feed(auth_line("XOAUTH2",
                      "user=alice\x01"
                      "auth=Basic abc\x01\x01"s))
        .expect_send(invalid_login);
    EXPECT_FALSE(t->has_event_prefix("validate_token"));
    EXPECT_EQ(t->session().stats().auth_failures, 1u);
}

TEST(ServerOauth, ValidatorDownIsATemporaryFailure) {
    auto t = started();
    t->feed(auth_line("XOAUTH2", xoauth2("alice", "flaky-token")))
        .expect_send(
            "-ERR [SYS/TEMP] Authentication is temporarily unavailable; try again later\r\n");
    EXPECT_TRUE(t->delays().empty());
    // The session is usable again afterwards.
    t->feed(auth_line("XOAUTH2", xoauth2("alice", good_token))).expect_send(logged_in);
}

TEST(ServerOauth, OfferedOnlyWhenTokensAreValidatedAndCleartextIsAllowed) {
    const std::string sasl_with =
        "SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN "
        "OAUTHBEARER XOAUTH2\r\n";
    {
        auto t = started();
        EXPECT_NE(t->feed("CAPA\r\n").take().find(sasl_with), std::string::npos);
        t->feed("AUTH\r\n")
            .expect_send(
                "+OK Supported mechanisms follow\r\nSCRAM-SHA-256\r\nSCRAM-SHA-1\r\nCRAM-MD5\r\n"
                "PLAIN\r\nLOGIN\r\nOAUTHBEARER\r\nXOAUTH2\r\n.\r\n");
    }
    {
        auto t = started(server_transcript::default_config());  // no validator
        const auto capa = t->feed("CAPA\r\n").take();
        EXPECT_NE(capa.find("SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN\r\n"),
                  std::string::npos);
        t->feed(auth_line("XOAUTH2", xoauth2("alice", good_token)))
            .expect_send("-ERR Unsupported authentication mechanism\r\n");
        EXPECT_FALSE(t->has_event_prefix("validate_token"));
    }
    {
        auto c = token_config();
        c.cleartext_without_tls = false;  // a bearer token is a secret: the PLAIN rule
        auto t = started(c);
        EXPECT_NE(t->feed("CAPA\r\n").take().find("SASL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5\r\n"),
                  std::string::npos);
        t->feed(auth_line("OAUTHBEARER", oauthbearer("alice", good_token)))
            .expect_send(
                "-ERR [AUTH] Cleartext mechanism refused on an unencrypted connection; use STLS "
                "or the TLS port first\r\n");
        EXPECT_FALSE(t->has_event_prefix("validate_token"));
    }
    {
        auto c = token_config();
        c.cleartext_without_tls = false;
        c.tls_active = true;
        auto t = started(c);
        EXPECT_NE(t->feed("CAPA\r\n").take().find(sasl_with), std::string::npos);
        t->feed(auth_line("OAUTHBEARER", oauthbearer("alice", good_token))).expect_send(logged_in);
    }
}

// Our own client against our own server, in memory: both forms of XOAUTH2, and OAUTHBEARER.
TEST(ServerOauth, OurClientMechanismsLogIn) {
    for (const bool two_step : {false, true}) {
        for (const char* mech : {"XOAUTH2", "OAUTHBEARER"}) {
            sasl::client_credentials creds;
            creds.user = "alice";
            creds.secret = good_token;
            auto client = sasl::make_client_mechanism(mech, creds, {}, two_step);
            ASSERT_TRUE(client) << mech;
            auto t = started();
            auto ir = client->initial_response();
            if (ir) {
                t->feed(auth_line(mech, *ir)).expect_send(logged_in);
            } else {
                t->feed("AUTH "s + mech + "\r\n").expect_send("+ \r\n");
                auto reply = client->respond("");
                ASSERT_TRUE(reply);
                t->feed(core::base64_encode(*reply) + "\r\n").expect_send(logged_in);
            }
            EXPECT_EQ(t->session().user(), "alice") << mech << two_step;
        }
    }
}

}  // namespace
}  // namespace izypop3::test
