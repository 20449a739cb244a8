// passwd_table: Dovecot's passwd-file format, every scheme izypop3 reads, and every
// malformed line reported with its line number.

#include <izypop3/core/base64.hpp>
#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/sasl/passwd_file.hpp>

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using namespace izypop3::core;
using namespace izypop3::core::sasl;
using namespace std::string_literals;

// Made with Dovecot 2.3.19.1 on Debian 12, each by the command in the comment; every one
// is a hash of the password "secret" unless said otherwise.
// doveadm pw -s SHA512-CRYPT -p secret
constexpr std::string_view sha512_crypt =
    "{SHA512-CRYPT}$6$enqpQCitJqWt2DVl$b5zpeMjHelvEACxwD.pmGisxS8jvgd2YD1W0TCW97B/"
    "CzvRefRMD3UjFIYyWRaqJAKG8ljdz.sb7EfvFc14wL/";
// doveadm pw -s SHA512-CRYPT -r 10000 -p secret
constexpr std::string_view sha512_crypt_rounds =
    "{SHA512-CRYPT}$6$rounds=10000$hI5lIFxkZLnVHBBe$uWcCncPOr/D0SwCv58wTBOhwyGJUyxORx.wpuh5tf8MD"
    "KP/O.NnElbQn2bS.VrUb84gIG9Jqqm3C.fOROtnUB0";
// doveadm pw -s SHA256-CRYPT -p secret
constexpr std::string_view sha256_crypt =
    "{SHA256-CRYPT}$5$6K0IOpVQbMjXMD/j$BKNDuBXZNEpUdfwASradWBmwecE5x7hiD8nw5dBlAFA";
// doveadm pw -s BLF-CRYPT -p secret
constexpr std::string_view blf_crypt =
    "{BLF-CRYPT}$2y$05$mAbiZb/6shCnlrxnYB8dAew0p4rGENYklF8Resq/PXNB8dkR0Q9yG";
// doveadm pw -s CRYPT -p secret   (Dovecot's CRYPT makes a bcrypt hash)
constexpr std::string_view crypt_bcrypt =
    "{CRYPT}$2y$05$nI9d1ik55ssuAE2C9BRFh.yRSEDqHlsvGo.5IwRlwg/O1dx034nFW";
// doveadm pw -s SCRAM-SHA-256 -p secret
constexpr std::string_view scram_sha256 =
    "{SCRAM-SHA-256}4096,0DrTpq9m/Fru9D5087xj0A==,udMEoNEcXi85Cl34J4d0AgPIqTtXet/2dJHeCr2eKy4=,"
    "QPmbo4W6LAIzf0Z3VjmjEdbvC29DZd9GgBLIih4w5K8=";
// doveadm pw -s SCRAM-SHA-1 -p secret
constexpr std::string_view scram_sha1 =
    "{SCRAM-SHA-1}4096,7hdzYI55Ezlt6dC2Wmg4rA==,t/7BrfMskDeFPtitY0ZMWFG8pgE=,"
    "FNeGGExKVyEW6nUCuK4GhnDx6Mc=";
// doveadm pw -s SCRAM-SHA-256 -p 'pässwörd'   (UTF-8, as typed)
constexpr std::string_view scram_sha256_utf8 =
    "{SCRAM-SHA-256}4096,WU7sgLs62Lakm9vLLXVlTg==,iWnKELkD9MQYClVQCsxXILxSJd+URp8nW8ctCOmLurc=,"
    "D/raB3w85tqhEOTDPhwEYUXk/xEgl6mOzBvmzpqvpMM=";
// Not from doveadm: yescrypt, Debian's /etc/shadow default, made with libxcrypt's
// crypt_r("secret", crypt_gensalt("$y$", 0, NULL, 0)); it has no {SCHEME} prefix, as in a
// file converted from /etc/shadow.
constexpr std::string_view yescrypt_bare =
    "$y$j9T$i0dBAmFqoR6gKg6F9HZfQ/$iZZFRCTB8Zek/NPeLerxEGq6ESishaJz6a4nFYZEy.3";

passwd_table parse_ok(std::string_view text) {
    auto r = passwd_table::parse(text, "users.txt");
    EXPECT_TRUE(r) << (r ? "" : r.error().text());
    return r ? std::move(*r) : passwd_table{};
}

