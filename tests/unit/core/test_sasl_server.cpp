// Server SASL mechanisms, APOP and SASLprep, checked against the RFC example exchanges.

#include "../../../libpop3core/src/sasl/saslprep.hpp"
#include "../../../libpop3core/src/sasl/server_mechanisms.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/crypto.hpp>
#include <izypop3/core/sasl/apop.hpp>
#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/sasl/server_mechanism.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace core = izypop3::core;
namespace sasl = izypop3::core::sasl;
namespace step = izypop3::core::sasl::step;
using core::hash_algorithm;
using namespace std::string_literals;

namespace {

// Octets 0, 1, 2, ... so that generated challenges and nonces are predictable.
core::random_source counting_bytes() {
    return [n = 0](std::size_t count) mutable {
        std::string s;
        for (std::size_t i = 0; i < count; ++i) s += static_cast<char>(n++ & 0xff);
        return s;
    };
}

sasl::server_context test_context() {
    return {"pop.example.net", counting_bytes()};
}

// Returns a copy: callers often pass a temporary step_result.
template <class T>
T expect_step(const sasl::step_result& r) {
    if (!std::holds_alternative<T>(r)) {
        ADD_FAILURE() << "unexpected step, index " << r.index();
        return T{};
    }
    return std::get<T>(r);
}

std::string challenge_of(const sasl::step_result& r) {
    return expect_step<step::challenge>(r).data;
}

bool is_failure(const sasl::step_result& r, bool malformed) {
    const auto* f = std::get_if<step::failure>(&r);
    return f && f->malformed == malformed;
}

// resume() of a SCRAM server asks for the key derivation (PBKDF2) instead of running it; the
// environment runs it and hands the keys back, as the transport does on its worker threads.
sasl::step_result resume_and_derive(sasl::server_mechanism& m,
                                    const std::optional<sasl::stored_secret>& secret,
                                    std::vector<step::derive_secret>* asked = nullptr) {
    auto r = m.resume(secret);
    if (auto* d = std::get_if<step::derive_secret>(&r)) {
        if (asked) asked->push_back(*d);
        return m.resume_derived(
            sasl::derive_scram_secret(d->hash_name, d->password, d->salt, d->iterations));
    }
    return r;
}

sasl::stored_secret plaintext(std::string pw) {
    sasl::stored_secret s;
    s.plaintext = std::move(pw);
    return s;
}

std::string decode(std::string_view b64) {
    auto r = core::base64_decode(b64);
    EXPECT_TRUE(r) << b64;
    return r ? *r : std::string();
}

}  // namespace

// --- APOP (RFC 1939 section 7) ---------------------------------------------------------

TEST(Apop, Rfc1939Example) {
    EXPECT_EQ(sasl::apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf"),
              "c4c9334bac560ecc979e58001b3e22fb");
}

TEST(Apop, MakeTimestamp) {
    EXPECT_EQ(sasl::make_apop_timestamp("1896.697170952", "dbc.mtview.ca.us"),
              "<1896.697170952@dbc.mtview.ca.us>");
    EXPECT_TRUE(sasl::valid_apop_timestamp(sasl::make_apop_timestamp("0a1b", "h")));
}

TEST(Apop, ValidTimestamp) {
    EXPECT_TRUE(sasl::valid_apop_timestamp("<1896.697170952@dbc.mtview.ca.us>"));
    EXPECT_TRUE(sasl::valid_apop_timestamp("<a@b>"));
    for (const std::string bad :
         {"", "<>", "<@>", "<a@>", "<@b>", "a@b", "<a@b", "a@b>", "<a b@c>", "<a@b@c>", "<a<b@c>",
          "<a>b@c>", "<ab>", "<a\x01@b>", "<a\x7f@b>", "<a\xc3\xa9@b>", "<a@b>x", "x<a@b>"}) {
        EXPECT_FALSE(sasl::valid_apop_timestamp(bad)) << bad;
    }
    EXPECT_FALSE(sasl::valid_apop_timestamp("<a\0@b>"s));
}

// --- SASLprep (RFC 4013) -----------------------------------------------------------------

TEST(Saslprep, AsciiPassesThrough) {
    EXPECT_EQ(sasl::detail::saslprep("pencil"), "pencil");
    EXPECT_EQ(sasl::detail::saslprep(" !~user=,"), " !~user=,");
    EXPECT_EQ(sasl::detail::saslprep(""), "");
}

