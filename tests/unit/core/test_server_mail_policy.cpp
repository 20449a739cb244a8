// Transcript tests of core::server_session's RFC 2449 EXPIRE and LOGIN-DELAY (what CAPA
// announces before and after login, the [LOGIN-DELAY] refusal, EXPIRE 0 at UPDATE, the
// retrieval times asked for under EXPIRE DAYS) and of RFC 6856 UTF8 in USER/PASS/APOP.

#include "server_transcript.hpp"

#include <izypop3/core/sasl/apop.hpp>
#include <izypop3/core/server_session.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace izypop3::test {
namespace {

using core::mail_policy;
using core::server_config;

const std::string logged_in = "+OK You are now logged in\r\n";

std::string policy_capa(const std::string& expire, const std::string& delay) {
    return "EXPIRE " + expire + "\r\nLOGIN-DELAY " + delay + "\r\n";
}

std::unique_ptr<server_transcript> started(
    server_config c = server_transcript::default_config(),
    fake_environment e = server_transcript::default_environment()) {
    auto t = std::make_unique<server_transcript>(std::move(c), std::move(e));
    t->take();
    return t;
}

// The policy lines of a CAPA reply, in order.
std::string policy_lines(server_transcript& t) {
    t.feed("CAPA\r\n");
    const std::string all = t.take();
    std::string out;
    for (std::size_t pos = 0; pos < all.size();) {
        const auto end = all.find("\r\n", pos);
        const std::string line = all.substr(pos, end - pos);
        if (line.starts_with("EXPIRE ") || line.starts_with("LOGIN-DELAY ")) out += line + "\r\n";
        pos = end + 2;
    }
    return out;
}

TEST(ServerMailPolicy, CapaAnnouncesServerValuesBeforeLoginAndUsersAfter) {
    auto c = server_transcript::default_config();
    c.policy = mail_policy{0, 300};
    c.policy_per_user = true;
    auto e = server_transcript::default_environment();
    e.user_policy = mail_policy{std::nullopt, 900};
    auto t = started(c, e);
    // RFC 2449 sections 6.5 and 6.7: USER only before login, where values vary per user.
    EXPECT_EQ(policy_lines(*t), policy_capa("0 USER", "300 USER"));
    t->feed("USER alice\r\nPASS wonderland\r\n").expect_send("+OK User accepted\r\n" + logged_in);
    EXPECT_EQ(policy_lines(*t), policy_capa("NEVER", "900"));
    EXPECT_EQ(t->session().policy(), (mail_policy{std::nullopt, 900}));
}

TEST(ServerMailPolicy, WithoutUserPoliciesTheServersValuesHoldThroughout) {
    auto c = server_transcript::default_config();
    c.policy = mail_policy{30, 60};
    auto t = started(c);
    EXPECT_EQ(policy_lines(*t), policy_capa("30", "60"));
    t->feed("USER alice\r\nPASS wonderland\r\n").expect_send("+OK User accepted\r\n" + logged_in);
    EXPECT_EQ(policy_lines(*t), policy_capa("30", "60"));
}

TEST(ServerMailPolicy, LoginTooSoonIsRefusedWithLoginDelayAndTheSessionStaysOpen) {
    auto e = server_transcript::default_environment();
    e.login_delayed["alice"] = {3600, 1234};
    auto t = started(server_transcript::default_config(), e);
    t->feed("USER alice\r\nPASS wonderland\r\n")
        .expect_send(
            "+OK User accepted\r\n"
            "-ERR [LOGIN-DELAY] Logged in too recently; the server allows one login every 3600 "
            "seconds, try again in 1234 seconds\r\n");
    EXPECT_EQ(t->session().state(), core::session_state::authorization);
    EXPECT_EQ(t->session().user(), "");
    EXPECT_EQ(t->session().stats().auth_failures, 0u) << "a right password is no failure";
    // A wrong password for the same user is an ordinary failure: the delay is only told
    // to whoever knows the password.
    t->feed("USER alice\r\nPASS wrong\r\n")
        .expect_send("+OK User accepted\r\n-ERR [AUTH] Invalid login\r\n");
    t->feed("USER bob\r\nPASS builder\r\n").expect_send("+OK User accepted\r\n" + logged_in);
    EXPECT_EQ(t->session().user(), "bob");
}

TEST(ServerMailPolicy, ExpireZeroRemovesWhatWasRetrievedAtUpdate) {
    auto e = server_transcript::default_environment();
    e.bodies.push_back("Subject: three\r\n\r\nthird\r\n");
    e.user_policy = mail_policy{0, 0};
    auto t = started(server_transcript::default_config(), e);
    t->feed("USER alice\r\nPASS wonderland\r\n").take();
    // RETR 1 counts; TOP 2 does not; RETR 3, then RSET, still counts (RSET undoes DELE only).
    t->feed("RETR 1\r\nTOP 2 0\r\nRETR 3\r\nRSET\r\n").take();
    t->feed("QUIT\r\n").expect_send("+OK izypop3 signing off (2 messages deleted)\r\n");
    EXPECT_EQ(t->commits(), (std::vector<std::vector<std::size_t>>{{0, 2}}));
    EXPECT_EQ(t->session().stats().deleted, 2u);
}

TEST(ServerMailPolicy, ExpireZeroJoinsDeleAndSkipsAFailedRetrieval) {
    auto e = server_transcript::default_environment();
    e.user_policy = mail_policy{0, 0};
    e.stream_failure_after[0] = 3;
    auto t = started(server_transcript::default_config(), e);
    t->feed("USER alice\r\nPASS wonderland\r\nDELE 2\r\nQUIT\r\n").take();
    EXPECT_EQ(t->commits(), (std::vector<std::vector<std::size_t>>{{1}}));

    // A message whose stream broke was not retrieved; the connection closes without UPDATE.
    auto t2 = started(server_transcript::default_config(), e);
    t2->feed("USER alice\r\nPASS wonderland\r\nRETR 1\r\n")
        .expect_close(core::close_reason::stream_failed);
    EXPECT_TRUE(t2->commits().empty());
}

TEST(ServerMailPolicy, ExpireNeverAndNothingRetrievedDeleteNothing) {
    auto t = started();  // EXPIRE NEVER by default
    t->feed("USER alice\r\nPASS wonderland\r\nRETR 1\r\n").take();
    t->feed("QUIT\r\n").expect_send("+OK izypop3 signing off (nothing deleted)\r\n");
    EXPECT_TRUE(t->commits().empty());

    auto e = server_transcript::default_environment();
    e.user_policy = mail_policy{0, 0};
    auto t2 = started(server_transcript::default_config(), e);
    t2->feed("USER alice\r\nPASS wonderland\r\nTOP 1 1\r\n").take();
    t2->feed("QUIT\r\n").expect_send("+OK izypop3 signing off (nothing deleted)\r\n");
    EXPECT_TRUE(t2->commits().empty());
}

std::string commit_event(const server_transcript& t) {
    for (const auto& ev : t.events())
        if (ev.starts_with("commit")) return ev;
    return "no commit";
}

TEST(ServerMailPolicy, ExpireDaysAsksToRecordRetrievedMessagesNotDeleted) {
    auto e = server_transcript::default_environment();
    e.bodies.push_back("Subject: three\r\n\r\nthird\r\n");
    e.user_policy = mail_policy{7, 0};
    auto t = started(server_transcript::default_config(), e);
    t->feed("USER alice\r\nPASS wonderland\r\nRETR 1\r\nRETR 2\r\nDELE 2\r\nTOP 3 0\r\n").take();
    t->feed("QUIT\r\n").expect_send("+OK izypop3 signing off (1 messages deleted)\r\n");
    EXPECT_EQ(commit_event(*t), "commit 1 retrieved 0");

    // Only retrievals: an UPDATE that records and deletes nothing.
    auto t2 = started(server_transcript::default_config(), e);
    t2->feed("USER alice\r\nPASS wonderland\r\nRETR 3\r\n").take();
    t2->feed("QUIT\r\n").expect_send("+OK izypop3 signing off (nothing deleted)\r\n");
    EXPECT_EQ(commit_event(*t2), "commit retrieved 2");
}

// ---- RFC 6856 UTF8 ---------------------------------------------------------------------

fake_environment utf8_users() {
    auto e = server_transcript::default_environment();
    e.users["jos\xC3\xA9"] = "caf\xC3\xA9 au lait";
    return e;
}

TEST(ServerUtf8, NonAsciiUserOrPasswordBeforeUtf8IsRefusedWithTheFix) {
    auto t = started(server_transcript::default_config(), utf8_users());
    t->feed("USER jos\xC3\xA9\r\n")
        .expect_send(
            "-ERR The user name is not ASCII; send UTF8 first to use a UTF-8 user name or "
            "password (RFC 6856)\r\n");
    t->feed("USER alice\r\nPASS caf\xC3\xA9\r\n")
        .expect_send(
            "+OK User accepted\r\n"
            "-ERR The password is not ASCII; send UTF8 first to use a UTF-8 user name or "
            "password (RFC 6856)\r\n");
    EXPECT_FALSE(t->has_event_prefix("verify_password"));
    EXPECT_EQ(t->session().stats().auth_failures, 2u);
}

TEST(ServerUtf8, AfterUtf8AUtf8UserLogsInWithSaslPreparedCredentials) {
    auto t = started(server_transcript::default_config(), utf8_users());
    t->feed("UTF8\r\n").expect_send("+OK UTF8 enabled\r\n");
    EXPECT_TRUE(t->session().utf8());
    // RFC 4013: a no-break space (U+00A0) is a space, a soft hyphen (U+00AD) is nothing.
    t->feed(
         "USER jo\xC2\xADs\xC3\xA9\r\nPASS caf\xC3\xA9\xC2\xA0"
         "au lait\r\n")
        .expect_send("+OK User accepted\r\n" + logged_in);
    EXPECT_EQ(t->session().user(), "jos\xC3\xA9");
    EXPECT_EQ(t->events().front(), "verify_password jos\xC3\xA9");
}

TEST(ServerUtf8, AfterUtf8BadUtf8OrProhibitedCharactersAreRefused) {
    auto t = started(server_transcript::default_config(), utf8_users());
    t->feed("UTF8\r\n").take();
    const std::string refusal =
        " is not valid UTF-8 or holds a character SASLprep (RFC 4013) prohibits\r\n";
    t->feed("USER jos\xE9\r\n").expect_send("-ERR The user name" + refusal);  // Latin-1
    t->feed("USER alice\r\nPASS a\xEF\xBF\xBE\r\n")  // U+FFFE, a non-character (C.4)
        .expect_send("+OK User accepted\r\n-ERR The password" + refusal);
    EXPECT_FALSE(t->has_event_prefix("verify_password"));
}

TEST(ServerUtf8, ApopTakesAUtf8NameAfterUtf8) {
    auto t = started(server_transcript::default_config(), utf8_users());
    const std::string digest =
        core::sasl::apop_digest(t->session().apop_timestamp(), "caf\xC3\xA9 au lait");
    t->feed("APOP jos\xC3\xA9 " + digest + "\r\n")
        .expect_send(
            "-ERR The user name is not ASCII; send UTF8 first to use a UTF-8 user name or "
            "password (RFC 6856)\r\n");
    t->feed("UTF8\r\nAPOP jos\xC3\xA9 " + digest + "\r\n")
        .expect_send("+OK UTF8 enabled\r\n" + logged_in);
    EXPECT_EQ(t->session().user(), "jos\xC3\xA9");
}

TEST(ServerUtf8, Utf8HeadersAreServedUntouched) {
    auto e = utf8_users();
    e.bodies = {
        "Subject: Gr\xC3\xBC\xC3\x9F"
        "e aus K\xC3\xB6ln\r\nFrom: J\xC3\xB6rg <j@example.org>\r\n\r\n"
        "K\xC3\xA4se\r\n"};
    e.uids = {"u1"};
    auto t = started(server_transcript::default_config(), e);
    t->feed("UTF8\r\nUSER jos\xC3\xA9\r\nPASS caf\xC3\xA9 au lait\r\n").take();
    t->feed("RETR 1\r\n")
        .expect_send("+OK " + std::to_string(e.bodies[0].size()) + " octets\r\n" + e.bodies[0] +
                     ".\r\n");
}

}  // namespace
}  // namespace izypop3::test