std::string parse_error(std::string_view text) {
    auto r = passwd_table::parse(text, "/etc/izypop3/users");
    if (r) return "parsed without error";
    return r.error().text();
}

std::string line_of(std::string_view user, std::string_view password) {
    return std::string(user) + ":" + std::string(password) + "\n";
}

// ---- every scheme ----------------------------------------------------------------------

struct scheme_case {
    std::string_view field;
    std::string_view scheme_name;
    password_scheme scheme;
    std::string_view password;
};

class PasswdScheme : public ::testing::TestWithParam<scheme_case> {};

TEST_P(PasswdScheme, VerifiesRightPasswordOnly) {
    const auto& c = GetParam();
    const auto t = parse_ok(line_of("bob", c.field));
    ASSERT_EQ(t.size(), 1u);
    const auto* e = t.find("bob");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->scheme, c.scheme);
    EXPECT_EQ(e->scheme_name, c.scheme_name);
    EXPECT_EQ(e->line, 1u);
    EXPECT_TRUE(t.verify_password("bob", c.password));
    EXPECT_FALSE(t.verify_password("bob", "wrong"));
    EXPECT_FALSE(t.verify_password("bob", std::string(c.password) + "x"));
    EXPECT_FALSE(t.verify_password("bob", std::string(c.password).substr(1)));
    EXPECT_FALSE(t.verify_password("bob", ""));
    EXPECT_FALSE(t.verify_password("Bob", c.password)) << "user names are case-sensitive";
    EXPECT_FALSE(t.verify_password("alice", c.password));
}

INSTANTIATE_TEST_SUITE_P(
    AllSchemes, PasswdScheme,
    ::testing::Values(
        scheme_case{"{PLAIN}secret", "PLAIN", password_scheme::plain, "secret"},
        scheme_case{"{CLEAR}secret", "PLAIN", password_scheme::plain, "secret"},
        scheme_case{"{CLEARTEXT}secret", "PLAIN", password_scheme::plain, "secret"},
        scheme_case{"{plain}p{a}ss word", "PLAIN", password_scheme::plain, "p{a}ss word"},
        scheme_case{sha512_crypt, "SHA512-CRYPT", password_scheme::crypt, "secret"},
        scheme_case{sha512_crypt_rounds, "SHA512-CRYPT", password_scheme::crypt, "secret"},
        scheme_case{sha256_crypt, "SHA256-CRYPT", password_scheme::crypt, "secret"},
        scheme_case{blf_crypt, "BLF-CRYPT", password_scheme::crypt, "secret"},
        scheme_case{crypt_bcrypt, "CRYPT", password_scheme::crypt, "secret"},
        scheme_case{sha512_crypt.substr(14), "CRYPT", password_scheme::crypt, "secret"},
        scheme_case{yescrypt_bare, "CRYPT", password_scheme::crypt, "secret"},
        scheme_case{scram_sha256, "SCRAM-SHA-256", password_scheme::scram_sha256, "secret"},
        scheme_case{scram_sha1, "SCRAM-SHA-1", password_scheme::scram_sha1, "secret"},
        scheme_case{scram_sha256_utf8, "SCRAM-SHA-256", password_scheme::scram_sha256,
                    "p\xc3\xa4ssw\xc3\xb6rd"}));

TEST(PasswdFile, CryptRefusesPasswordWithNul) {
    // crypt(3) stops at a NUL: without the check "secret\0junk" would pass for "secret".
    const auto t = parse_ok(line_of("bob", sha512_crypt));
    EXPECT_FALSE(t.verify_password("bob", "secret\0junk"s));
    EXPECT_TRUE(t.verify_password("bob", "secret"));
}

TEST(PasswdFile, PlainComparesWholePasswords) {
    const auto t = parse_ok("bob:{PLAIN}secret\n");
    EXPECT_FALSE(t.verify_password("bob", "secret\0"s));
    EXPECT_FALSE(t.verify_password("bob", "secreT"));
    EXPECT_FALSE(t.verify_password("bob", "Secret"));
}

