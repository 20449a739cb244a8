// method clientpop3: talk to a POP3 server; list, fetch, or back up into a message store.

#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "clientpop3/backup_job.hpp"
#include "clientpop3/instance_lock.hpp"
#include "clientpop3/message_selection.hpp"
#include "clientpop3/password_source.hpp"
#include "clientpop3/pop3_link.hpp"
#include "clientpop3/server_listing.hpp"
#include "common/exit_codes.hpp"
#include "common/json.hpp"
#include "common/store_opening.hpp"
#include "common/terminal_text.hpp"

#include <izypop3/core/command.hpp>
#include <izypop3/core/status_line.hpp>
#include <izypop3/store/store_factory.hpp>

#include <fmt/format.h>

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <ostream>
#include <thread>
#include <variant>

namespace izypop3::app {

namespace po = boost::program_options;

po::options_description clientpop3_options() {
    po::options_description d("clientpop3");
    d.add_options()("ip", po::value<std::string>()->value_name("HOST"),
                    "server to connect to (a name or an address)")(
        "port", po::value<port_number>()->default_value(port_number{110})->value_name("PORT"),
        "server port; 995 usually means implicit TLS (tls true)")(
        "user", po::value<std::string>()->value_name("TEXT"), "user name")(
        "pass", po::value<std::string>()->value_name("TEXT"),
        "password (visible in the process list; prefer passeval or IZYPOP3_PASS)")(
        "passeval", po::value<std::string>()->value_name("COMMAND"),
        "command whose first output line is the password; it must exit 0 and print one (else "
        "exit code 2); without pass and passeval, $IZYPOP3_PASS is the password")(
        "tls", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
        "implicit TLS from the first byte (RFC 8314)")(
        "starttls",
        po::value<choice<starttls_names>>()
            ->default_value(choice<starttls_names>{"auto"})
            ->value_name("auto|true|false"),
        "STLS (RFC 2595): auto = when offered, true = required before login, false = never")(
        "tls.cafile", po::value<std::string>()->value_name("PATH"),
        "PEM file of trusted CAs (default: the system's)")(
        "tls.fingerprint", po::value<std::string>()->value_name("HEX"),
        "accept only a server certificate with this SHA-256 fingerprint")(
        "tls.verify", po::value<flag>()->default_value(flag{true})->value_name("BOOL"),
        "check the server certificate and name (RFC 7817)")(
        "auth",
        po::value<choice<auth_names>>()
            ->default_value(choice<auth_names>{"auto"})
            ->value_name("auto|user|apop|plain|login|cram-md5|scram-sha-1|scram-sha-256|xoauth2|"
                         "oauthbearer"),
        "login mechanism; auto = the strongest one the server offers")(
        "oauth2.twostep",
        po::value<choice<twostep_names>>()
            ->default_value(choice<twostep_names>{"auto"})
            ->value_name("auto|true|false"),
        "XOAUTH2 form: true = AUTH XOAUTH2, then the token after \"+ \" (Exchange Online); "
        "false = the token on the AUTH line; auto = on the line, and once more in two steps "
        "on a new connection if the server refuses that")(
        "allowplaintext", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
        "let user, plain, login, xoauth2 and oauthbearer send the password without TLS (so "
        "does starttls false or tls false given on purpose)")(
        "cmd", po::value<choice<cmd_names>>()->value_name("capa|stat|list|uidl|top|retr|dele"),
        "what to do")(
        "query", po::value<std::string>()->default_value("all")->value_name("RANGE"),
        "which messages: all, N, N-M, a comma-separated list, or new (cmd retr only: UIDLs "
        "not in the store yet)")("query.id", po::value<count_value>()->value_name("N"),
                                 "one message number (instead of query)")(
        "lines", po::value<count_value>()->default_value(count_value{0})->value_name("N"),
        "body lines for cmd top")(
        "limit", po::value<count_value>()->default_value(count_value{0})->value_name("N"),
        "at most this many messages per run; 0 = no limit")(
        "delete", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
        "cmd retr: delete each message on the server once it is durably stored (not with "
        "the fake store, which keeps nothing)")(
        "timeout",
        po::value<seconds_value>()->default_value(seconds_value{60})->value_name("SECONDS"),
        "give up on a server silent this long")(
        "pipelining",
        po::value<choice<pipelining_names>>()
            ->default_value(choice<pipelining_names>{"auto"})
            ->value_name("auto|on|off"),
        "auto = send commands ahead of replies when the server offers PIPELINING (RFC 2449 "
        "allows it only then); on = also when it does not offer it (most servers answer "
        "queued commands in order all the same; the log says so once); off = one command "
        "at a time")(
        "maxsize", po::value<size_value>()->default_value(size_value{0})->value_name("OCTETS"),
        "skip messages whose LIST size is larger than this (list, uidl, top, retr, dele), "
        "and accept no body past it; 0 = no limit")(
        "maxmessages",
        po::value<count_value>()->default_value(count_value{1000000})->value_name("N"),
        "refuse a server that lists more messages than this in STAT, LIST or UIDL (cmd list, "
        "uidl, top, retr, dele)")("format",
                                  po::value<choice<format_names>>()
                                      ->default_value(choice<format_names>{"text"})
                                      ->value_name("text|json"),
                                  "output format");
    return d;
}

namespace {

namespace ca = core::client_action;

// Exit codes of this method (docs/client.md).
inline constexpr int exit_some_failed = exit_code::failure;
inline constexpr int exit_connection = exit_code::connection;
inline constexpr int exit_authentication = exit_code::authentication;
inline constexpr int exit_try_later = exit_code::try_later;

std::atomic<int> caught_signal{0};
extern "C" void on_stop_signal(int sig) {
    caught_signal.store(sig);
}

// While alive: SIGINT/SIGTERM interrupt the link (discarding the message in flight, no QUIT).
class interrupt_guard {
  public:
    explicit interrupt_guard(pop3_link& link) : link_(link) {
        caught_signal.store(0);
        old_int_ = std::signal(SIGINT, on_stop_signal);
        old_term_ = std::signal(SIGTERM, on_stop_signal);
        watcher_ = std::thread([this] {
            while (!done_.load()) {
                if (caught_signal.load() != 0) {
                    link_.interrupt();
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        });
    }
    ~interrupt_guard() {
        done_.store(true);
        watcher_.join();
        std::signal(SIGINT, old_int_);
        std::signal(SIGTERM, old_term_);
    }
    interrupt_guard(const interrupt_guard&) = delete;
    interrupt_guard& operator=(const interrupt_guard&) = delete;

  private:
    pop3_link& link_;
    std::atomic<bool> done_{false};
    std::thread watcher_;
    void (*old_int_)(int) = SIG_DFL;
    void (*old_term_)(int) = SIG_DFL;
};

// Connects and logs in; at loglevel debug, says what the connection is.
bool open_link(pop3_link& link, bool forced_pipelining, const transport::logger& log,
               std::ostream& err) {
    const bool opened = link.open();
    // What the login had to try is news to the user: the next run can go straight to it.
    if (log.enabled(transport::log_level::warn))
        for (const auto& note : link.login_notes())
            err << fmt::format("izypop3: note: {}\n", terminal_safe(note));
    if (!opened) return false;
    // Said once, since the user chose it: replies mixed up later are explained by it.
    if (forced_pipelining && !link.session().has_capability("PIPELINING") &&
        log.enabled(transport::log_level::warn))
        err << "izypop3: note: pipelining on: the server does not offer PIPELINING; commands "
               "go out ahead of its replies all the same (pipelining auto sends one at a "
               "time)\n";
    if (!log.enabled(transport::log_level::debug)) return true;
    const transport::connection_info& c = link.connection();
    if (c.tls) {
        log.debug("connected to {} over {} ({}), server certificate {} SHA-256 {}{}",
                  c.remote_address, c.tls_version, c.cipher,
                  transport::sanitize_for_log(c.peer_subject, 200), c.peer_fingerprint,
                  c.verified ? ", verified" : ", NOT verified (tls.verify false)");
    } else {
        log.debug("connected to {} without TLS", c.remote_address);
    }
    std::string caps;
    for (const auto& cap : link.session().capabilities()) caps += (caps.empty() ? "" : ", ") + cap;
    log.debug("logged in with {}; the server offers: {}", link.mechanism(),
              caps.empty() ? std::string("no CAPA") : transport::sanitize_for_log(caps));
    return true;
}

std::string upper(std::string_view s) {
    std::string r(s);
    for (auto& ch : r) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return r;
}

// The seconds of "LOGIN-DELAY n" in the server's CAPA (RFC 2449 section 6.5), or empty.
std::string login_delay_of(const pop3_link& link) {
    for (const auto& c : link.session().capabilities()) {
        std::string_view cap = c;
        constexpr std::string_view name = "LOGIN-DELAY ";
        if (cap.size() <= name.size() || upper(cap.substr(0, name.size())) != name) continue;
        cap.remove_prefix(name.size());
        const auto seconds = core::parse_decimal(cap.substr(0, cap.find(' ')));
        if (seconds) return std::to_string(*seconds);
    }
    return {};
}

// A refusal for now: what to wait for, from the response code in the server's reply.
void explain_deferred_login(const pop3_link& link, std::ostream& err) {
    const auto& text = link.error_text();
    const auto st = core::parse_status_line(text);
    const std::string code = st ? upper(st->code) : std::string();
    err << fmt::format("izypop3: the server refused the login for now: {}\n", terminal_safe(text));
    if (code == "IN-USE") {
        err << "izypop3: hint: another client (a mail program, a phone, another izypop3) holds "
               "this mailbox; close it or wait until it is done, then run again\n";
    } else if (code == "LOGIN-DELAY") {
        const auto delay = login_delay_of(link);
        err << fmt::format(
            "izypop3: hint: the server allows one login every {}; wait that long "
            "after the last login (of any client), then run again\n",
            delay.empty() ? std::string("a few minutes") : delay + " seconds");
    } else {
        err << "izypop3: hint: the server has a temporary problem; your password was not "
               "rejected, run again later\n";
    }
}

int exit_for(const pop3_link& link, std::ostream& err) {
    const auto& text = link.error_text();
    switch (link.failure()) {
        case link_failure::none:
            return exit_code::ok;
        case link_failure::interrupted:
            err << "izypop3: interrupted; the message in flight was discarded, nothing was "
                   "deleted on the server\n";
            return exit_some_failed;
        case link_failure::authentication:
            err << fmt::format("izypop3: login failed: {}\n", terminal_safe(text));
            if (text.find("[AUTH]") != std::string::npos) {
                err << "izypop3: hint: the server rejected the credentials; check user and "
                       "password (Gmail and Outlook need an app password or an OAuth2 token "
                       "via auth xoauth2 and passeval)\n";
            } else {
                err << "izypop3: hint: check user, pass/passeval and auth\n";
            }
            return exit_authentication;
        case link_failure::login_deferred:
            explain_deferred_login(link, err);
            return exit_try_later;
        case link_failure::connection:
            err << fmt::format("izypop3: connection failed: {}\n", terminal_safe(text));
            return exit_connection;
        case link_failure::cleartext_refused:
            // The text says what to do; one line (issue 12).
            err << fmt::format("izypop3: login refused, nothing was sent: {}\n",
                               terminal_safe(text));
            return exit_connection;
        case link_failure::protocol:
            err << fmt::format("izypop3: the session failed: {}\n", terminal_safe(text));
            return exit_some_failed;
    }
    return exit_some_failed;
}

struct settings {
    transport::client_stream_options stream;
    core::client_config session;
    login_fallbacks fallbacks;
    std::string cmd;
    message_selection selection;
    std::uint64_t limit = 0, max_size = 0, lines = 0;
    std::uint64_t max_messages = 1'000'000;
    bool json = false;
    bool remove = false;
};

// query, narrowed to one message by query.id.
std::optional<message_selection> selection_of(const po::variables_map& vm, std::ostream& err) {
    std::string error;
    auto sel = parse_selection(vm["query"].as<std::string>(), error);
    if (!sel) {
        err << "izypop3: " << error << '\n';
        return std::nullopt;
    }
    if (vm.count("query.id")) {
        const auto id = static_cast<std::uint32_t>(vm["query.id"].as<count_value>().value);
        if (id == 0) {
            err << "izypop3: query.id: message numbers start at 1\n";
            return std::nullopt;
        }
        sel->ranges = {{id, id}};
    }
    return sel;
}

transport::client_stream_options stream_options_of(const po::variables_map& vm,
                                                   const transport::logger& log,
                                                   std::ostream& err) {
    transport::client_stream_options st;
    st.host = vm["ip"].as<std::string>();
    st.port = vm["port"].as<port_number>().value;
    st.implicit_tls = vm["tls"].as<flag>().value;
    if (vm.count("tls.cafile")) st.tls.ca_file = vm["tls.cafile"].as<std::string>();
    if (vm.count("tls.fingerprint")) st.tls.fingerprint = vm["tls.fingerprint"].as<std::string>();
    st.tls.verify = vm["tls.verify"].as<flag>().value;
    if (!st.tls.verify && st.tls.fingerprint.empty() && log.enabled(transport::log_level::warn)) {
        err << "izypop3: warning: tls.verify false accepts any server certificate; anyone on "
               "the path can read the password. Prefer tls.cafile or tls.fingerprint\n";
    }
    const auto timeout = std::chrono::seconds(vm["timeout"].as<seconds_value>().value);
    st.connect_timeout = st.handshake_timeout = st.idle_timeout = timeout;
    return st;
}

core::client_config session_config_of(const po::variables_map& vm,
                                      const transport::client_stream_options& st,
                                      std::string password) {
    core::client_config c;
    c.user = vm.count("user") ? vm["user"].as<std::string>() : std::string{};
    c.secret = std::move(password);
    c.mechanism = vm["auth"].as<choice<auth_names>>().value;
    c.host = st.host;
    c.port = st.port;
    c.tls_active = st.implicit_tls;
    const auto stls = vm["starttls"].as<choice<starttls_names>>().value;
    c.starttls = st.implicit_tls   ? core::starttls_policy::never
                 : stls == "true"  ? core::starttls_policy::required
                 : stls == "false" ? core::starttls_policy::never
                                   : core::starttls_policy::if_offered;
    // Given on purpose, not defaulted: the session then lets a password go in clear.
    c.tls_declined = (stls == "false" && !vm["starttls"].defaulted()) ||
                     (!st.implicit_tls && !vm["tls"].defaulted());
    c.allow_plaintext = vm["allowplaintext"].as<flag>().value;
    c.xoauth2_two_step = vm["oauth2.twostep"].as<choice<twostep_names>>().value == "true";
    const auto pipelining = vm["pipelining"].as<choice<pipelining_names>>().value;
    c.pipelining = pipelining != "off";
    c.force_pipelining = pipelining == "on";
    c.max_listing_entries = vm["maxmessages"].as<count_value>().value;
    return c;
}

std::optional<settings> settings_of(const invocation& inv, const transport::logger& log,
                                    std::ostream& err) {
    const auto& vm = inv.options;
    settings s;
    if (!vm.count("ip") || !vm.count("cmd")) {
        err << "izypop3: method clientpop3 needs ip HOST and cmd "
               "capa|stat|list|uidl|top|retr|dele; "
               "see izypop3 help clientpop3\n";
        return std::nullopt;
    }
    s.cmd = vm["cmd"].as<choice<cmd_names>>().value;
    auto sel = selection_of(vm, err);
    if (!sel) return std::nullopt;
    s.selection = *sel;
    s.limit = vm["limit"].as<count_value>().value;
    s.max_size = vm["maxsize"].as<size_value>().value;
    s.lines = vm["lines"].as<count_value>().value;
    s.json = vm["format"].as<choice<format_names>>().value == "json";
    s.remove = vm["delete"].as<flag>().value;
    s.max_messages = vm["maxmessages"].as<count_value>().value;
    auto pass = password_of(vm, err);
    if (!pass) return std::nullopt;
    s.stream = stream_options_of(vm, log, err);
    s.session = session_config_of(vm, s.stream, std::move(*pass));
    s.fallbacks.xoauth2_two_step = vm["oauth2.twostep"].as<choice<twostep_names>>().value == "auto";
    // A mechanism the user named is never replaced by another.
    s.fallbacks.next_mechanism = s.session.mechanism == "auto";
    return s;
}

// What capa, stat, list, uidl, top and dele print: one JSON value or one text line per row,
// in the order the server answered.
class listing_rows {
  public:
    explicit listing_rows(bool json) : json_(json) {}

    /// Adds `as_json()` in JSON, `as_text()` otherwise; only the one asked for is built.
    template <class Json, class Text>
    void add(Json&& as_json, Text&& as_text) {
        if (json_)
            values_.emplace_back(as_json());
        else
            lines_.emplace_back(as_text());
    }
    std::size_t size() const noexcept { return json_ ? values_.size() : lines_.size(); }

    /// JSON: one array on one line. Text: a line each; `raw` bodies (top) carry their own.
    void print(std::ostream& out, bool raw) const {
        if (json_) return write_json_line(out, values_);
        for (const auto& line : lines_) out << line << (raw ? "" : "\n");
    }

  private:
    bool json_;
    boost::json::array values_;
    std::vector<std::string> lines_;
};

// The selected messages (query, query.id, maxsize by LIST size, limit), from STAT, LIST and (for
// uidl) UIDL checked against each other; nullopt when the link failed or `problem` says why the
// listing is not believable.
std::optional<std::vector<core::listed_message>> selected_messages(pop3_link& link,
                                                                   const settings& s,
                                                                   std::string& problem,
                                                                   std::ostream& err) {
    std::string without_uidl;
    auto all = list_server_messages(link, s.max_messages, s.cmd == "uidl", problem, &without_uidl);
    if (!all) return std::nullopt;
    if (!without_uidl.empty()) err << fmt::format("izypop3: note: {}\n", without_uidl);
    std::vector<core::listed_message> out;
    for (auto& m : *all)
        if (s.selection.contains(m.number) && (s.max_size == 0 || m.size <= s.max_size) &&
            (s.limit == 0 || out.size() < s.limit))
            out.push_back(std::move(m));
    return out;
}

// Puts the rows of capa, list and uidl, which need no further request, or submits what
// stat, top and dele ask for. False when the listing could not be had: then the link
// failed, or `problem` says why the server's listing was refused.
bool submit_listing(pop3_link& link, const settings& s, listing_rows& rows, std::string& problem,
                    std::ostream& err) {
    if (s.cmd == "capa") {
        for (const auto& c : link.session().capabilities())
            rows.add([&] { return json_string(c); }, [&] { return terminal_safe(c); });
        return true;
    }
    core::request r;
    r.lines = s.lines;
    if (s.cmd == "stat") {
        r.kind = core::request_kind::stat;
        link.session().submit(r);
        return true;
    }
    const auto listed = selected_messages(link, s, problem, err);
    if (!listed) return false;
    for (const auto& m : *listed) {
        if (s.cmd == "list") {
            rows.add(
                [&] {
                    return boost::json::object{{"number", m.number}, {"size", m.size}};
                },
                [&] { return fmt::format("{} {}", m.number, m.size); });
        } else if (s.cmd == "uidl") {
            rows.add(
                [&] {
                    return boost::json::object{{"number", m.number}, {"uid", json_string(m.uid)}};
                },
                [&] { return fmt::format("{} {}", m.number, terminal_safe(m.uid)); });
        } else {
            r.kind = s.cmd == "top" ? core::request_kind::top : core::request_kind::dele;
            r.number = m.number;
            // Headers and some lines are never more than the message LIST announced;
            // maxsize already skipped the larger messages.
            r.max_octets = s.cmd == "top" ? core::retr_cap(m.size) : 0;
            link.session().submit(r);
        }
    }
    return true;
}

// Turns the session's events into rows; counts the requests the server refused.
class listing_reader {
  public:
    listing_reader(const settings& s, listing_rows& rows, std::ostream& err)
        : s_(s), rows_(rows), err_(err) {}

    void operator()(const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a))
            on_response(*r);
        else if (const auto* b = std::get_if<ca::body>(&a))
            body_.append(b->data);
        else if (std::holds_alternative<ca::body_end>(a))
            on_body_end();
    }
    std::uint64_t refused() const noexcept { return refused_; }

