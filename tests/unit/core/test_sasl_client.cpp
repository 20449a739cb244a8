// Client SASL mechanisms: RFC example exchanges byte for byte, hostile servers, and
// client <-> server round trips through the server mechanisms.

#include "../../../libpop3core/src/sasl/client_mechanisms.hpp"
#include "../../../libpop3core/src/sasl/server_mechanisms.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/crypto.hpp>
#include <izypop3/core/errc.hpp>
#include <izypop3/core/sasl/client_mechanism.hpp>
#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/sasl/server_mechanism.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace core = izypop3::core;
namespace sasl = izypop3::core::sasl;
namespace step = izypop3::core::sasl::step;
using core::errc;
using core::hash_algorithm;
using namespace std::string_literals;

namespace {

core::random_source counting_bytes() {
    return [n = 0](std::size_t count) mutable {
        std::string s;
        for (std::size_t i = 0; i < count; ++i) s += static_cast<char>(n++ & 0xff);
        return s;
    };
}

sasl::client_credentials creds(std::string user, std::string secret, std::string authzid = {}) {
    sasl::client_credentials c;
    c.user = std::move(user);
    c.secret = std::move(secret);
    c.authzid = std::move(authzid);
    return c;
}

std::unique_ptr<sasl::client_mechanism> make(std::string_view name, sasl::client_credentials c,
                                             bool two_step = false) {
    auto m = sasl::make_client_mechanism(name, std::move(c), counting_bytes(), two_step);
    EXPECT_NE(m, nullptr) << name;
    return m;
}

std::string ok(const boost::system::result<std::string>& r) {
    EXPECT_TRUE(r) << (r ? "" : r.error().message());
    return r ? *r : std::string("<error>");
}

boost::system::error_code err(const boost::system::result<std::string>& r) {
    EXPECT_FALSE(r) << "unexpected success: " << (r ? *r : "");
    return r ? boost::system::error_code() : r.error();
}

}  // namespace

TEST(SaslClient, Factory) {
    EXPECT_EQ(sasl::make_client_mechanism("DIGEST-MD5", creds("u", "p"), counting_bytes()),
              nullptr);
    EXPECT_EQ(sasl::make_client_mechanism("", creds("u", "p"), counting_bytes()), nullptr);
    for (const std::string n :
         {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER"}) {
        std::string lower = n;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto m = sasl::make_client_mechanism(lower, creds("u", "p"), counting_bytes());
        ASSERT_NE(m, nullptr) << lower;
        EXPECT_EQ(m->name(), n);
    }
    // An empty random source falls back to the system one.
    auto m = sasl::make_client_mechanism("SCRAM-SHA-256", creds("u", "p"), {});
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->initial_response()->size(), "n,,n=u,r="s.size() + 32);
}

// --- PLAIN ------------------------------------------------------------------------------------

TEST(SaslClientPlain, InitialResponse) {
    auto m = make("PLAIN", creds("tim", "tanstaaf"));
    EXPECT_EQ(m->initial_response(), "\0tim\0tanstaaf"s);
    EXPECT_EQ(err(m->respond("")), errc::sasl_bad_message);  // nothing more to say
    EXPECT_FALSE(m->on_success());
}

TEST(SaslClientPlain, WithAuthzid) {
    auto m = make("PLAIN", creds("tim", "tanstaaf", "admin"));
    EXPECT_EQ(m->initial_response(), "admin\0tim\0tanstaaf"s);
}

TEST(SaslClientPlain, TwoStep) {
    auto m = make("PLAIN", creds("tim", "pw"), true);
    EXPECT_EQ(m->initial_response(), std::nullopt);
    EXPECT_EQ(ok(m->respond("")), "\0tim\0pw"s);
    EXPECT_EQ(err(m->respond("")), errc::sasl_bad_message);
    auto m2 = make("PLAIN", creds("tim", "pw"), true);
    EXPECT_EQ(err(m2->respond("what?")), errc::sasl_bad_message);
}

// --- LOGIN ------------------------------------------------------------------------------------