TEST(PasswdFile, PasswordsEqualIsAWholeValueComparison) {
    // passwords_equal hashes both sides and compares the digests with CRYPTO_memcmp, so
    // neither the first differing octet nor the length decides how long it takes; here we
    // check that it is a correct equality on the cases that matter.
    EXPECT_TRUE(passwords_equal("secret", "secret"));
    EXPECT_TRUE(passwords_equal("", ""));
    EXPECT_FALSE(passwords_equal("secret", "secre"));
    EXPECT_FALSE(passwords_equal("secre", "secret"));
    EXPECT_FALSE(passwords_equal("secret", "secreT"));
    EXPECT_FALSE(passwords_equal("secret", "xecret"));
    EXPECT_FALSE(passwords_equal("secret\0"s, "secret"));
    EXPECT_FALSE(passwords_equal("", "secret"));
}

// ---- what each entry serves --------------------------------------------------------------

TEST(PasswdFile, DoveadmScramFieldsAreIterationsSaltStoredKeyServerKey) {
    // Recomputing the keys from the password proves the field order and the encoding.
    const auto t = parse_ok(line_of("carol", scram_sha256));
    const auto* e = t.find("carol");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->scram.iterations, 4096u);
    EXPECT_EQ(e->scram.salt, *base64_decode("0DrTpq9m/Fru9D5087xj0A=="));
    const auto derived = derive_scram_secret("SHA-256", "secret", e->scram.salt, 4096);
    EXPECT_EQ(e->scram.stored_key, derived.stored_key);
    EXPECT_EQ(e->scram.server_key, derived.server_key);

    const auto t1 = parse_ok(line_of("dave", scram_sha1));
    const auto* e1 = t1.find("dave");
    ASSERT_NE(e1, nullptr);
    const auto derived1 = derive_scram_secret("SHA-1", "secret", e1->scram.salt, 4096);
    EXPECT_EQ(e1->scram.stored_key, derived1.stored_key);
    EXPECT_EQ(e1->scram.server_key, derived1.server_key);
}

TEST(PasswdFile, LookupGivesWhatEachSchemeCanServe) {
    const auto t = parse_ok("alice:{PLAIN}wonderland\n" + line_of("bob", sha512_crypt) +
                            line_of("carol", scram_sha256) + line_of("dave", scram_sha1));
    const auto alice = t.lookup_secret("alice");
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->plaintext, "wonderland");
    EXPECT_FALSE(alice->scram_sha1);
    EXPECT_FALSE(alice->scram_sha256);

    EXPECT_FALSE(t.lookup_secret("bob")) << "a crypt hash can serve no stored-secret mechanism";

    const auto carol = t.lookup_secret("carol");
    ASSERT_TRUE(carol);
    EXPECT_FALSE(carol->plaintext);
    EXPECT_FALSE(carol->scram_sha1);
    ASSERT_TRUE(carol->scram_sha256);
    EXPECT_EQ(carol->scram_sha256->stored_key, t.find("carol")->scram.stored_key);

    const auto dave = t.lookup_secret("dave");
    ASSERT_TRUE(dave);
    EXPECT_FALSE(dave->plaintext);
    EXPECT_TRUE(dave->scram_sha1);
    EXPECT_FALSE(dave->scram_sha256);
}

TEST(PasswdFile, FormsPerEntryAndTheirUnion) {
    auto forms_of = [](std::string_view text) { return parse_ok(text).forms(); };
    auto f = forms_of("alice:{PLAIN}x\n");
    EXPECT_TRUE(f.plaintext && f.scram_sha1 && f.scram_sha256);
    f = forms_of(line_of("bob", sha512_crypt));
    EXPECT_FALSE(f.plaintext || f.scram_sha1 || f.scram_sha256);
    f = forms_of(line_of("carol", scram_sha256));
    EXPECT_FALSE(f.plaintext || f.scram_sha1);
    EXPECT_TRUE(f.scram_sha256);
    f = forms_of(line_of("bob", sha512_crypt) + line_of("dave", scram_sha1));
    EXPECT_FALSE(f.plaintext || f.scram_sha256);
    EXPECT_TRUE(f.scram_sha1);
    f = forms_of("");
    EXPECT_FALSE(f.plaintext || f.scram_sha1 || f.scram_sha256);
}

// ---- unknown users -------------------------------------------------------------------------