  private:
    void on_response(const ca::response& r) {
        if (!r.ok) {
            ++refused_;
            err_ << fmt::format("izypop3: the server refused: -ERR {}\n",
                                terminal_safe(std::string(r.text)));
        } else if (r.kind == core::request_kind::stat) {
            rows_.add(
                [&] {
                    return boost::json::object{{"count", r.a}, {"octets", r.b}};
                },
                [&] { return fmt::format("{} messages, {} octets", r.a, r.b); });
        } else if (r.kind == core::request_kind::dele) {
            rows_.add(
                [&] {
                    return boost::json::object{{"deleted", r.a}};
                },
                [&] { return terminal_safe(std::string(r.text)); });
        }
    }

    void on_body_end() {
        rows_.add([&] { return json_string(body_); }, [&] { return body_; });
        body_.clear();
    }

    const settings& s_;
    listing_rows& rows_;
    std::ostream& err_;
    std::string body_;
    std::uint64_t refused_ = 0;
};

// QUIT after a listing; a failure's exit code, or nothing when the session ended well.
std::optional<int> quit_listing(pop3_link& link, std::ostream& err) {
    if (link.failure() != link_failure::none) return exit_for(link, err);
    if (link.quit()) return std::nullopt;
    if (link.failure() != link_failure::none) return exit_for(link, err);
    err << fmt::format(
        "izypop3: the server answered QUIT with -ERR ({}); no DELE of this "
        "session took effect\n",
        terminal_safe(link.quit_refusal()));
    return exit_some_failed;
}

// capa, stat, list, uidl, top, dele: print what the server says.
int run_listing(pop3_link& link, const settings& s, std::ostream& out, std::ostream& err) {
    listing_rows rows(s.json);
    std::string problem;
    if (!submit_listing(link, s, rows, problem, err)) {
        if (problem.empty()) return exit_for(link, err);
        err << fmt::format(
            "izypop3: the server's listing is not believable, nothing was done: {}\n",
            terminal_safe(problem));
        return exit_some_failed;
    }
    listing_reader reader(s, rows, err);
    link.pump(std::ref(reader));
    if (const auto failed = quit_listing(link, err)) return *failed;
    rows.print(out, s.cmd == "top");
    return reader.refused() == 0 ? exit_code::ok : exit_some_failed;
}

void print_summary(std::ostream& out, const backup_summary& sum, double secs, bool json) {
    if (json) {
        write_json_line(out, boost::json::object{{"fetched", sum.fetched},
                                                 {"alreadyStored", sum.already_stored},
                                                 {"duplicates", sum.duplicates},
                                                 {"deleted", sum.deleted},
                                                 {"failed", sum.failed},
                                                 {"skippedLarge", sum.skipped_large},
                                                 {"bytes", sum.bytes},
                                                 {"seconds", json_rounded(secs, 3)}});
        return;
    }
    out << fmt::format(
        "fetched {}, already stored {}, duplicates {}, deleted {}, failed {}, skipped (maxsize) "
        "{}, {} octets in {:.1f} s\n",
        sum.fetched, sum.already_stored, sum.duplicates, sum.deleted, sum.failed, sum.skipped_large,
        sum.bytes, secs);
}

backup_settings backup_settings_of(const settings& s, std::string source_id,
                                   const std::ostream& err) {
    backup_settings b;
    b.selection = s.selection;
    b.limit = s.limit;
    b.max_size = s.max_size;
    b.max_messages = static_cast<std::size_t>(s.max_messages);
    b.delete_stored = s.remove;
    b.source_id = std::move(source_id);
    b.progress_on_terminal = &err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
    b.mailbox = s.session.user;
    return b;
}

// RFC 2449 section 6.7: with "EXPIRE n" the server deletes what was retrieved after n days
// (0: at once, at the end of the session) whatever the client asks; a user who keeps mail
// on the server (delete false) must hear it once. "NEVER" and no EXPIRE are fine.
void warn_about_expire(pop3_link& link, const transport::logger& log, std::ostream& err) {
    if (!log.enabled(transport::log_level::warn)) return;
    for (const auto& c : link.session().capabilities()) {
        std::string_view cap = c;
        constexpr std::string_view name = "EXPIRE ";
        if (cap.size() <= name.size() || upper(cap.substr(0, name.size())) != name) continue;
        cap.remove_prefix(name.size());
        const auto days = core::parse_decimal(cap.substr(0, cap.find(' ')));
        if (!days) return;
        const bool per_user = cap.find(' ') != std::string_view::npos;
        err << fmt::format(
            "izypop3: warning: the server announces EXPIRE {}{}: it deletes retrieved messages "
            "{} although delete is false; this backup keeps them, the server does not\n",
            *days, per_user ? " (it may differ per user)" : "",
            *days == 0 ? std::string("at the end of this session")
                       : fmt::format("{} day{} after retrieval", *days, *days == 1 ? "" : "s"));
        return;
    }
}

int run_retr(pop3_link& link, const settings& s, const invocation& inv,
             const transport::logger& log, std::ostream& out, std::ostream& err) {
    std::string error;
    auto made = open_store(inv.store, log, error);
    if (!made) {
        err << "izypop3: cannot open the store: " << error << '\n';
        return exit_code::failure;
    }
    const std::string source_id = s.session.user + "@" + s.stream.host;
    auto lock = instance_lock::acquire(source_id, inv.store, error);
    if (!lock) {
        err << "izypop3: " << error << '\n';
        return exit_code::failure;
    }
    if (!open_link(link, s.session.force_pipelining, log, err)) return exit_for(link, err);
    if (!s.remove) warn_about_expire(link, log, err);
    const backup_settings b = backup_settings_of(s, source_id, err);
    const auto start = std::chrono::steady_clock::now();
    const auto sum = run_backup(link, **made, b, err);
    print_summary(out, sum,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                  s.json);
    if (!sum.refused.empty()) {
        err << fmt::format("izypop3: {}\n", terminal_safe(sum.refused));
        return exit_some_failed;
    }
    if (sum.reconnects > 0 && (link.failure() == link_failure::connection ||
                               link.failure() == link_failure::authentication ||
                               link.failure() == link_failure::login_deferred)) {
        // The run had started: what it stored stays, and the next run goes on from there.
        err << fmt::format("izypop3: connecting again after a failed message did not work: {}\n",
                           terminal_safe(link.error_text()));
        return exit_some_failed;
    }
    if (link.failure() != link_failure::none) return exit_for(link, err);
    // Deletions asked for and refused at QUIT: the run did not do all it was told.
    const bool commit_refused = b.delete_stored && !sum.quit_ok;
    return sum.failed == 0 && !commit_refused ? exit_code::ok : exit_some_failed;
}

}  // namespace

int run_clientpop3(const invocation& inv, std::ostream& out, std::ostream& err) {
    const auto log = logger_for(inv);
    auto s = settings_of(inv, log, err);
    if (!s) return exit_code::usage;
    pop3_link link(s->stream, s->session);
    link.set_log(log);
    link.set_fallbacks(s->fallbacks);
    interrupt_guard guard(link);
    if (s->cmd == "retr") return run_retr(link, *s, inv, log, out, err);
    if (!open_link(link, s->session.force_pipelining, log, err)) return exit_for(link, err);
    return run_listing(link, *s, out, err);
}

}  // namespace izypop3::app
