// Pre-authentication work on a real socket (issue 12 items 7 and 8; SECURITY S07, S12):
// a deadline to log in from the greeting, password checks and key derivations bounded per
// client address and never on the I/O thread, and the failed-login delay growing per
// address across parallel connections without touching other addresses.

#include "loopback_pop3.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace izypop3::test {
namespace {

using namespace std::chrono_literals;

TEST(server_auth_limits, the_login_deadline_closes_a_connection_that_keeps_talking) {
    transport::server_options opt;
    opt.login_timeout = 1s;
    loopback_pop3_server srv(opt);
    line_client c(srv.port());
    c.line();
    // CAPA now and then keeps the idle timer happy but must not buy more time to log in.
    std::string last;
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < 600ms) {
        c.send("CAPA\r\n");
        last = c.line();
        if (last != "+OK Capability list follows") break;  // the deadline came first
        while (last != "." && !last.starts_with("<")) last = c.line();
        std::this_thread::sleep_for(100ms);
    }
    if (last == ".") last = c.line();
    EXPECT_EQ(last, "-ERR Login took too long; closing the connection");
    EXPECT_TRUE(c.line().starts_with("<"));
    EXPECT_FALSE(srv.wait_for_log("reason=login timeout").empty());
}

TEST(server_auth_limits, the_login_deadline_closes_a_silent_connection_not_a_logged_in_one) {
    transport::server_options opt;
    opt.login_timeout = 1s;
    std::string error;
    std::shared_ptr<store::mime_store> data = std::move(*store::make_store({}, error));
    transport::server_hooks hooks;
    hooks.open_maildrop = [data](std::string_view user)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        auto md = data->open_maildrop(user);
        if (!md) return store::to_maildrop_failure(md.error());
        return std::move(*md);
    };
    loopback_pop3_server srv(opt, hooks);
    line_client user(srv.port());
    user.line();
    user.send("USER u\r\nPASS 12345\r\n");
    user.line();
    EXPECT_EQ(user.line(), "+OK You are now logged in");
    line_client silent(srv.port());
    silent.line();
    EXPECT_EQ(silent.line(), "-ERR Login took too long; closing the connection");
    // The deadline is for logging in: the session that did is past it and still served.
    user.send("NOOP\r\n");
    EXPECT_EQ(user.line(), "+OK");
    // Implicit TLS: the deadline counts from the greeting, after the handshake.
    line_client tls(srv.tls_port());
    tls.start_tls();
    tls.line();
    EXPECT_EQ(tls.line(), "-ERR Login took too long; closing the connection");
}

// A verify hook that holds each check until a second one runs beside it (or 1 s passes),
// and records how many ran at once.
struct held_checks {
    std::atomic<int> running{0};
    std::atomic<int> peak{0};
    transport::server_hooks hooks() {
        transport::server_hooks h;
        h.verify_password = [this](std::string_view, std::string_view) {
            const int now = ++running;
            int seen = peak.load();
            while (now > seen && !peak.compare_exchange_weak(seen, now)) {
            }
            for (int i = 0; i < 100 && peak.load() < 2; ++i) std::this_thread::sleep_for(10ms);
            --running;
            return core::auth_outcome::rejected;
        };
        return h;
    }
};

void two_bad_logins(std::uint16_t port, const char* source_a, const char* source_b) {
    line_client a(port, source_a);
    line_client b(port, source_b);
    a.line();
    b.line();
    a.send("USER x\r\nPASS y\r\n");
    b.send("USER x\r\nPASS y\r\n");
    for (auto* c : {&a, &b}) {
        EXPECT_EQ(c->line(), "+OK User accepted");
        EXPECT_EQ(c->line(), "-ERR [AUTH] Invalid login");  // the waiting one was not refused
    }
}

TEST(server_auth_limits, password_checks_of_one_address_run_one_at_a_time) {
    transport::server_options opt;
    opt.max_auth_work_per_ip = 1;
    opt.auth_failure_delay = 10ms;
    held_checks checks;
    loopback_pop3_server srv(opt, checks.hooks());
    two_bad_logins(srv.port(), "127.0.0.1", "127.0.0.1");
    EXPECT_EQ(checks.peak.load(), 1);
    EXPECT_FALSE(srv.wait_for_log("waiting for a credential check slot").empty());
}