TEST(Saslprep, Rfc4013Examples) {
    EXPECT_EQ(sasl::detail::saslprep("I\xc2\xadX"), "IX");  // #1 SOFT HYPHEN -> nothing
    EXPECT_EQ(sasl::detail::saslprep("user"), "user");      // #2
    EXPECT_FALSE(sasl::detail::saslprep("\x07"));           // #4 prohibited
    // #3 (U+00AA -> "a") and #5 (bidi) need NFKC and the bidi tables, which we do not
    // implement: the character stays as its UTF-8 octets.
    EXPECT_EQ(sasl::detail::saslprep("\xc2\xaa"), "\xc2\xaa");
}

TEST(Saslprep, MapsSpacesAndRemovesMappedToNothing) {
    EXPECT_EQ(sasl::detail::saslprep("a\xc2\xa0"
                                     "b"),
              "a b");  // U+00A0
    EXPECT_EQ(sasl::detail::saslprep("a\xe2\x80\x83"
                                     "b"),
              "a b");  // U+2003
    EXPECT_EQ(sasl::detail::saslprep("a\xe2\x80\x8b"
                                     "b"),
              "a b");  // U+200B (C.1.2 first)
    EXPECT_EQ(sasl::detail::saslprep("a\xe3\x80\x80"
                                     "b"),
              "a b");  // U+3000
    EXPECT_EQ(sasl::detail::saslprep("a\xef\xbb\xbf"
                                     "b"),
              "ab");  // U+FEFF
    EXPECT_EQ(sasl::detail::saslprep("a\xe2\x80\x8d"
                                     "b"),
              "ab");                                                              // U+200D
    EXPECT_EQ(sasl::detail::saslprep("\xc3\xa9t\xc3\xa9"), "\xc3\xa9t\xc3\xa9");  // kept
    EXPECT_EQ(sasl::detail::saslprep("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");    // U+1F600
}

TEST(Saslprep, RejectsProhibitedAndInvalid) {
    for (const std::string bad : {"a\tb", "a\rb", "a\nb", "\x7f", "\xc2\x85",  // C.2
                                  "\xee\x80\x80",                              // U+E000 C.3
                                  "\xef\xbf\xbe",                              // U+FFFE C.4
                                  "\xe2\x80\x8e",                              // U+200E C.8
                                  "\xf3\xa0\x80\x81",                          // U+E0001 C.9
                                  "\xc3",                                      // truncated
                                  "\xc0\xaf",                                  // overlong
                                  "\xed\xa0\x80",                              // surrogate
                                  "\xf4\x90\x80\x80",                          // > U+10FFFF
                                  "\x80",                                      // stray continuation
                                  "\xff"}) {
        EXPECT_FALSE(sasl::detail::saslprep(bad)) << core::to_hex(bad);
    }
    EXPECT_FALSE(sasl::detail::saslprep("a\0b"s));
}

// --- registry ------------------------------------------------------------------------------

TEST(SaslRegistry, BuiltinsInPreferenceOrderWithTraits) {
    const auto reg = sasl::server_registry::with_builtins();
    std::vector<std::string> names;
    for (const auto* t : reg.all()) names.push_back(t->name);
    EXPECT_EQ(names, (std::vector<std::string>{"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN",
                                               "LOGIN", "OAUTHBEARER", "XOAUTH2"}));
    for (const char* bearer : {"OAUTHBEARER", "XOAUTH2"}) {
        const auto* t = reg.find(bearer);
        ASSERT_NE(t, nullptr);
        EXPECT_TRUE(t->bearer_token && t->cleartext) << bearer;  // a token is a secret
    }
    EXPECT_FALSE(reg.find("PLAIN")->bearer_token);
    const auto* plain = reg.find("plain");
    ASSERT_NE(plain, nullptr);
    EXPECT_TRUE(plain->cleartext);
    EXPECT_FALSE(plain->needs.plaintext || plain->needs.scram_sha1 || plain->needs.scram_sha256);
    const auto* login = reg.find("Login");
    ASSERT_NE(login, nullptr);
    EXPECT_TRUE(login->cleartext);
    const auto* cram = reg.find("CRAM-MD5");
    ASSERT_NE(cram, nullptr);
    EXPECT_FALSE(cram->cleartext);
    EXPECT_TRUE(cram->needs.plaintext);
    EXPECT_FALSE(cram->needs.scram_sha1 || cram->needs.scram_sha256);
    const auto* s1 = reg.find("scram-sha-1");
    ASSERT_NE(s1, nullptr);
    EXPECT_TRUE(s1->needs.scram_sha1 && s1->needs.plaintext && !s1->needs.scram_sha256);
    const auto* s256 = reg.find("SCRAM-SHA-256");
    ASSERT_NE(s256, nullptr);
    EXPECT_TRUE(s256->needs.scram_sha256 && s256->needs.plaintext && !s256->needs.scram_sha1);
    EXPECT_FALSE(s256->cleartext);
    EXPECT_EQ(reg.find("DIGEST-MD5"), nullptr);
    EXPECT_EQ(reg.create("DIGEST-MD5", test_context()), nullptr);
    EXPECT_NE(reg.create("scram-sha-256", test_context()), nullptr);
}

namespace {

class fixed_step_mechanism final : public sasl::server_mechanism {
  public:
    sasl::step_result start(std::optional<std::string_view> initial) override {
        return step::success{initial ? std::string(*initial) : "none"};
    }
    sasl::step_result next(std::string_view) override { return step::failure{"x", true}; }
};

}  // namespace

TEST(SaslRegistry, AddReplaceRemove) {
    auto reg = sasl::server_registry::with_builtins();
    reg.add({"foobar", false, {}, true},
            [](const sasl::server_context&) { return std::make_unique<fixed_step_mechanism>(); });
    auto all = reg.all();
    ASSERT_EQ(all.size(), 8u);
    EXPECT_EQ(all.back()->name, "FOOBAR");  // stored upper case, after the built-ins
    EXPECT_TRUE(all.back()->raw_arguments);
    auto m = reg.create("FooBar", test_context());
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(expect_step<step::success>(m->start("arg text")).user, "arg text");
    // The default resume() fails: this mechanism never asked for a secret.
    EXPECT_TRUE(is_failure(resume_and_derive(*m, std::nullopt), false));

    // Replacing a built-in keeps its rank.
    reg.add({"cram-md5", false, {}, false},
            [](const sasl::server_context&) { return std::make_unique<fixed_step_mechanism>(); });
    all = reg.all();
    ASSERT_EQ(all.size(), 8u);
    EXPECT_EQ(all[2]->name, "CRAM-MD5");
    EXPECT_FALSE(all[2]->needs.plaintext);

    reg.remove("Scram-Sha-1");
    std::vector<std::string> names;
    for (const auto* t : reg.all()) names.push_back(t->name);
    EXPECT_EQ(names,
              (std::vector<std::string>{"SCRAM-SHA-256", "CRAM-MD5", "PLAIN", "LOGIN", "OAUTHBEARER",
                                        "XOAUTH2", "FOOBAR"}));
    EXPECT_EQ(reg.find("SCRAM-SHA-1"), nullptr);
}

// --- PLAIN (RFC 4616) ----------------------------------------------------------------------

TEST(SaslServerPlain, InitialResponse) {
    auto m = sasl::detail::make_plain_server();
    const auto& v = expect_step<step::verify_password>(m->start("\0tim\0tanstaaf"s));
    EXPECT_EQ(v.authcid, "tim");
    EXPECT_EQ(v.authzid, "");
    EXPECT_EQ(v.password, "tanstaaf");
    EXPECT_TRUE(is_failure(m->next("\0tim\0x"s), true));  // nothing more is expected
}

TEST(SaslServerPlain, EmptyChallengeWithoutInitialResponse) {
    auto m = sasl::detail::make_plain_server();
    EXPECT_EQ(challenge_of(m->start(std::nullopt)), "");
    const auto& v = expect_step<step::verify_password>(m->next("\0alice\0pass word"s));
    EXPECT_EQ(v.authcid, "alice");
    EXPECT_EQ(v.password, "pass word");
}

TEST(SaslServerPlain, AuthzidEqualToAuthcid) {
    auto m = sasl::detail::make_plain_server();
    const auto& v = expect_step<step::verify_password>(m->start("tim\0tim\0secret"s));
    EXPECT_EQ(v.authcid, "tim");
    EXPECT_EQ(v.authzid, "tim");
    EXPECT_EQ(v.password, "secret");
}

TEST(SaslServerPlain, ProxyAuthorizationRefused) {
    auto m = sasl::detail::make_plain_server();
    EXPECT_TRUE(is_failure(m->start("admin\0tim\0secret"s), false));
}

TEST(SaslServerPlain, Malformed) {
    for (const std::string& bad : {""s, "tim"s, "\0tim"s, "\0tim\0"s, "\0\0secret"s,
                                   "tim\0\0secret"s, "\0tim\0se\0cret"s, "a\0b\0c\0d"s, "\0\0"s}) {
        auto m = sasl::detail::make_plain_server();
        EXPECT_TRUE(is_failure(m->start(bad), true)) << core::to_hex(bad);
        auto m2 = sasl::detail::make_plain_server();
        (void)m2->start(std::nullopt);
        EXPECT_TRUE(is_failure(m2->next(bad), true)) << core::to_hex(bad);
    }
}

// --- LOGIN -----------------------------------------------------------------------------------

TEST(SaslServerLogin, PromptsForUserThenPassword) {
    auto m = sasl::detail::make_login_server();
    EXPECT_EQ(challenge_of(m->start(std::nullopt)), "Username:");
    EXPECT_EQ(challenge_of(m->next("alice")), "Password:");
    const auto& v = expect_step<step::verify_password>(m->next("wonderland"));
    EXPECT_EQ(v.authcid, "alice");
    EXPECT_EQ(v.authzid, "");
    EXPECT_EQ(v.password, "wonderland");
}

TEST(SaslServerLogin, InitialResponseIsTheUserName) {
    auto m = sasl::detail::make_login_server();
    EXPECT_EQ(challenge_of(m->start("alice")), "Password:");
    EXPECT_EQ(expect_step<step::verify_password>(m->next("pw")).authcid, "alice");
}

TEST(SaslServerLogin, Malformed) {
    EXPECT_TRUE(is_failure(sasl::detail::make_login_server()->start(""), true));
    auto m = sasl::detail::make_login_server();
    (void)m->start(std::nullopt);
    EXPECT_TRUE(is_failure(m->next(""), true));
    auto m2 = sasl::detail::make_login_server();
    (void)m2->start("alice");
    EXPECT_TRUE(is_failure(m2->next(""), true));
    auto m3 = sasl::detail::make_login_server();
    (void)m3->start("alice");
    EXPECT_TRUE(is_failure(m3->next("a\0b"s), true));
    EXPECT_TRUE(is_failure(m3->next("again"), true));
}

// --- CRAM-MD5 (RFC 2195) ------------------------------------------------------------------

TEST(SaslServerCramMd5, Rfc2195Example) {
    auto m = sasl::detail::make_cram_md5_server(test_context(),
                                                "<1896.697170952@postoffice.reston.mci.net>");
    EXPECT_EQ(challenge_of(m->start(std::nullopt)), "<1896.697170952@postoffice.reston.mci.net>");
    const auto& need =
        expect_step<step::need_secret>(m->next("tim b913a602c7eda7a495b4e6e7334d3890"));
    EXPECT_EQ(need.authcid, "tim");
    EXPECT_EQ(need.authzid, "");
    EXPECT_EQ(expect_step<step::success>(resume_and_derive(*m, plaintext("tanstaaftanstaaf"))).user,
              "tim");
}

TEST(SaslServerCramMd5, WrongSecretUnknownUserAndMissingPlaintextFail) {
    const std::string ch = "<1896.697170952@postoffice.reston.mci.net>";
    const std::string resp = "tim b913a602c7eda7a495b4e6e7334d3890";
    auto m = sasl::detail::make_cram_md5_server(test_context(), ch);
    (void)m->start(std::nullopt);
    (void)m->next(resp);
    EXPECT_TRUE(is_failure(resume_and_derive(*m, plaintext("tanstaaftanstaaF")), false));

    m = sasl::detail::make_cram_md5_server(test_context(), ch);
    (void)m->start(std::nullopt);
    (void)m->next(resp);
    EXPECT_TRUE(is_failure(resume_and_derive(*m, std::nullopt), false));

    m = sasl::detail::make_cram_md5_server(test_context(), ch);
    (void)m->start(std::nullopt);
    (void)m->next(resp);
    sasl::stored_secret scram_only;
    scram_only.scram_sha256 = sasl::derive_scram_secret("SHA-256", "x", "salt", 4096);
    EXPECT_TRUE(is_failure(resume_and_derive(*m, scram_only), false));
}

TEST(SaslServerCramMd5, GeneratedChallengeUsesRandomAndHost) {
    auto reg = sasl::server_registry::with_builtins();
    auto m = reg.create("CRAM-MD5", test_context());
    EXPECT_EQ(challenge_of(m->start(std::nullopt)), "<0001020304050607.08090a0b@pop.example.net>");
}

TEST(SaslServerCramMd5, Malformed) {
    const std::vector<std::string> bad = {
        "",
        "tim",                                     // no space
        "timb913a602c7eda7a495b4e6e7334d3890",     // no space
        " b913a602c7eda7a495b4e6e7334d3890",       // empty user
        "tim B913A602C7EDA7A495B4E6E7334D3890",    // upper-case hex
        "tim b913a602c7eda7a495b4e6e7334d389",     // 31 digits
        "tim b913a602c7eda7a495b4e6e7334d38900",   // 33 digits
        "tim b913a602c7eda7a495b4e6e7334d389g",    // not hex
        "tim b913a602c7eda7a495b4e6e7334d3890 ",   // trailing space
        "t\0m b913a602c7eda7a495b4e6e7334d3890"s,  // NUL in the name
    };
    for (const auto& b : bad) {
        auto m = sasl::detail::make_cram_md5_server(test_context());
        (void)m->start(std::nullopt);
        EXPECT_TRUE(is_failure(m->next(b), true)) << b;
    }
    // A server-first mechanism fails on an initial response, even an empty one.
    EXPECT_TRUE(is_failure(sasl::detail::make_cram_md5_server(test_context())->start(""), true));
}

TEST(SaslServerCramMd5, UserNameWithSpace) {
    auto m = sasl::detail::make_cram_md5_server(test_context(), "<1.2@h>");
    (void)m->start(std::nullopt);
    const std::string digest = core::to_hex(core::hmac(hash_algorithm::md5, "pw", "<1.2@h>"));
    EXPECT_EQ(expect_step<step::need_secret>(m->next("john smith " + digest)).authcid,
              "john smith");
    EXPECT_EQ(expect_step<step::success>(resume_and_derive(*m, plaintext("pw"))).user,
              "john smith");
}

// --- SCRAM (RFC 5802, RFC 7677) ----------------------------------------------------------

namespace {

struct rfc_scram {
    hash_algorithm alg;
    std::string hash_name;
    std::string client_first;
    std::string server_nonce;
    std::string salt_b64;
    std::string server_first;
    std::string client_final;
    std::string server_final;
};

// RFC 7677 section 3.
const rfc_scram rfc7677{
    hash_algorithm::sha256,
    "SHA-256",
    "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
    "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    "W22ZaJ0SNY7soEsUEjb6gQ==",
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
};

// RFC 5802 section 5.
const rfc_scram rfc5802{
    hash_algorithm::sha1,
    "SHA-1",
    "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    "3rfcNHYJY1ZVvWVs7j",
    "QSXCR+Q6sek8bf92",
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
};

sasl::stored_secret rfc_secret(const rfc_scram& v) {
    sasl::stored_secret s;
    auto derived = sasl::derive_scram_secret(v.hash_name, "pencil", decode(v.salt_b64), 4096);
    (v.alg == hash_algorithm::sha1 ? s.scram_sha1 : s.scram_sha256) = derived;
    return s;
}

// A server that has received the RFC's client-first and sent its server-first.
std::unique_ptr<sasl::server_mechanism> rfc_server_at_client_final(const rfc_scram& v) {
    auto m = sasl::detail::make_scram_server(v.alg, test_context(), v.server_nonce);
    (void)expect_step<step::need_secret>(m->start(v.client_first));
    EXPECT_EQ(challenge_of(resume_and_derive(*m, rfc_secret(v))), v.server_first);
    return m;
}

void run_rfc_exchange(const rfc_scram& v) {
    auto m = sasl::detail::make_scram_server(v.alg, test_context(), v.server_nonce);
    const auto& need = expect_step<step::need_secret>(m->start(v.client_first));
    EXPECT_EQ(need.authcid, "user");
    EXPECT_EQ(need.authzid, "");
    EXPECT_EQ(challenge_of(resume_and_derive(*m, rfc_secret(v))), v.server_first);
    EXPECT_EQ(challenge_of(m->next(v.client_final)), v.server_final);
    EXPECT_EQ(expect_step<step::success>(m->next("")).user, "user");
}

}  // namespace

TEST(SaslServerScram, Rfc7677Sha256Example) {
    run_rfc_exchange(rfc7677);
}

TEST(SaslServerScram, Rfc5802Sha1Example) {
    run_rfc_exchange(rfc5802);
}

TEST(SaslServerScram, DeriveScramSecretMatchesRfcKeys) {
    // StoredKey/ServerKey of the RFC 7677 example, computed independently of this code
    // (Python hashlib/hmac), pin derive_scram_secret() itself.
    const auto s = sasl::derive_scram_secret("SHA-256", "pencil", decode(rfc7677.salt_b64), 4096);
    EXPECT_EQ(s.salt, decode(rfc7677.salt_b64));
    EXPECT_EQ(s.iterations, 4096u);
    EXPECT_EQ(core::to_hex(s.stored_key),
              "586e5df283e6dceb5c3e791d8b8528ec191e664045ce971792e2e6b5bb13e2a6");
    EXPECT_EQ(core::to_hex(s.server_key),
              "c1f3cbc1c13a9d35a14c0990eed97629ea225863e566a4314ab99f3f00e5d9d5");
    const auto s1 = sasl::derive_scram_secret("SHA-1", "pencil", decode(rfc5802.salt_b64), 4096);
    EXPECT_EQ(core::to_hex(s1.stored_key), "e9d94660c39d65c38fbad91c358f14da0eef2bd6");
    EXPECT_EQ(core::to_hex(s1.server_key), "0fe09258b3ac852ba502cc62ba903eaacdbf7d31");
    EXPECT_THROW((void)sasl::derive_scram_secret("MD5", "x", "s", 4096), std::invalid_argument);
}

TEST(SaslServerScram, EmptyChallengeWithoutInitialResponse) {
    auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context(),
                                             rfc7677.server_nonce);
    EXPECT_EQ(challenge_of(m->start(std::nullopt)), "");
    (void)expect_step<step::need_secret>(m->next(rfc7677.client_first));
    EXPECT_EQ(challenge_of(resume_and_derive(*m, rfc_secret(rfc7677))), rfc7677.server_first);
    EXPECT_EQ(challenge_of(m->next(rfc7677.client_final)), rfc7677.server_final);
    EXPECT_EQ(expect_step<step::success>(m->next("")).user, "user");
}

