// Transcript tests of core::client_session against hostile or broken servers (issue 12,
// client items 1-3): no password in clear without the user's consent, nothing from before
// STLS trusted after it, a body cut off at its cap with the connection given up, and
// listings that are bounded and checked against STAT (core::maildrop_listing).

#include "client_transcript.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/client_session.hpp>
#include <izypop3/core/errc.hpp>
#include <izypop3/core/maildrop_listing.hpp>

#include <gtest/gtest.h>

#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::test {
namespace {

using core::errc;
using core::request_kind;

void expect_error(const client_transcript& t, errc e) {
    ASSERT_TRUE(t.failure()) << "the client did not fail; it sent: " << t.sent();
    EXPECT_EQ(t.failure()->ec, core::make_error_code(e))
        << t.failure()->ec.message() << ": " << t.failure()->detail;
}

// Nothing the client wrote could carry the password or start a login.
void expect_no_secret_sent(const client_transcript& t) {
    const std::string& s = t.sent();
    EXPECT_EQ(s.find("wonderland"), std::string::npos) << s;
    EXPECT_EQ(s.find(core::base64_encode("wonderland")), std::string::npos) << s;
    EXPECT_EQ(s.find(core::base64_encode(std::string("\0alice\0wonderland", 17))),
              std::string::npos)
        << s;
    for (std::string_view verb : {"USER", "PASS", "APOP", "AUTH"})
        EXPECT_EQ(s.find(verb), std::string::npos) << verb << " in: " << s;
}

// ---------------------------------------------------------------------------------------
// Item 1: a password goes in clear only with the user's consent

struct clear_case {
    std::string name;
    std::string mechanism;
    std::string caps;  // CAPA lines, "" = the server has no CAPA
};

class CleartextWithoutConsent : public ::testing::TestWithParam<clear_case> {};

// The default configuration (starttls if offered, no consent) on a server without STLS:
// whatever mechanism was named, the session stops before a secret is written.
TEST_P(CleartextWithoutConsent, RefusedBeforeAnySecret) {
    const auto& p = GetParam();
    auto c = client_transcript::default_config();
    c.mechanism = p.mechanism;
    client_transcript t(c);
    t.server_says("+OK ready\r\n").expect_client_sends("CAPA\r\n");
    t.server_says(p.caps.empty() ? std::string("-ERR no CAPA\r\n") : "+OK\r\n" + p.caps + ".\r\n")
        .expect_client_sends("");
    expect_error(t, errc::cleartext_refused);
    expect_no_secret_sent(t);
    EXPECT_FALSE(t.logged_in());
    ASSERT_TRUE(t.failed());
    // One line that says what to do.
    const auto& d = t.failure()->detail;
    EXPECT_EQ(d.find('\n'), std::string::npos) << d;
    EXPECT_NE(d.find("starttls true"), std::string::npos) << d;
    EXPECT_NE(d.find("allowplaintext true"), std::string::npos) << d;
}

const std::string sasl_all =
    "SASL PLAIN LOGIN XOAUTH2 OAUTHBEARER CRAM-MD5 SCRAM-SHA-256\r\nUSER\r\n";

INSTANTIATE_TEST_SUITE_P(ClientHostile, CleartextWithoutConsent,
                         ::testing::Values(clear_case{"NamedUser", "user", sasl_all},
                                           clear_case{"NamedPlain", "plain", sasl_all},
                                           clear_case{"NamedLogin", "LOGIN", sasl_all},
                                           clear_case{"NamedXoauth2", "xoauth2", sasl_all},
                                           clear_case{"NamedOauthbearer", "oauthbearer", sasl_all},
                                           clear_case{"NamedPlainNoCapa", "plain", ""},
                                           clear_case{"NamedUserNoCapa", "user", ""},
                                           clear_case{"AutoOnlyCleartextOffered", "auto",
                                                      "SASL PLAIN LOGIN\r\nUSER\r\n"},
                                           clear_case{"AutoNoCapa", "auto", ""}),
                         [](const ::testing::TestParamInfo<clear_case>& i) {
                             return i.param.name;
                         });

struct consent_case {
    std::string name;
    bool allow_plaintext = false;
    bool tls_declined = false;
    core::starttls_policy starttls = core::starttls_policy::if_offered;
};

class CleartextWithConsent : public ::testing::TestWithParam<consent_case> {};

TEST_P(CleartextWithConsent, NamedPlainIsSent) {
    const auto& p = GetParam();
    auto c = client_transcript::default_config();
    c.mechanism = "plain";
    c.allow_plaintext = p.allow_plaintext;
    c.tls_declined = p.tls_declined;
    c.starttls = p.starttls;
    client_transcript t(c);
    t.server_says("+OK ready\r\n").take();
    t.server_says("+OK\r\nSASL PLAIN\r\n.\r\n")
        .expect_client_sends("AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n");
    t.server_says("+OK\r\n");
    EXPECT_EQ(t.logged_in(), "plain");
}

INSTANTIATE_TEST_SUITE_P(
    ClientHostile, CleartextWithConsent,
    ::testing::Values(consent_case{"AllowPlaintext", true, false},
                      consent_case{"StarttlsFalseGiven", false, true, core::starttls_policy::never},
                      consent_case{"TlsFalseGiven", false, true}),
    [](const ::testing::TestParamInfo<consent_case>& i) { return i.param.name; });

TEST(ClientHostile, AutoWithoutTlsUsesOnlyMechanismsThatRevealNothing) {
    for (auto [caps, first] : std::vector<std::pair<std::string, std::string>>{
             {"SASL PLAIN CRAM-MD5\r\nUSER\r\n", "AUTH CRAM-MD5\r\n"},
             {"SASL PLAIN SCRAM-SHA-1\r\nUSER\r\n", "AUTH SCRAM-SHA-1 "},
             {"SASL LOGIN SCRAM-SHA-256 CRAM-MD5\r\n", "AUTH SCRAM-SHA-256 "}}) {
        SCOPED_TRACE(caps);
        client_transcript t;
        t.server_says("+OK <1.2@pop.example.org>\r\n").take();
        t.server_says("+OK\r\n" + caps + ".\r\n");
        EXPECT_TRUE(t.take().starts_with(first));
        EXPECT_FALSE(t.failed());
    }
}

TEST(ClientHostile, NamedMechanismsThatRevealNothingNeedNoConsent) {
    for (auto [mech, first] :
         std::vector<std::pair<std::string, std::string>>{{"cram-md5", "AUTH CRAM-MD5\r\n"},
                                                          {"scram-sha-256", "AUTH SCRAM-SHA-256 "},
                                                          {"apop", "APOP alice "}}) {
        SCOPED_TRACE(mech);
        auto c = client_transcript::default_config();
        c.mechanism = mech;
        client_transcript t(c);
        t.server_says("+OK <1.2@pop.example.org>\r\n").take();
        t.server_says("+OK\r\nSASL PLAIN CRAM-MD5 SCRAM-SHA-256\r\nUSER\r\n.\r\n");
        EXPECT_TRUE(t.take().starts_with(first));
        EXPECT_FALSE(t.failed());
    }
}

TEST(ClientHostile, AutoNeverPicksApopWithoutTlsEvenWithConsent) {
    auto c = client_transcript::default_config();
    c.allow_plaintext = true;
    client_transcript t(c);
    t.server_says("+OK <1.2@pop.example.org>\r\n").take();
    t.server_says("+OK\r\nUSER\r\n.\r\n").expect_client_sends("USER alice\r\n");
}

TEST(ClientHostile, RefusedStlsLeavesNoTlsSoNamedPlainIsRefused) {
    auto c = client_transcript::default_config();
    c.mechanism = "plain";
    client_transcript t(c);
    t.server_says("+OK ready\r\n").take();
    t.server_says("+OK\r\nSTLS\r\nSASL PLAIN\r\n.\r\n").expect_client_sends("STLS\r\n");
    t.server_says("-ERR not now\r\n").expect_client_sends("");
    expect_error(t, errc::cleartext_refused);
    expect_no_secret_sent(t);
}

// A greeting and its APOP timestamp seen before STLS may be a man in the middle's: after
// TLS they are gone, so APOP (which has no greeting inside TLS) is never used with them.
TEST(ClientHostile, StlsForgetsGreetingAndApopTimestamp) {
    client_transcript t;
    t.server_says("+OK [SYS/PERM] trust me <666.1@attacker.example>\r\n")
        .expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().apop_timestamp(), "<666.1@attacker.example>");
    t.server_says("+OK\r\nSTLS\r\nUSER\r\n.\r\n").expect_client_sends("STLS\r\n");
    t.server_says("+OK Begin TLS\r\n").expect_client_sends("CAPA\r\n");
    EXPECT_EQ(t.session().greeting(), "");
    EXPECT_EQ(t.session().apop_timestamp(), "");
    t.server_says("+OK\r\nUSER\r\nTOP\r\n.\r\n").expect_client_sends("USER alice\r\n");
    EXPECT_EQ(t.session().capabilities(), (std::vector<std::string>{"USER", "TOP"}));
}