TEST(server_auth_limits, another_address_is_not_held_up) {
    transport::server_options opt;
    opt.max_auth_work_per_ip = 1;
    opt.auth_failure_delay = 10ms;
    held_checks checks;
    loopback_pop3_server srv(opt, checks.hooks());
    two_bad_logins(srv.port(), "127.0.0.1", "127.0.0.2");
    EXPECT_EQ(checks.peak.load(), 2);
}

TEST(server_auth_limits, scram_key_derivation_runs_off_the_io_thread) {
    // One I/O thread. Client A's SCRAM login costs a PBKDF2 run of 3,000,000 iterations
    // (seconds); meanwhile client B is greeted and answered. Had the derivation run on the
    // I/O thread, A's server-first would be out before B heard anything.
    transport::server_options opt;
    transport::server_hooks hooks;
    hooks.secret_forms.scram_sha256 = true;
    hooks.lookup_secret = [](std::string_view) {
        core::sasl::scram_secret k;
        k.salt = "0123456789abcdef";
        k.iterations = 3'000'000;
        k.stored_key = std::string(32, 'k');
        k.server_key = std::string(32, 's');
        core::sasl::stored_secret s;
        s.scram_sha256 = k;
        return std::optional(s);
    };
    loopback_pop3_server srv(opt, hooks);
    line_client a(srv.port());
    a.line();
    a.send("AUTH SCRAM-SHA-256 " + core::base64_encode("n,,n=alice,r=abcdefgh") + "\r\n");
    ASSERT_FALSE(srv.wait_for_log("deriving SCRAM keys (3000000 iterations)").empty());
    line_client b(srv.port());
    EXPECT_TRUE(b.line().starts_with("+OK POP3 Server ready"));
    EXPECT_TRUE(has_line(b.capa(), "SASL SCRAM-SHA-256 PLAIN LOGIN"));
    EXPECT_EQ(a.pending(), 0u) << "server-first was sent before B was served";
    EXPECT_TRUE(a.line().starts_with("+ "));  // and A's exchange goes on afterwards
}

TEST(server_auth_limits, parallel_failures_from_one_address_add_up_and_others_are_fine) {
    transport::server_options opt;
    opt.auth_failure_delay = 10ms;
    opt.threads = 2;
    loopback_pop3_server srv(opt);
    {
        std::vector<std::unique_ptr<line_client>> clients;
        for (int i = 0; i < 4; ++i) {
            clients.push_back(std::make_unique<line_client>(srv.port()));
            clients.back()->line();
        }
        for (auto& c : clients) c->send("USER a\r\nPASS wrong\r\n");
        for (auto& c : clients) {
            EXPECT_EQ(c->line(), "+OK User accepted");
            EXPECT_EQ(c->line(), "-ERR [AUTH] Invalid login");
        }
    }
    // Whatever order they finished in, the four attempts were counted as 1, 2, 3 and 4.
    for (const char* delay : {"failure 1 from this address lately, reply delayed 10 ms",
                              "failure 2 from this address lately, reply delayed 20 ms",
                              "failure 3 from this address lately, reply delayed 40 ms",
                              "failure 4 from this address lately, reply delayed 80 ms"})
        EXPECT_EQ(srv.wait_for_log(delay).size(), 1u) << delay;
    // A login that succeeds does not wipe the count...
    line_client ok(srv.port());
    ok.line();
    ok.send("USER a\r\nPASS 12345\r\nUSER a\r\n");
    ok.line();
    ok.line();
    // ...and another address starts from the base delay.
    line_client other(srv.port(), "127.0.0.2");
    other.line();
    other.send("USER a\r\nPASS wrong\r\n");
    other.line();
    EXPECT_EQ(other.line(), "-ERR [AUTH] Invalid login");
    line_client again(srv.port());
    again.line();
    again.send("USER a\r\nPASS wrong\r\n");
    again.line();
    EXPECT_EQ(again.line(), "-ERR [AUTH] Invalid login");
    EXPECT_EQ(srv.wait_for_log("[S6 127.0.0.2] failed login; failure 1 ").size(), 1u);
    EXPECT_EQ(srv.wait_for_log("[S7 127.0.0.1] failed login; failure 5 ").size(), 1u);
}

}  // namespace
}  // namespace izypop3::test