TEST(SaslServerScram, GeneratedNonceIsBase64OfRandom) {
    auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context());
    (void)m->start("n,,n=user,r=abc");
    const std::string sf = challenge_of(resume_and_derive(*m, rfc_secret(rfc7677)));
    EXPECT_EQ(sf, "r=abc" + core::base64_encode(counting_bytes()(18)) + ",s=" + rfc7677.salt_b64 +
                      ",i=4096");
}

TEST(SaslServerScram, ClientFirstVariants) {
    struct ok_case {
        std::string msg, user, authzid;
    };
    for (const auto& c : std::vector<ok_case>{
             {"n,,n=user,r=abc", "user", ""},
             {"y,,n=user,r=abc", "user", ""},  // client could bind; we offer no -PLUS
             {"n,a=user,n=user,r=abc", "user", "user"},
             {"n,,n=a=2Cb=3Dc,r=abc", "a,b=c", ""},
             {"n,a=a=2Cb,n=a=2Cb,r=abc", "a,b", "a,b"},
             {"n,,n=user,r=abc,x=ext", "user", ""},  // unknown optional extension ignored
             {"n,,n=\xc3\xa9l\xc3\xa8ve,r=abc", "\xc3\xa9l\xc3\xa8ve", ""},
         }) {
        auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context());
        const auto r = m->start(c.msg);
        ASSERT_TRUE(std::holds_alternative<step::need_secret>(r)) << c.msg;
        EXPECT_EQ(std::get<step::need_secret>(r).authcid, c.user);
        EXPECT_EQ(std::get<step::need_secret>(r).authzid, c.authzid);
    }
}