TEST(ClientHostile, StlsForgetsApopTimestampEvenWhenApopIsNamed) {
    auto c = client_transcript::default_config();
    c.mechanism = "apop";
    client_transcript t(c);
    t.server_says("+OK <666.1@attacker.example>\r\n").take();
    t.server_says("+OK\r\nSTLS\r\n.\r\n").expect_client_sends("STLS\r\n");
    t.server_says("+OK\r\n").expect_client_sends("CAPA\r\n");
    t.server_says("+OK\r\nUSER\r\n.\r\n").expect_client_sends("");
    expect_error(t, errc::mechanism_unavailable);
    expect_no_secret_sent(t);
}

// ---------------------------------------------------------------------------------------
// Item 2: a body past its cap

std::unique_ptr<client_transcript> logged_in_over_user() {
    auto c = client_transcript::default_config();
    c.allow_plaintext = true;
    auto t = std::make_unique<client_transcript>(c);
    t->server_says("+OK ready\r\n").take();
    t->server_says("+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n").take();
    t->server_says("+OK\r\n").take();
    t->server_says("+OK\r\n");
    EXPECT_EQ(t->logged_in(), "user");
    return t;
}

TEST(ClientHostile, RetrCapIsListSizePlusMarginAndNeverAboveMaxsize) {
    EXPECT_EQ(core::retr_cap(0, 0), 65536u);
    EXPECT_EQ(core::retr_cap(1000, 0), 1000u + 20u + 65536u);
    EXPECT_EQ(core::retr_cap(5'000'000, 0), 5'000'000u + 100'000u + 65536u);
    EXPECT_EQ(core::retr_cap(5'000'000, 4'000'000), 4'000'000u);
    EXPECT_EQ(core::retr_cap(1000, 1'000'000), 1000u + 20u + 65536u);
    constexpr auto top = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(core::retr_cap(top - 10, 0), top);  // saturates, never wraps to a small cap
}

TEST(ClientHostile, BodyPastItsCapEndsTheMessageAndTheConnection) {
    auto t = logged_in_over_user();
    const auto big = t->submit(request_kind::retr, 1, 0, 100);
    const auto next = t->submit(request_kind::retr, 2);
    t->expect_client_sends("RETR 1\r\nRETR 2\r\n");
    std::string big_body;
    for (int i = 0; i < 100; ++i) big_body += "line " + std::to_string(i) + " of the big one\r\n";
    t->server_says("+OK\r\n" + big_body + ".\r\n+OK\r\nsmall\r\n.\r\n");
    const auto* e1 = t->body_end(big);
    ASSERT_NE(e1, nullptr);
    EXPECT_EQ(e1->ec, core::make_error_code(errc::body_too_large));
    EXPECT_LE(t->body(big).size(), 100u);  // never more than the cap handed out
    EXPECT_EQ(t->body(big), big_body.substr(0, t->body(big).size()));
    // What follows the oversized body is not trusted as the next reply.
    EXPECT_EQ(t->body_end(next), nullptr);
    EXPECT_EQ(t->body(next), "");
    expect_error(*t, errc::body_too_large);
    ASSERT_TRUE(t->failed());
    EXPECT_NE(t->failure()->detail.find("100"), std::string::npos) << t->failure()->detail;
    EXPECT_EQ(t->take(), "");  // nothing more is written: no QUIT on an untrusted link
}

TEST(ClientHostile, EndlessBodyCostsOneCap) {
    auto t = logged_in_over_user();
    constexpr std::uint64_t cap = 256 * 1024;
    const auto id = t->submit(request_kind::retr, 1, 0, cap);
    t->take();
    t->server_says("+OK\r\n");
    const std::string piece(64 * 1024, 'x');
    std::size_t fed = 0;
    for (int i = 0; i < 1600 && !t->failed(); ++i) {  // up to 100 MiB, one line without end
        t->server_says(piece);
        fed += piece.size();
    }
    expect_error(*t, errc::body_too_large);
    EXPECT_LE(fed, cap + 2 * piece.size());  // the client stopped reading at the cap
    EXPECT_LE(t->body(id).size(), cap);
    ASSERT_NE(t->body_end(id), nullptr);
    // Bytes after the failure are not kept.
    for (int i = 0; i < 100; ++i) t->feed_raw(piece);
    t->run();
    EXPECT_TRUE(t->failed());
}

TEST(ClientHostile, BodyExactlyAtItsCapIsWhole) {
    auto t = logged_in_over_user();
    const auto id = t->submit(request_kind::retr, 1, 0, 14);
    const auto next = t->submit(request_kind::noop);
    t->take();
    t->server_says("+OK\r\nsmall\r\n..dot\r\n.\r\n+OK\r\n");
    ASSERT_NE(t->body_end(id), nullptr);
    EXPECT_FALSE(t->body_end(id)->ec);
    EXPECT_EQ(t->body(id), "small\r\n.dot\r\n");
    EXPECT_NE(t->response(next), nullptr);
    EXPECT_FALSE(t->failed());
}

// ---------------------------------------------------------------------------------------
// Item 3: listings

TEST(ClientHostile, UidOfMoreThan70OctetsIsRejected) {
    auto t = logged_in_over_user();
    t->submit(request_kind::uidl);
    t->take();
    t->server_says("+OK\r\n1 " + std::string(70, 'a') + "\r\n2 " + std::string(71, 'b') +
                   "\r\n.\r\n");
    expect_error(*t, errc::bad_uid);
    ASSERT_EQ(t->entries().size(), 1u);
    EXPECT_EQ(t->entries()[0].uid, std::string(70, 'a'));
}

TEST(ClientHostile, UidOfMoreThan70OctetsInSingleReplyIsRejected) {
    auto t = logged_in_over_user();
    t->submit(request_kind::uidl, 1);
    t->take();
    t->server_says("+OK 1 " + std::string(71, 'b') + "\r\n");
    expect_error(*t, errc::bad_uid);
}

TEST(ClientHostile, ListingLongerThanTheBoundFails) {
    auto c = client_transcript::default_config();
    c.allow_plaintext = true;
    c.max_listing_entries = 3;
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nUSER\r\n.\r\n").take();
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\n");
    t.submit(request_kind::list);
    t.take();
    t.server_says("+OK\r\n1 10\r\n2 10\r\n3 10\r\n4 10\r\n.\r\n");
    expect_error(t, errc::listing_rejected);
    EXPECT_EQ(t.entries().size(), 3u);
}

TEST(ClientHostile, EndlessListingStopsAtTheBound) {
    auto c = client_transcript::default_config();
    c.allow_plaintext = true;
    c.max_listing_entries = 1000;
    client_transcript t(c);
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\nUSER\r\n.\r\n").take();
    t.server_says("+OK\r\n").take();
    t.server_says("+OK\r\n");
    t.submit(request_kind::uidl);
    t.take();
    t.server_says("+OK\r\n");
    for (int n = 1; n <= 5000 && !t.failed(); ++n)
        t.server_says(std::to_string(n) + " uid" + std::to_string(n) + "\r\n");
    expect_error(t, errc::listing_rejected);
    EXPECT_EQ(t.entries().size(), 1000u);
}

TEST(ClientHostile, IrregularSpacingInListingsIsTolerated) {
    auto t = logged_in_over_user();
    const auto list = t->submit(request_kind::list);
    const auto uidl = t->submit(request_kind::uidl);
    const auto one = t->submit(request_kind::uidl, 2);
    const auto stat = t->submit(request_kind::stat);
    t->take();
    t->server_says(
        "+OK\r\n1  120\r\n2\t300 \t\r\n3 40 extra words\r\n.\r\n"
        "+OK\r\n1   abc\r\n2\tdef  \r\n3 ghi\t\r\n.\r\n"
        "+OK 2  \tdef \r\n"
        "+OK  3 \t460 \r\n");
    ASSERT_FALSE(t->failed()) << t->failure()->detail;
    ASSERT_EQ(t->entries().size(), 6u);
    EXPECT_EQ(t->entries()[0].size, 120u);
    EXPECT_EQ(t->entries()[1].size, 300u);
    EXPECT_EQ(t->entries()[2].size, 40u);
    EXPECT_EQ(t->entries()[3].uid, "abc");
    EXPECT_EQ(t->entries()[4].uid, "def");
    EXPECT_EQ(t->entries()[5].uid, "ghi");
    ASSERT_NE(t->response(one), nullptr);
    EXPECT_EQ(t->response(one)->uid, "def");
    ASSERT_NE(t->response(stat), nullptr);
    EXPECT_EQ(t->response(stat)->a, 3u);
    EXPECT_EQ(t->response(stat)->b, 460u);
    EXPECT_EQ(t->listing_ends(), (std::vector<std::uint64_t>{list, uidl}));
}

TEST(ClientHostile, UidWithTwoWordsIsStillRejected) {
    auto t = logged_in_over_user();
    t->submit(request_kind::uidl);
    t->take();
    t->server_says("+OK\r\n1 abc def\r\n.\r\n");
    expect_error(*t, errc::bad_uid);
}

// core::maildrop_listing: STAT, LIST and UIDL must agree before anything is retrieved.

TEST(MaildropListing, ConsistentListingGivesMessagesInOrder) {
    core::maildrop_listing l(10, true);
    ASSERT_TRUE(l.stat(3, 600));
    ASSERT_TRUE(l.size(2, 200));
    ASSERT_TRUE(l.size(1, 100));
    ASSERT_TRUE(l.size(3, 300));
    ASSERT_TRUE(l.uid(3, "c"));
    ASSERT_TRUE(l.uid(1, "a"));
    ASSERT_TRUE(l.uid(2, "b"));
    ASSERT_TRUE(l.finish()) << l.problem();
    const auto& m = l.messages();
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].number, 1u);
    EXPECT_EQ(m[0].size, 100u);
    EXPECT_EQ(m[0].uid, "a");
    EXPECT_EQ(m[2].number, 3u);
    EXPECT_EQ(m[2].uid, "c");
}