TEST(SaslClientLogin, AnswersPromptsByContent) {
    auto m = make("LOGIN", creds("alice", "wonderland"));
    EXPECT_EQ(m->initial_response(), std::nullopt);
    EXPECT_EQ(ok(m->respond("Username:")), "alice");
    EXPECT_EQ(ok(m->respond("Password:")), "wonderland");
    EXPECT_EQ(err(m->respond("Password:")), errc::sasl_bad_message);

    auto r = make("LOGIN", creds("alice", "wonderland"));
    EXPECT_EQ(ok(r->respond("PASSWORD")), "wonderland");  // odd order, case-insensitive
    EXPECT_EQ(ok(r->respond("User Name")), "alice");

    auto o = make("LOGIN", creds("alice", "wonderland"));
    EXPECT_EQ(ok(o->respond("")), "alice");  // no hint: the usual order
    EXPECT_EQ(ok(o->respond("?")), "wonderland");
}

// --- CRAM-MD5 ---------------------------------------------------------------------------------

TEST(SaslClientCramMd5, Rfc2195Example) {
    auto m = make("CRAM-MD5", creds("tim", "tanstaaftanstaaf"));
    EXPECT_EQ(m->initial_response(), std::nullopt);
    EXPECT_EQ(ok(m->respond("<1896.697170952@postoffice.reston.mci.net>")),
              "tim b913a602c7eda7a495b4e6e7334d3890");
    EXPECT_EQ(err(m->respond("<1@h>")), errc::sasl_bad_message);
    EXPECT_EQ(err(make("CRAM-MD5", creds("tim", "x"))->respond("")), errc::sasl_bad_message);
}

// --- SCRAM ------------------------------------------------------------------------------------