TEST(SaslServerScram, ClientFirstRejected) {
    struct bad_case {
        std::string msg;
        bool malformed;
    };
    for (const auto& c : std::vector<bad_case>{
             {"p=tls-unique,,n=user,r=abc", false},  // channel binding requested
             {"n,a=admin,n=user,r=abc", false},      // proxy authorization
             {"", true},
             {"x,,n=user,r=abc", true},
             {"n", true},
             {"n,", true},
             {"n,,", true},
             {"n,n=user,r=abc", true},            // gs2-header without authzid slot
             {"n,a=user", true},                  // unterminated authzid
             {"n,a=,n=user,r=abc", true},         // empty authzid
             {"n,a=us=3Xer,n=user,r=abc", true},  // bad escape in authzid
             {"n,,r=abc", true},                  // no user
             {"n,,n=user", true},                 // no nonce
             {"n,,r=abc,n=user", true},           // wrong order
             {"n,,n=user,r=", true},              // empty nonce
             {"n,,n=user,r=a b", true},           // nonce with a space
             {"n,,n=user,r=a\x7f", true},         // nonce with DEL
             {"n,,n=,r=abc", true},               // empty user
             {"n,,n=us=er,r=abc", true},          // bad escape
             {"n,,n=us=2,r=abc", true},           // truncated escape
             {"n,,n=us\x01er,r=abc", true},       // control character
             {"n,,n=user,,r=abc", true},          // empty attribute
             {"n,,n=user,r=abc,", true},          // trailing comma
             {"n,,nn=user,r=abc", true},          // not attr=value
             {"n,,1=user,r=abc", true},           // attribute name not ALPHA
             {"n,,m=ext,n=user,r=abc", true},     // mandatory extension
             {"n,,n=us\0er,r=abc"s, true},        // NUL
         }) {
        auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context());
        EXPECT_TRUE(is_failure(m->start(c.msg), c.malformed)) << core::to_hex(c.msg);
    }
}