TEST(PasswdFile, UnknownUserIsRefusedWhateverThePassword) {
    const auto t = parse_ok("alice:{PLAIN}secret\n" + line_of("bob", sha512_crypt));
    EXPECT_FALSE(t.verify_password("nobody", "secret"));
    EXPECT_FALSE(t.verify_password("nobody", ""));
    EXPECT_FALSE(t.lookup_secret("nobody"));
    EXPECT_FALSE(parse_ok("").verify_password("nobody", "secret"));
}

TEST(PasswdFile, UnknownUserGetsStableDecoyScramKeysWhenScramIsCommonest) {
    const auto t = parse_ok(line_of("carol", scram_sha256) + line_of("erin", scram_sha256_utf8) +
                            "alice:{PLAIN}secret\n");
    const auto a = t.lookup_secret("nobody");
    ASSERT_TRUE(a);
    EXPECT_FALSE(a->plaintext);
    ASSERT_TRUE(a->scram_sha256);
    EXPECT_EQ(a->scram_sha256->iterations, 4096u);
    EXPECT_EQ(a->scram_sha256->salt.size(), 16u);
    EXPECT_EQ(a->scram_sha256->stored_key.size(), 32u);
    EXPECT_EQ(a->scram_sha256->server_key.size(), 32u);
    const auto again = t.lookup_secret("nobody");
    EXPECT_EQ(again->scram_sha256->salt, a->scram_sha256->salt);
    EXPECT_EQ(again->scram_sha256->stored_key, a->scram_sha256->stored_key);
    const auto other = t.lookup_secret("somebody");
    EXPECT_NE(other->scram_sha256->salt, a->scram_sha256->salt);
    // No password of the usual candidates yields the decoy key.
    for (const char* pw : {"", "secret", "password", "nobody"}) {
        const auto d = derive_scram_secret("SHA-256", pw, a->scram_sha256->salt, 4096);
        EXPECT_NE(d.stored_key, a->scram_sha256->stored_key) << pw;
    }
    EXPECT_FALSE(t.verify_password("nobody", "secret"));
}

// ---- file layout -----------------------------------------------------------------------

TEST(PasswdFile, CommentsBlankLinesCrlfAndIgnoredFields) {
    const auto t = parse_ok(
        "# users of the test server\r\n"
        "\r\n"
        "   \t\n"
        "  # indented comment\n"
        "alice:{PLAIN}secret:1000:1000:Alice A.:/home/alice:/bin/sh\r\n"
        "bob:{PLAIN}hunter2::::::\n"
        "carol:{PLAIN}x:1:2:3:4:5:\n"
        "dave@example.org:{PLAIN}y");  // no final newline
    EXPECT_EQ(t.size(), 4u);
    EXPECT_TRUE(t.verify_password("alice", "secret")) << "CR must not end up in the password";
    EXPECT_TRUE(t.verify_password("bob", "hunter2"));
    EXPECT_TRUE(t.verify_password("carol", "x"));
    EXPECT_TRUE(t.verify_password("dave@example.org", "y"));
    EXPECT_EQ(t.find("alice")->line, 5u);
    EXPECT_EQ(t.find("dave@example.org")->line, 8u);
}

// RFC 2449 EXPIRE and LOGIN-DELAY per user, as Dovecot writes userdb_ extra fields.
TEST(PasswdFile, UserdbExpireAndLoginDelayFields) {
    const auto t = parse_ok(
        "alice:{PLAIN}a\n"
        "bob:{PLAIN}b::::::userdb_expire=never userdb_logindelay=0\n"
        "carol:{PLAIN}c:1:2:3:4:5:userdb_logindelay=900\tuserdb_expire=30\n"
        "dave:{PLAIN}d::::::  userdb_expire=NEVER  \n");
    EXPECT_FALSE(t.find("alice")->expire_days);
    EXPECT_FALSE(t.find("alice")->login_delay_seconds);
    EXPECT_EQ(t.find("bob")->expire_days, expire_never);
    EXPECT_EQ(t.find("bob")->login_delay_seconds, 0u);
    EXPECT_EQ(t.find("carol")->expire_days, 30u);
    EXPECT_EQ(t.find("carol")->login_delay_seconds, 900u);
    EXPECT_EQ(t.find("dave")->expire_days, expire_never);
    EXPECT_TRUE(t.has_user_policies());
    EXPECT_TRUE(t.has_expire_days());
    EXPECT_EQ(t.least_expire_days(), 30u);
    EXPECT_EQ(t.least_login_delay(), 0u);
    EXPECT_TRUE(t.verify_password("carol", "c"));

    const auto plain = parse_ok("alice:{PLAIN}a\nbob:{PLAIN}b::::::userdb_expire=0\n");
    EXPECT_TRUE(plain.has_user_policies());
    EXPECT_FALSE(plain.has_expire_days()) << "0 needs no retrieval times";
    EXPECT_EQ(plain.least_expire_days(), 0u);
    EXPECT_FALSE(plain.least_login_delay());
    EXPECT_FALSE(parse_ok("alice:{PLAIN}a\n").has_user_policies());
}