TEST(SaslClientScram, Rfc7677Sha256Example) {
    auto m = sasl::detail::make_scram_client(hash_algorithm::sha256, creds("user", "pencil"),
                                             "rOprNGfwEbeRWgbNEkqO", false);
    EXPECT_EQ(m->name(), "SCRAM-SHA-256");
    EXPECT_EQ(m->initial_response(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    EXPECT_EQ(ok(m->respond("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                            "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
              "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
              "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    EXPECT_EQ(m->on_success(), errc::sasl_server_not_verified);  // not yet
    EXPECT_EQ(ok(m->respond("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")), "");
    EXPECT_FALSE(m->on_success());
    EXPECT_EQ(err(m->respond("")), errc::sasl_bad_message);
}

TEST(SaslClientScram, Rfc5802Sha1Example) {
    auto m = sasl::detail::make_scram_client(hash_algorithm::sha1, creds("user", "pencil"),
                                             "fyko+d2lbbFgONRv9qkxdawL", false);
    EXPECT_EQ(m->name(), "SCRAM-SHA-1");
    EXPECT_EQ(m->initial_response(), "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    EXPECT_EQ(ok(m->respond("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
                            "s=QSXCR+Q6sek8bf92,i=4096")),
              "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
              "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
    EXPECT_EQ(ok(m->respond("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")), "");
    EXPECT_FALSE(m->on_success());
}

TEST(SaslClientScram, NonceIsBase64Of24RandomOctets) {
    auto m = make("SCRAM-SHA-256", creds("user", "pencil"));
    EXPECT_EQ(m->initial_response(), "n,,n=user,r=AAECAwQFBgcICQoLDA0ODxAREhMUFRYX");
}

TEST(SaslClientScram, EscapesNamesAndSendsAuthzid) {
    auto m = sasl::detail::make_scram_client(hash_algorithm::sha256,
                                             creds("a,b=c", "pencil", "admin"), "N", false);
    EXPECT_EQ(m->initial_response(), "n,a=admin,n=a=2Cb=3Dc,r=N");
    const std::string final_msg =
        ok(m->respond("r=NS,s=" + core::base64_encode("salt") + ",i=4096"));
    EXPECT_TRUE(final_msg.starts_with("c=bixhPWFkbWluLA==,r=NS,p=")) << final_msg;
}

TEST(SaslClientScram, TwoStep) {
    auto m = sasl::detail::make_scram_client(hash_algorithm::sha256, creds("user", "pencil"),
                                             "rOprNGfwEbeRWgbNEkqO", true);
    EXPECT_EQ(m->initial_response(), std::nullopt);
    EXPECT_EQ(ok(m->respond("")), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    EXPECT_TRUE(ok(m->respond("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                              "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
                    .ends_with(",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
    auto m2 =
        sasl::detail::make_scram_client(hash_algorithm::sha256, creds("user", "pencil"), "N", true);
    EXPECT_EQ(err(m2->respond("r=NS,s=c2FsdA==,i=4096")), errc::sasl_bad_message);
}

TEST(SaslClientScram, HostileServerFirstRejected) {
    const std::string salt = ",s=W22ZaJ0SNY7soEsUEjb6gQ==";
    for (const std::string& bad : std::vector<std::string>{
             "r=fake0000000000000000S" + salt + ",i=4096",      // foreign nonce
             "r=rOprNGfwEbeRWgbNEkqO" + salt + ",i=4096",       // not extended
             "r=rOprNGfwEbeRWgbNEkq" + salt + ",i=4096",        // shorter
             "r=rOprNGfwEbeRWgbNEkqO S" + salt + ",i=4096",     // space in the nonce
             "r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=4095",      // too few iterations
             "r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=10000001",  // too many (DoS bound)
             "r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=4294967297",
             "r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=04096",
             "r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=+4096",
             "r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=4096x",
             "r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=",
             "r=rOprNGfwEbeRWgbNEkqOS" + salt,                            // no iteration count
             "r=rOprNGfwEbeRWgbNEkqOS,s=,i=4096",                         // empty salt
             "r=rOprNGfwEbeRWgbNEkqOS,s=W22ZaJ0SNY7soEsUEjb6gQ=,i=4096",  // bad base64
             "r=rOprNGfwEbeRWgbNEkqOS,i=4096" + salt,                     // wrong order
             "m=x,r=rOprNGfwEbeRWgbNEkqOS" + salt + ",i=4096",            // mandatory extension
             "e=other-error",
             "",
             "garbage",
         }) {
        auto m = sasl::detail::make_scram_client(hash_algorithm::sha256, creds("user", "pencil"),
                                                 "rOprNGfwEbeRWgbNEkqO", false);
        (void)m->initial_response();
        EXPECT_EQ(err(m->respond(bad)), errc::sasl_bad_message) << bad;
        EXPECT_EQ(m->on_success(), errc::sasl_server_not_verified);
    }
}

TEST(SaslClientScram, AcceptsExtensionsAfterIterationCount) {
    auto m = sasl::detail::make_scram_client(hash_algorithm::sha256, creds("user", "pencil"), "N",
                                             false);
    (void)m->initial_response();
    EXPECT_TRUE(m->respond("r=NS,s=c2FsdA==,i=4096,x=future"));
}

namespace {

std::unique_ptr<sasl::client_mechanism> rfc7677_client_at_server_final() {
    auto m = sasl::detail::make_scram_client(hash_algorithm::sha256, creds("user", "pencil"),
                                             "rOprNGfwEbeRWgbNEkqO", false);
    (void)m->initial_response();
    (void)ok(
        m->respond("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                   "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
    return m;
}

}  // namespace

TEST(SaslClientScram, ServerFinalChecked) {
    struct bad_case {
        std::string msg;
        errc code;
    };
    for (const auto& c : std::vector<bad_case>{
             {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=", errc::sasl_server_not_verified},
             {"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4", errc::sasl_server_not_verified},
             {"v=", errc::sasl_server_not_verified},
             {"v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", errc::sasl_server_not_verified},
             {"e=invalid-proof", errc::authentication_failed},
             {"x=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", errc::sasl_bad_message},
             {"", errc::sasl_bad_message},
             {"garbage", errc::sasl_bad_message},
         }) {
        auto m = rfc7677_client_at_server_final();
        EXPECT_EQ(err(m->respond(c.msg)), c.code) << c.msg;
        EXPECT_EQ(m->on_success(), errc::sasl_server_not_verified) << c.msg;
    }
    // A +OK without any server-final: the server never proved itself.
    EXPECT_EQ(rfc7677_client_at_server_final()->on_success(), errc::sasl_server_not_verified);
}

TEST(SaslClientScram, PasswordThatSaslprepProhibitsIsNotSent) {
    auto m = sasl::detail::make_scram_client(hash_algorithm::sha256,
                                             creds("user",
                                                   "pen\x01"
                                                   "cil"),
                                             "N", false);
    (void)m->initial_response();
    EXPECT_EQ(err(m->respond("r=NS,s=c2FsdA==,i=4096")), errc::authentication_failed);
}

TEST(SaslClientScram, NonAsciiSpaceInPasswordIsMapped) {
    // U+00A0 becomes U+0020 before hashing (RFC 4013 section 2.1), so both spellings give
    // the same proof.
    auto a = sasl::detail::make_scram_client(hash_algorithm::sha256, creds("u", "a b"), "N", false);
    auto b = sasl::detail::make_scram_client(hash_algorithm::sha256,
                                             creds("u",
                                                   "a\xc2\xa0"
                                                   "b"),
                                             "N", false);
    (void)a->initial_response();
    (void)b->initial_response();
    EXPECT_EQ(ok(a->respond("r=NS,s=c2FsdA==,i=4096")), ok(b->respond("r=NS,s=c2FsdA==,i=4096")));
}

// --- XOAUTH2 and OAUTHBEARER ------------------------------------------------------------------

TEST(SaslClientXoauth2, InitialResponseAndErrorChallenge) {
    const std::string token = "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg";
    auto m = make("XOAUTH2", creds("someuser@example.com", token));
    EXPECT_EQ(m->initial_response(),
              "user=someuser@example.com\x01"
              "auth=Bearer " +
                  token + "\x01\x01");
    // The error challenge (a JSON status) is answered with an empty line: the server then
    // sends -ERR.
    EXPECT_EQ(ok(m->respond(R"({"status":"401","schemes":"bearer","scope":"x"})")), "");
    EXPECT_EQ(err(m->respond("again")), errc::sasl_bad_message);
}

TEST(SaslClientXoauth2, TwoStepForOffice365) {
    auto m = make("XOAUTH2", creds("u@example.com", "T"), true);
    EXPECT_EQ(m->initial_response(), std::nullopt);
    EXPECT_EQ(ok(m->respond("")),
              "user=u@example.com\x01"
              "auth=Bearer T\x01\x01");
    EXPECT_EQ(ok(m->respond("{}")), "");
    EXPECT_EQ(err(m->respond("{}")), errc::sasl_bad_message);
}

TEST(SaslClientOauthbearer, Rfc7628Example) {
    // RFC 7628 section 4.1.
    auto c = creds("user@example.com", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==");
    c.host = "server.example.com";
    c.port = 143;
    auto m = make("OAUTHBEARER", c);
    EXPECT_EQ(m->initial_response(),
              "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
              "auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01");
    // RFC 7628 section 3.2.3: the error challenge is answered with a single %x01.
    EXPECT_EQ(ok(m->respond(R"({"status":"invalid_token"})")), "\x01");
    EXPECT_EQ(err(m->respond("{}")), errc::sasl_bad_message);
}

TEST(SaslClientOauthbearer, WithoutHostPortAndTwoStep) {
    auto m = make("OAUTHBEARER", creds("a,b", "T"), true);
    EXPECT_EQ(m->initial_response(), std::nullopt);
    EXPECT_EQ(ok(m->respond("")),
              "n,a=a=2Cb,\x01"
              "auth=Bearer T\x01\x01");
}

// --- client <-> server round trips -----------------------------------------------------------

namespace {

enum class stored_as { plaintext, scram_only };

struct outcome {
    bool authenticated = false;
    std::string user;
    boost::system::error_code client_error;  // respond() or on_success()
    int rounds = 0;
};

// Runs a whole exchange. The credential store knows alice/wonderland, as a plaintext
// password or as SCRAM secrets only (what a {SCRAM-SHA-256} entry would give).
outcome run(std::string_view mech, const sasl::client_credentials& c, stored_as form) {
    const std::map<std::string, std::string> users{{"alice", "wonderland"}};
    auto lookup = [&](const std::string& user) -> std::optional<sasl::stored_secret> {
        auto it = users.find(user);
        if (it == users.end()) return std::nullopt;
        sasl::stored_secret s;
        if (form == stored_as::plaintext) {
            s.plaintext = it->second;
        } else {
            s.scram_sha1 = sasl::derive_scram_secret("SHA-1", it->second, "NaCl-1", 4096);
            s.scram_sha256 = sasl::derive_scram_secret("SHA-256", it->second, "NaCl-256", 4096);
        }
        return s;
    };
    const auto registry = sasl::server_registry::with_builtins();
    auto server = registry.create(mech, {"pop.example.net", counting_bytes()});
    auto client = sasl::make_client_mechanism(mech, c, counting_bytes());
    outcome o;
    if (!server || !client) {
        ADD_FAILURE() << "no mechanism " << mech;
        return o;
    }
    auto ir = client->initial_response();
    sasl::step_result r = server->start(ir ? std::optional<std::string_view>(*ir) : std::nullopt);
    for (; o.rounds < 10; ++o.rounds) {
        if (auto* ch = std::get_if<step::challenge>(&r)) {
            auto resp = client->respond(ch->data);
            if (!resp) {
                o.client_error = resp.error();
                return o;  // the client would cancel with "*"
            }
            r = server->next(*resp);
        } else if (auto* need = std::get_if<step::need_secret>(&r)) {
            r = server->resume(lookup(need->authcid));
        } else if (auto* d = std::get_if<step::derive_secret>(&r)) {
            r = server->resume_derived(
                sasl::derive_scram_secret(d->hash_name, d->password, d->salt, d->iterations));
        } else if (auto* v = std::get_if<step::verify_password>(&r)) {
            auto it = users.find(v->authcid);
            o.authenticated = it != users.end() && it->second == v->password;
            o.user = v->authcid;
            o.client_error = client->on_success();
            return o;
        } else if (auto* s = std::get_if<step::success>(&r)) {
            o.authenticated = true;
            o.user = s->user;
            o.client_error = client->on_success();
            return o;
        } else {
            return o;  // failure
        }
    }
    ADD_FAILURE() << "exchange did not end";
    return o;
}

}  // namespace

TEST(SaslRoundTrip, EveryServerMechanismWithRightAndWrongPassword) {
    for (const std::string mech : {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"}) {
        SCOPED_TRACE(mech);
        auto good = run(mech, creds("alice", "wonderland"), stored_as::plaintext);
        EXPECT_TRUE(good.authenticated);
        EXPECT_EQ(good.user, "alice");
        EXPECT_FALSE(good.client_error) << good.client_error.message();

        auto bad = run(mech, creds("alice", "wonderlanD"), stored_as::plaintext);
        EXPECT_FALSE(bad.authenticated);
        EXPECT_FALSE(bad.client_error);  // the server said no; the client did nothing wrong

        auto unknown = run(mech, creds("mallory", "wonderland"), stored_as::plaintext);
        EXPECT_FALSE(unknown.authenticated);
    }
}

TEST(SaslRoundTrip, ScramWithStoredScramSecrets) {
    for (const std::string mech : {"SCRAM-SHA-1", "SCRAM-SHA-256"}) {
        SCOPED_TRACE(mech);
        auto good = run(mech, creds("alice", "wonderland"), stored_as::scram_only);
        EXPECT_TRUE(good.authenticated);
        EXPECT_EQ(good.user, "alice");
        EXPECT_FALSE(good.client_error);
        // need_secret, derive_secret, server-first, server-final; then success
        EXPECT_EQ(good.rounds, 4);
        EXPECT_FALSE(run(mech, creds("alice", "x"), stored_as::scram_only).authenticated);
    }
    // CRAM-MD5 cannot work from SCRAM secrets alone.
    EXPECT_FALSE(
        run("CRAM-MD5", creds("alice", "wonderland"), stored_as::scram_only).authenticated);
}

TEST(SaslRoundTrip, ScramWithAuthzid) {
    EXPECT_TRUE(run("SCRAM-SHA-256", creds("alice", "wonderland", "alice"), stored_as::plaintext)
                    .authenticated);
    EXPECT_FALSE(run("SCRAM-SHA-256", creds("alice", "wonderland", "bob"), stored_as::plaintext)
                     .authenticated);
    EXPECT_TRUE(
        run("PLAIN", creds("alice", "wonderland", "alice"), stored_as::plaintext).authenticated);
    EXPECT_FALSE(
        run("PLAIN", creds("alice", "wonderland", "bob"), stored_as::plaintext).authenticated);
}

TEST(SaslRoundTrip, ClientDetectsAForgedServerSignature) {
    // A server mechanism that does not know the password cannot produce v=; one that
    // changes it is caught by the client.
    auto client = sasl::make_client_mechanism("SCRAM-SHA-256", creds("alice", "wonderland"),
                                              counting_bytes());
    auto server = sasl::detail::make_scram_server(hash_algorithm::sha256, {"h", counting_bytes()});
    auto ir = client->initial_response();
    (void)server->start(*ir);
    sasl::stored_secret s;
    s.plaintext = "wonderland";
    const auto d = std::get<step::derive_secret>(server->resume(s));
    auto first = std::get<step::challenge>(server->resume_derived(sasl::derive_scram_secret(
                                               d.hash_name, d.password, d.salt, d.iterations)))
                     .data;
    auto final_msg = client->respond(first);
    ASSERT_TRUE(final_msg);
    auto v = std::get<step::challenge>(server->next(*final_msg)).data;
    v[2] = v[2] == 'A' ? 'B' : 'A';
    EXPECT_EQ(err(client->respond(v)), errc::sasl_server_not_verified);
    EXPECT_EQ(client->on_success(), errc::sasl_server_not_verified);
}