TEST(MaildropListing, WithoutUidsOnlyListCounts) {
    core::maildrop_listing l(10, false);
    ASSERT_TRUE(l.stat(2, 30));
    ASSERT_TRUE(l.size(1, 10));
    ASSERT_TRUE(l.size(2, 20));
    ASSERT_TRUE(l.finish()) << l.problem();
    EXPECT_EQ(l.messages().size(), 2u);
}

struct listing_case {
    std::string name;
    std::uint64_t count, octets;
    std::vector<std::pair<std::uint32_t, std::uint64_t>> sizes;
    std::vector<std::pair<std::uint32_t, std::string>> uids;
    std::string problem;  // a part of the expected one-line reason
};

class BadMaildropListing : public ::testing::TestWithParam<listing_case> {};

TEST_P(BadMaildropListing, IsRejected) {
    const auto& p = GetParam();
    core::maildrop_listing l(1000, true);
    bool ok = l.stat(p.count, p.octets);
    for (auto [n, s] : p.sizes) ok = ok && l.size(n, s);
    for (const auto& [n, u] : p.uids) ok = ok && l.uid(n, u);
    ok = ok && l.finish();
    EXPECT_FALSE(ok);
    EXPECT_NE(l.problem().find(p.problem), std::string::npos) << l.problem();
    EXPECT_EQ(l.problem().find('\n'), std::string::npos);
    EXPECT_TRUE(l.messages().empty());
}