TEST(PasswdFile, ExpireDaysValues) {
    EXPECT_EQ(parse_expire_days("never"), expire_never);
    EXPECT_EQ(parse_expire_days("Never"), expire_never);
    EXPECT_EQ(parse_expire_days("0"), 0u);
    EXPECT_EQ(parse_expire_days("36500"), 36500u);
    for (const char* bad : {"", "-1", "36501", "1.5", " 1", "1 ", "+1", "forever", "999999"})
        EXPECT_FALSE(parse_expire_days(bad)) << bad;
}

TEST(PasswdFile, ByteOrderMarkIsNotPartOfTheFirstUser) {
    const auto t = parse_ok(
        "\xEF\xBB\xBF"
        "alice:{PLAIN}secret\n");
    EXPECT_TRUE(t.verify_password("alice", "secret"));
    EXPECT_EQ(t.find("alice")->line, 1u);
}

struct bad_line_case {
    std::string text;
    std::string error;
};

class PasswdBadLine : public ::testing::TestWithParam<bad_line_case> {};

TEST_P(PasswdBadLine, NamesFileLineAndFix) {
    EXPECT_EQ(parse_error(GetParam().text), GetParam().error);
}

const std::string f = "/etc/izypop3/users:";

INSTANTIATE_TEST_SUITE_P(
    EveryError, PasswdBadLine,
    ::testing::Values(
        bad_line_case{"# header\nalice{PLAIN}secret\n",
                      f + "2: no ':' after the user name; every line is user:{SCHEME}password"},
        bad_line_case{"ok:{PLAIN}a\n:{PLAIN}secret\n",
                      f + "2: empty user name before ':'; every line is user:{SCHEME}password"},
        bad_line_case{"al ice:{PLAIN}secret\n",
                      f + "1: user name 'al ice' contains a space or a control character, which "
                          "a POP3 user name cannot carry; remove it"},
        bad_line_case{" alice:{PLAIN}secret\n",
                      f + "1: user name ' alice' contains a space or a control character, which "
                          "a POP3 user name cannot carry; remove it"},
        bad_line_case{"a\x1b[31m:{PLAIN}secret\n",
                      f + "1: user name 'a\\x1B[31m' contains a space or a control character, "
                          "which a POP3 user name cannot carry; remove it"},
        bad_line_case{"alice:{PLAIN}se\0cret\n"s,
                      f + "1: NUL octet in the line; the file must be plain text"},
        bad_line_case{"\n\nalice:\n",
                      f + "3: user 'alice' has an empty password field; write {SCHEME}secret, "
                          "e.g. the output of: doveadm pw -s SHA512-CRYPT"},
        bad_line_case{"alice::1000\n",
                      f + "1: user 'alice' has an empty password field; write {SCHEME}secret, "
                          "e.g. the output of: doveadm pw -s SHA512-CRYPT"},
        bad_line_case{"alice:{PLAIN}\n",
                      f + "1: user 'alice': nothing after {PLAIN}; an empty password is not "
                          "allowed"},
        bad_line_case{"alice:{PLAIN\n",
                      f + "1: user 'alice': '{' without a closing '}' in the password field; "
                          "write {SCHEME}secret, e.g. {PLAIN}secret"},
        bad_line_case{"alice:{SSHA512}abc\n",
                      f + "1: user 'alice': unknown password scheme {SSHA512}; izypop3 reads "
                          "PLAIN (or CLEAR, CLEARTEXT), CRYPT, SHA256-CRYPT, SHA512-CRYPT, "
                          "BLF-CRYPT, SCRAM-SHA-1 and SCRAM-SHA-256; make a hash with: doveadm "
                          "pw -s SHA512-CRYPT"},
        bad_line_case{"alice:secret\n",
                      f + "1: user 'alice': the password has no {SCHEME} prefix, so it is read "
                          "as a crypt(3) hash as Dovecot does, but it is not one; write "
                          "{PLAIN}password for a cleartext password or use the output of: "
                          "doveadm pw -s SHA512-CRYPT"},
        bad_line_case{"alice:{SHA512-CRYPT}$6$enqpQCitJqWt2DVl$b5zpeMjHelvEACxwD\n",
                      f + "1: user 'alice': the {SHA512-CRYPT} hash is not $6$[rounds=N$]salt$hash "
                          "with 86 hash characters; regenerate it with: doveadm pw -s "
                          "SHA512-CRYPT"},
        bad_line_case{"alice:" + std::string(sha256_crypt.substr(0, 14)) +
                          std::string(sha512_crypt.substr(14)) + "\n",
                      f + "1: user 'alice': the {SHA256-CRYPT} hash is not $5$[rounds=N$]salt$hash "
                          "with 43 hash characters; regenerate it with: doveadm pw -s "
                          "SHA256-CRYPT"},
        bad_line_case{"alice:{BLF-CRYPT}$2y$05$short\n",
                      f + "1: user 'alice': the {BLF-CRYPT} hash is not $2y$NN$ followed by 53 "
                          "characters; regenerate it with: doveadm pw -s BLF-CRYPT"},
        bad_line_case{"alice:{CRYPT}$1$abc$def\n",
                      f + "1: user 'alice': the {CRYPT} hash is not a SHA-crypt ($5$, $6$), "
                          "bcrypt ($2y$) or yescrypt ($y$) hash; regenerate it with: doveadm pw "
                          "-s SHA512-CRYPT"},
        bad_line_case{"carol:{SCRAM-SHA-256}4096,abc\n",
                      f + "1: user 'carol': {SCRAM-SHA-256} needs four comma-separated fields, "
                          "iterations,salt,StoredKey,ServerKey; regenerate it with: doveadm pw "
                          "-s SCRAM-SHA-256"},
        bad_line_case{"carol:{SCRAM-SHA-256}4095,0DrTpq9m/Fru9D5087xj0A==,"
                      "udMEoNEcXi85Cl34J4d0AgPIqTtXet/2dJHeCr2eKy4=,"
                      "QPmbo4W6LAIzf0Z3VjmjEdbvC29DZd9GgBLIih4w5K8=\n",
                      f + "1: user 'carol': iteration count '4095' is not a number from 4096 to "
                          "10000000; regenerate it with: doveadm pw -s SCRAM-SHA-256"},
        bad_line_case{"carol:{SCRAM-SHA-256}10000001,0DrTpq9m/Fru9D5087xj0A==,"
                      "udMEoNEcXi85Cl34J4d0AgPIqTtXet/2dJHeCr2eKy4=,"
                      "QPmbo4W6LAIzf0Z3VjmjEdbvC29DZd9GgBLIih4w5K8=\n",
                      f + "1: user 'carol': iteration count '10000001' is not a number from 4096 "
                          "to 10000000; regenerate it with: doveadm pw -s SCRAM-SHA-256"},
        bad_line_case{"carol:{SCRAM-SHA-256}+4096,0DrTpq9m/Fru9D5087xj0A==,"
                      "udMEoNEcXi85Cl34J4d0AgPIqTtXet/2dJHeCr2eKy4=,"
                      "QPmbo4W6LAIzf0Z3VjmjEdbvC29DZd9GgBLIih4w5K8=\n",
                      f + "1: user 'carol': iteration count '+4096' is not a number from 4096 "
                          "to 10000000; regenerate it with: doveadm pw -s SCRAM-SHA-256"},
        bad_line_case{"carol:{SCRAM-SHA-256}4096,0DrTpq9m/Fru9D5087xj0A=,"
                      "udMEoNEcXi85Cl34J4d0AgPIqTtXet/2dJHeCr2eKy4=,"
                      "QPmbo4W6LAIzf0Z3VjmjEdbvC29DZd9GgBLIih4w5K8=\n",
                      f + "1: user 'carol': the salt is not valid base64; regenerate it with: "
                          "doveadm pw -s SCRAM-SHA-256"},
        bad_line_case{"carol:{SCRAM-SHA-256}4096,0DrTpq9m/Fru9D5087xj0A==,"
                      "t/7BrfMskDeFPtitY0ZMWFG8pgE=,"
                      "QPmbo4W6LAIzf0Z3VjmjEdbvC29DZd9GgBLIih4w5K8=\n",
                      f + "1: user 'carol': StoredKey is not base64 of 32 octets; regenerate it "
                          "with: doveadm pw -s SCRAM-SHA-256"},
        bad_line_case{"dave:{SCRAM-SHA-1}4096,7hdzYI55Ezlt6dC2Wmg4rA==,"
                      "t/7BrfMskDeFPtitY0ZMWFG8pgE=,FNeGGExKVyEW6nUCuK4GhnDx6M\n",
                      f + "1: user 'dave': ServerKey is not base64 of 20 octets; regenerate it "
                          "with: doveadm pw -s SCRAM-SHA-1"},
        bad_line_case{"alice:{PLAIN}secret:1000:1000:::/bin/sh:allow_nets=10.0.0.0/8\n",
                      f + "1: user 'alice': an extra field (field 8 on) other than "
                          "userdb_expire=never|DAYS and userdb_logindelay=SECONDS is not "
                          "supported (allow_nets=, nologin, ... would not be enforced); "
                          "remove it"},
        bad_line_case{"alice:{PLAIN}secret::::::userdb_expire=0 nologin\n",
                      f + "1: user 'alice': an extra field (field 8 on) other than "
                          "userdb_expire=never|DAYS and userdb_logindelay=SECONDS is not "
                          "supported (allow_nets=, nologin, ... would not be enforced); "
                          "remove it"},
        bad_line_case{"alice:{PLAIN}secret::::::userdb_expire=soon\n",
                      f + "1: user 'alice': userdb_expire='soon' is not 'never' or a number "
                          "of days from 0 to 36500"},
        bad_line_case{"alice:{PLAIN}secret::::::userdb_expire=36501\n",
                      f + "1: user 'alice': userdb_expire='36501' is not 'never' or a number "
                          "of days from 0 to 36500"},
        bad_line_case{"alice:{PLAIN}secret::::::userdb_expire=1 userdb_expire=2\n",
                      f + "1: user 'alice': userdb_expire is given twice; keep one"},
        bad_line_case{"alice:{PLAIN}secret::::::userdb_logindelay=-1\n",
                      f + "1: user 'alice': userdb_logindelay='-1' is not a number of seconds "
                          "from 0 to 604800"},
        bad_line_case{"alice:{PLAIN}secret::::::userdb_logindelay=604801\n",
                      f + "1: user 'alice': userdb_logindelay='604801' is not a number of "
                          "seconds from 0 to 604800"},
        bad_line_case{"alice:{PLAIN}secret::::::userdb_logindelay\n",
                      f + "1: user 'alice': an extra field (field 8 on) other than "
                          "userdb_expire=never|DAYS and userdb_logindelay=SECONDS is not "
                          "supported (allow_nets=, nologin, ... would not be enforced); "
                          "remove it"},
        bad_line_case{"alice:{PLAIN}a\nbob:{PLAIN}b\n# c\nalice:{PLAIN}c\n",
                      f + "4: user 'alice' is already defined on line 1; remove one of the two "
                          "lines"}));

TEST(PasswdFile, ErrorsNeverQuoteThePassword) {
    for (const char* text :
         {"alice:hunter2secret\n", "alice:{SHA512-CRYPT}hunter2secret\n",
          "alice:{BLF-CRYPT}hunter2secret\n", "alice:{SCRAM-SHA-256}hunter2secret\n",
          "alice:{PLAIN}hunter2secret:1:2:3:4:5:hunter2secret\n"}) {
        const auto e = parse_error(text);
        EXPECT_EQ(e.find("hunter2"), std::string::npos) << e;
    }
}

TEST(PasswdFile, FirstErrorStopsParsing) {
    EXPECT_EQ(parse_error("alice:{PLAIN}a\nbad line\nalso bad\n"),
              f + "2: no ':' after the user name; every line is user:{SCHEME}password");
}

}  // namespace
