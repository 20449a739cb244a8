#include "selftest/fullclientserver.hpp"

#include "cli/option_types.hpp"
#include "common/exit_codes.hpp"
#include "common/store_opening.hpp"
#include "selftest/backup_checks.hpp"
#include "selftest/check_list.hpp"
#include "selftest/maildrop_reference.hpp"
#include "selftest/scripted_client.hpp"
#include "selftest/selftest_server.hpp"

#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>
#include <izypop3/transport/server.hpp>

#include <fmt/format.h>

#include <array>
#include <functional>
#include <optional>
#include <ostream>
#include <thread>

namespace izypop3::app {
namespace {

struct context {
    const maildrop_reference& ref;
    transport::server& srv;
    transport::logger log;

    transport::client_stream_options plain() const {
        transport::client_stream_options o;
        o.host = "127.0.0.1";
        o.port = srv.port();
        o.tls.fingerprint = srv.tls_fingerprint();
        o.idle_timeout = std::chrono::seconds(60);
        return o;
    }
    transport::client_stream_options tls() const {
        auto o = plain();
        o.port = srv.tls_port();
        o.implicit_tls = true;
        return o;
    }
    std::string stat_line() const {
        return fmt::format("+OK {} {}", ref.messages().size(), ref.total_size());
    }
};

// Each step of a script: the status line must start with `want`, else the script fails.
verdict expect_status(scripted_client& c, std::string_view cmd, std::string_view want,
                      std::string_view shown = {}) {
    auto got = c.command(cmd, shown);
    if (!got) return fmt::format("{}: {}", shown.empty() ? cmd : shown, c.error_text());
    if (!got->starts_with(want))
        return fmt::format("{}: expected '{}...', got '{}'", shown.empty() ? cmd : shown, want,
                           *got);
    return std::nullopt;
}

verdict connect_and_login(scripted_client& c, std::string_view user) {
    auto greeting = c.connect();
    if (!greeting) return "connect: " + c.error_text();
    if (!greeting->starts_with("+OK")) return "greeting: " + *greeting;
    if (auto v = expect_status(c, fmt::format("USER {}", user), "+OK")) return v;
    return expect_status(c, fmt::format("PASS {}", user), "+OK", "PASS <redacted>");
}

verdict expect_body(scripted_client& c, std::string_view cmd, const std::string& want) {
    if (auto v = expect_status(c, cmd, "+OK")) return v;
    auto body = c.body();
    if (!body) return fmt::format("{} body: {}", cmd, c.error_text());
    if (auto v = compare_octets(want, *body)) return fmt::format("{}: {}", cmd, *v);
    return std::nullopt;
}

verdict expect_message(scripted_client& c, const maildrop_reference& ref, std::size_t number) {
    return expect_body(c, fmt::format("RETR {}", number), ref.wire_octets(number - 1));
}

verdict after_login_unchanged(const context& ctx, scripted_client& c);

// The maildrop must be exactly as the store has it: nothing deleted, nothing added.
verdict unchanged(const context& ctx, std::string_view user) {
    // The server notices the dropped connection on its own schedule; until then the
    // maildrop is still locked by the old session.
    std::optional<scripted_client> c;
    for (int attempt = 0;; ++attempt) {
        c.emplace(ctx.plain(), ctx.log);
        auto v = connect_and_login(*c, user);
        if (!v) break;
        if (v->find("[IN-USE]") == std::string::npos || attempt == 100) return "new session: " + *v;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return after_login_unchanged(ctx, *c);
}

verdict after_login_unchanged(const context& ctx, scripted_client& c) {
    if (auto v = expect_status(c, "STAT", ctx.stat_line())) return "new session: " + *v;
    if (auto v = expect_body(c, "UIDL", ctx.ref.uidl_text())) return "new session: " + *v;
    return expect_status(c, "QUIT", "+OK");
}

verdict badlogin(const context& ctx) {
    scripted_client c(ctx.plain(), ctx.log);
    auto greeting = c.connect();
    if (!greeting) return "connect: " + c.error_text();
    if (auto v = expect_status(c, "USER baduser", "+OK")) return v;
    auto reply = c.command("PASS badpass", "PASS <redacted>");
    if (!reply) return "PASS: " + c.error_text();
    if (*reply != "-ERR [AUTH] Invalid login")
        return fmt::format("PASS: expected '-ERR [AUTH] Invalid login', got '{}'", *reply);
    return expect_status(c, "QUIT", "+OK");
}

// Log in as `user`, send `command` and expect the multi-line `body`, QUIT.
verdict listing_session(const context& ctx, const transport::client_stream_options& where,
                        std::string_view user, std::string_view command, const std::string& body) {
    scripted_client c(where, ctx.log);
    if (auto v = connect_and_login(c, user)) return v;
    if (auto v = expect_body(c, command, body)) return v;
    return expect_status(c, "QUIT", "+OK");
}

verdict listandquit(const context& ctx) {
    return listing_session(ctx, ctx.plain(), "listuser", "LIST", ctx.ref.list_text());
}

verdict pop3failed(const context& ctx) {
    if (ctx.ref.messages().size() < 2) return "the store needs at least 2 messages for this check";
    scripted_client c(ctx.plain(), ctx.log);
    if (auto v = connect_and_login(c, "faileduser")) return v;
    if (auto v = expect_status(c, "DELE 1", "+OK")) return v;
    if (auto v = expect_message(c, ctx.ref, 2)) return v;
    c.drop();  // no QUIT: RFC 1939 section 6 says nothing may be deleted
    return unchanged(ctx, "faileduser");
}

verdict retrsuccess(const context& ctx) {
    if (ctx.ref.messages().empty()) return "the store needs at least 1 message for this check";
    scripted_client c(ctx.plain(), ctx.log);
    if (auto v = connect_and_login(c, "retruser")) return v;
    if (auto v = expect_message(c, ctx.ref, 1)) return v;
    if (auto v = expect_status(c, "QUIT", "+OK")) return v;
    return unchanged(ctx, "retruser");
}

verdict stls_session(const context& ctx) {
    scripted_client c(ctx.plain(), ctx.log);
    auto greeting = c.connect();
    if (!greeting) return "connect: " + c.error_text();
    if (auto v = expect_status(c, "STLS", "+OK")) return v;
    if (c.start_tls()) return "TLS after STLS: " + c.error_text();
    if (auto v = expect_status(c, "USER tlsuser", "+OK")) return v;
    if (auto v = expect_status(c, "PASS tlsuser", "+OK", "PASS <redacted>")) return v;
    if (auto v = expect_status(c, "STAT", ctx.stat_line())) return v;
    if (!ctx.ref.messages().empty())
        if (auto v = expect_message(c, ctx.ref, ctx.ref.messages().size())) return v;
    return expect_status(c, "QUIT", "+OK");
}

verdict implicit_tls_session(const context& ctx) {
    return listing_session(ctx, ctx.tls(), "tlsuser", "UIDL", ctx.ref.uidl_text());
}

verdict maildrop_is_empty(const context& ctx, std::string_view user) {
    scripted_client c(ctx.plain(), ctx.log);
    if (auto v = connect_and_login(c, user)) return "new session: " + *v;
    auto stat = c.command("STAT");
    if (!stat) return "new session: STAT: " + c.error_text();
    if (*stat != "+OK 0 0")
        return fmt::format("new session: expected an empty maildrop ('+OK 0 0'), got '{}'", *stat);
    return expect_status(c, "QUIT", "+OK");
}

// port 0: free ports for both listeners; port P: plain POP3 on P, implicit TLS on P+1.
std::optional<transport::server_options> listeners_of(const invocation& inv, std::ostream& err) {
    transport::server_options opt;
    opt.host = "127.0.0.1";
    const std::uint16_t port = inv.options["port"].as<port_or_zero>().value;
    if (port == 65535) {
        err << "izypop3: test: port 65535 leaves no room for the TLS listener on port+1; "
               "give a lower port or 0\n";
        return std::nullopt;
    }
    opt.pick_free_ports = port == 0;
    opt.port = port;
    opt.tls_port = port == 0 ? 1 : static_cast<std::uint16_t>(port + 1);  // 1: "on"
    opt.threads = 2;
    return opt;
}

void run_scripts(const context& ctx, check_list& checks) {
    using script = verdict (*)(const context&);
    static constexpr std::array<std::pair<std::string_view, script>, 6> scripts{{
        {"badlogin", badlogin},
        {"listandquit", listandquit},
        {"pop3failed", pop3failed},
        {"retrsuccess", retrsuccess},
        {"stls", stls_session},
        {"implicittls", implicit_tls_session},
    }};
    for (const auto& [name, run] : scripts) checks.record(name, run(ctx));
}

void run_backups(const invocation& inv, const context& ctx, std::string_view store_kind,
                 check_list& checks, std::ostream& err) {
    backup_target target;
    target.port = ctx.srv.port();
    target.tls_port = ctx.srv.tls_port();
    target.fingerprint = ctx.srv.tls_fingerprint();
    target.ref = &ctx.ref;
    // Only the fake store is ours to empty; a store the user named keeps its messages.
    target.may_delete = store_kind == "fake";
    target.maildrop_empty = [&ctx] { return maildrop_is_empty(ctx, "backupuser"); };
    // The backups log what the self-test logs: their conversations and waits at its level.
    for (const char* key : {"verbose.clientLog", "verbose.waitTime"}) {
        if (inv.options[key].as<flag>().value)
            target.log_keys.insert(target.log_keys.end(), {key, "true"});
    }
    if (!target.log_keys.empty()) {
        target.log_keys.insert(
            target.log_keys.end(),
            {"loglevel", inv.options["loglevel"].as<choice<loglevel_names>>().value});
        target.client_log = &err;
    }
    run_backup_checks(target, checks);
}

struct run_facts {
    std::string store;
    std::size_t messages;
    std::uint16_t pop3_port;
    std::uint16_t pop3s_port;
};

// Text prints its heading at once; JSON carries the same facts in its one object.
check_list report_for(const invocation& inv, const run_facts& f, std::ostream& out) {
    if (inv.options["format"].as<choice<format_names>>().value == "json") {
        return check_list(
            out, boost::json::object{{"test", "fullclientserver"},
                                     {"store", f.store},
                                     {"messages", f.messages},
                                     {"pop3", fmt::format("127.0.0.1:{}", f.pop3_port)},
                                     {"pop3s", fmt::format("127.0.0.1:{}", f.pop3s_port)}});
    }
    out << fmt::format(
        "fullclientserver: {} store, {} messages; POP3 on 127.0.0.1:{}, POP3S on "
        "127.0.0.1:{}\n",
        f.store, f.messages, f.pop3_port, f.pop3s_port);
    return check_list(out);
}

}  // namespace

int run_fullclientserver(const invocation& inv, std::ostream& out, std::ostream& err) {
    std::string why;
    const auto log = logger_for(inv);
    auto made = open_store(inv.store, log, why);
    if (!made) {
        err << "izypop3: test: cannot open the " << inv.store.modhandler << " store: " << why
            << '\n';
        return exit_code::failure;
    }
    std::shared_ptr<store::mime_store> data = std::move(*made);
    auto ref = maildrop_reference::open(data, "fullclientserver-reference");
    if (!ref) {
        err << "izypop3: test: cannot read the " << data->kind()
            << " store's maildrop: " << ref.error().message() << '\n';
        return exit_code::failure;
    }
    const auto opt = listeners_of(inv, err);
    if (!opt) return exit_code::usage;
    server_under_test server(*opt, own_name_passwords(data), log);
    if (server.start(why)) {
        err << "izypop3: test: the server did not start: " << why << '\n';
        return exit_code::failure;
    }
    const run_facts facts{std::string(data->kind()), ref->messages().size(), server.get().port(),
                          server.get().tls_port()};
    check_list checks = report_for(inv, facts, out);
    const context ctx{*ref, server.get(), log};
    run_scripts(ctx, checks);
    run_backups(inv, ctx, data->kind(), checks, err);
    server.stop();
    return checks.finish();
}

}  // namespace izypop3::app