TEST(SaslServerScram, ClientFinalRejected) {
    const std::string nonce = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const std::string wrong_proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVA=";
    struct bad_case {
        std::string msg;
        bool malformed;
    };
    for (const auto& c : std::vector<bad_case>{
             {"c=biws," + nonce + "," + wrong_proof, false},            // bad proof
             {"c=biws,r=rOprNGfwEbeRWgbNEkqOfake," + proof, false},     // foreign nonce
             {"c=biws,r=rOprNGfwEbeRWgbNEkqO," + proof, false},         // client part only
             {"c=biws," + nonce + "x," + proof, false},                 // extended nonce
             {"c=eSws," + nonce + "," + proof, false},                  // "y,," binding
             {"c=cD10bHMtdW5pcXVlLCw=," + nonce + "," + proof, false},  // "p=tls-unique,,"
             {"c=biw," + nonce + "," + proof, true},                    // bad base64
             {"c=biws," + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ", true},
             {"c=biws," + nonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7And==", true},
             {"c=biws," + nonce + ",p=", true},              // empty proof
             {"c=biws," + nonce, true},                      // no proof
             {"c=biws," + proof + "," + nonce, true},        // proof not last
             {nonce + ",c=biws," + proof, true},             // wrong order
             {nonce + "," + proof, true},                    // no binding
             {"c=biws," + nonce + "," + proof + ",", true},  // trailing comma
             {"", true},
             {"garbage", true},
         }) {
        auto m = rfc_server_at_client_final(rfc7677);
        EXPECT_TRUE(is_failure(m->next(c.msg), c.malformed)) << c.msg;
        EXPECT_TRUE(is_failure(m->next(""), true));  // nothing after a failure
    }
}

TEST(SaslServerScram, NonEmptyFinalResponseRejected) {
    auto m = rfc_server_at_client_final(rfc7677);
    EXPECT_EQ(challenge_of(m->next(rfc7677.client_final)), rfc7677.server_final);
    EXPECT_TRUE(is_failure(m->next("v=x"), true));
}

TEST(SaslServerScram, SecretOfTheOtherHashIsNotUsed) {
    // A SCRAM-SHA-256 server given only a SHA-1 secret treats the user as unknown.
    auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context(),
                                             rfc7677.server_nonce);
    (void)m->start(rfc7677.client_first);
    sasl::stored_secret sha1_only;
    sha1_only.scram_sha1 =
        sasl::derive_scram_secret("SHA-1", "pencil", decode(rfc7677.salt_b64), 4096);
    const std::string sf = challenge_of(resume_and_derive(*m, sha1_only));
    EXPECT_EQ(sf, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=" +
                      core::base64_encode(sasl::detail::scram_fallback_salt("user")) + ",i=4096");
}

TEST(SaslServerScram, UnknownUserLooksLikeAPlaintextUser) {
    // Unknown users get the same salt and iteration count as a user whose SCRAM secret is
    // derived from a stored plaintext password, so server-first does not tell them apart.
    auto known = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context(), "S");
    (void)known->start("n,,n=alice,r=C");
    const std::string sf_known = challenge_of(resume_and_derive(*known, plaintext("secret")));
    auto unknown = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context(), "S");
    (void)unknown->start("n,,n=alice,r=C");
    const std::string sf_unknown = challenge_of(resume_and_derive(*unknown, std::nullopt));
    EXPECT_EQ(sf_known, sf_unknown);
    EXPECT_EQ(
        sf_known,
        "r=CS,s=" + core::base64_encode(sasl::detail::scram_fallback_salt("alice")) + ",i=4096");
    EXPECT_EQ(sasl::detail::scram_fallback_salt("alice").size(), 16u);
    EXPECT_NE(sasl::detail::scram_fallback_salt("alice"), sasl::detail::scram_fallback_salt("bob"));
}