INSTANTIATE_TEST_SUITE_P(
    ClientHostile, BadMaildropListing,
    ::testing::Values(
        listing_case{"MoreListEntriesThanStat", 2, 30, {{1, 10}, {2, 10}, {3, 10}}, {}, "more"},
        listing_case{"MoreUidsThanStat", 1, 30, {{1, 10}}, {{1, "a"}, {2, "b"}}, "more"},
        listing_case{"NumberTwiceInList", 3, 30, {{1, 10}, {1, 10}}, {}, "twice"},
        listing_case{"NumberTwiceInUidl", 2, 30, {{1, 10}, {2, 10}}, {{1, "a"}, {1, "b"}}, "twice"},
        listing_case{"UidTwice", 2, 30, {{1, 10}, {2, 10}}, {{1, "a"}, {2, "a"}}, "twice"},
        listing_case{"NumberAboveStatCount", 3, 30, {{1, 10}, {2, 10}, {7, 10}}, {}, "range"},
        listing_case{"CountBeyondTheBound", 1001, 3000, {}, {}, "1000"},
        listing_case{"SizeBiggerThanTheMaildrop", 2, 1000, {{1, 10}, {2, 5'000'000}}, {}, "size"},
        listing_case{"UidlMissesAMessage", 2, 30, {{1, 10}, {2, 10}}, {{1, "a"}}, "UIDL"},
        listing_case{"UidForAnUnlistedMessage", 2, 30, {{1, 10}}, {{1, "a"}, {2, "b"}}, "LIST"},
        listing_case{"UidTooLong", 1, 30, {{1, 10}}, {{1, std::string(71, 'u')}}, "UID"},
        listing_case{"UidWithControl", 1, 30, {{1, 10}}, {{1, "a\x1b"}}, "UID"}),
    [](const ::testing::TestParamInfo<listing_case>& i) { return i.param.name; });

TEST(MaildropListing, EntriesBeforeStatAreRejected) {
    core::maildrop_listing l(10, true);
    EXPECT_FALSE(l.size(1, 10));
    EXPECT_NE(l.problem().find("STAT"), std::string::npos) << l.problem();
}

TEST(MaildropListing, ServerThatCountsLfStillPasses) {
    // STAT counted with bare LFs, LIST with CRLF: a small mismatch is tolerated.
    core::maildrop_listing l(10, true);
    ASSERT_TRUE(l.stat(1, 980));
    ASSERT_TRUE(l.size(1, 1000));
    ASSERT_TRUE(l.uid(1, "a"));
    EXPECT_TRUE(l.finish()) << l.problem();
}

TEST(MaildropListing, ProblemTextIsPrintable) {
    core::maildrop_listing l(10, true);
    ASSERT_TRUE(l.stat(1, 10));
    ASSERT_TRUE(l.size(1, 10));
    EXPECT_FALSE(l.uid(1, "\x1b[2Jevil"));
    for (char ch : l.problem())
        EXPECT_TRUE(static_cast<unsigned char>(ch) >= 0x20 && static_cast<unsigned char>(ch) < 0x7f)
            << l.problem();
}

}  // namespace
}  // namespace izypop3::test