TEST(SaslServerScram, OutOfOrderCallsFail) {
    auto m = sasl::detail::make_scram_server(hash_algorithm::sha1, test_context());
    EXPECT_TRUE(is_failure(resume_and_derive(*m, std::nullopt), false));
    auto m2 = sasl::detail::make_scram_server(hash_algorithm::sha1, test_context());
    (void)m2->start("n,,n=user,r=abc");
    EXPECT_TRUE(is_failure(m2->next("c=biws,r=abc,p=AAAA"), true));  // before resume
}

TEST(SaslServerScram, S13ResumeAsksForOneDerivationOfTheAnnouncedCostWhateverTheSecret) {
    // Stored keys, a plaintext password and an unknown user: each asks for exactly one
    // PBKDF2 run with the iteration count server-first announces, so the time to
    // server-first does not tell them apart, and none of it runs inside the mechanism.
    sasl::stored_secret stored;
    stored.scram_sha256 = sasl::derive_scram_secret("SHA-256", "pw", "0123456789abcdef", 4096);
    const std::vector<std::optional<sasl::stored_secret>> secrets{stored, plaintext("pw"),
                                                                  std::nullopt};
    for (const auto& secret : secrets) {
        auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context(), "S");
        (void)expect_step<step::need_secret>(m->start("n,,n=alice,r=C"));
        const auto r = m->resume(secret);
        const auto& d = expect_step<step::derive_secret>(r);
        EXPECT_EQ(d.hash_name, "SHA-256");
        EXPECT_EQ(d.iterations, 4096u);
        const std::string sf = challenge_of(m->resume_derived(
            sasl::derive_scram_secret(d.hash_name, d.password, d.salt, d.iterations)));
        EXPECT_TRUE(sf.ends_with(",i=4096")) << sf;
    }
}

TEST(SaslServerScram, StoredKeysAreUsedNotTheDummyDerivation) {
    // The derivation asked for a stored-key user is only there for its cost: the exchange
    // must still verify against the stored keys (the RFC 7677 run), not the derived ones.
    auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context(),
                                             rfc7677.server_nonce);
    (void)m->start(rfc7677.client_first);
    const auto r = m->resume(rfc_secret(rfc7677));
    const auto& d = expect_step<step::derive_secret>(r);
    EXPECT_NE(d.password, "pencil");
    EXPECT_EQ(challenge_of(m->resume_derived(
                  sasl::derive_scram_secret(d.hash_name, d.password, d.salt, d.iterations))),
              rfc7677.server_first);
    EXPECT_EQ(challenge_of(m->next(rfc7677.client_final)), rfc7677.server_final);
}

TEST(SaslServerScram, DerivedKeysOutOfTurnFail) {
    auto m = sasl::detail::make_scram_server(hash_algorithm::sha256, test_context());
    EXPECT_TRUE(is_failure(m->resume_derived(sasl::scram_secret{}), false));
    auto cram = sasl::detail::make_cram_md5_server(test_context());
    EXPECT_TRUE(is_failure(cram->resume_derived(sasl::scram_secret{}), false));
}
