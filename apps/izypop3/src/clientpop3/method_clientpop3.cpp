// method clientpop3: talk to a POP3 server; list, fetch, or back up into a message store.

#include "clientpop3/backup_job.hpp"
#include "common/exit_codes.hpp"
#include "clientpop3/instance_lock.hpp"
#include "common/json.hpp"
#include "clientpop3/message_selection.hpp"
#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "clientpop3/pop3_link.hpp"
#include "common/terminal_text.hpp"

#include <izypop3/store/store_factory.hpp>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <ostream>
#include <thread>
#include <unistd.h>
#include <variant>

namespace izypop3::app {

namespace po = boost::program_options;

po::options_description clientpop3_options() {
    po::options_description d("clientpop3");
    d.add_options()
        ("ip", po::value<std::string>()->value_name("HOST"),
         "server to connect to (a name or an address)")
        ("port", po::value<port_number>()->default_value(port_number{110})->value_name("PORT"),
         "server port; 995 usually means implicit TLS (tls true)")
        ("user", po::value<std::string>()->value_name("TEXT"), "user name")
        ("pass", po::value<std::string>()->value_name("TEXT"),
         "password (visible in the process list; prefer passeval)")
        ("passeval", po::value<std::string>()->value_name("COMMAND"),
         "command whose first output line is the password")
        ("tls", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "implicit TLS from the first byte (RFC 8314)")
        ("starttls", po::value<choice<starttls_names>>()->default_value(choice<starttls_names>{"auto"})->value_name("auto|true|false"),
         "STLS (RFC 2595): auto = when offered, true = required before login, false = never")
        ("tls.cafile", po::value<std::string>()->value_name("PATH"),
         "PEM file of trusted CAs (default: the system's)")
        ("tls.fingerprint", po::value<std::string>()->value_name("HEX"),
         "accept only a server certificate with this SHA-256 fingerprint")
        ("tls.verify", po::value<flag>()->default_value(flag{true})->value_name("BOOL"),
         "check the server certificate and name (RFC 7817)")
        ("auth", po::value<choice<auth_names>>()->default_value(choice<auth_names>{"auto"})->value_name("auto|user|apop|plain|login|cram-md5|scram-sha-1|scram-sha-256|xoauth2|oauthbearer"),
         "login mechanism; auto = the strongest one the server offers")
        ("cmd", po::value<choice<cmd_names>>()->value_name("capa|stat|list|uidl|top|retr|dele"),
         "what to do")
        ("query", po::value<std::string>()->default_value("all")->value_name("RANGE"),
         "which messages: all, new (UIDLs not in the store yet), N, N-M, or a comma-separated list")
        ("query.id", po::value<count_value>()->value_name("N"), "one message number")
        ("lines", po::value<count_value>()->default_value(count_value{0})->value_name("N"),
         "body lines for cmd top")
        ("limit", po::value<count_value>()->default_value(count_value{0})->value_name("N"),
         "at most this many messages per run; 0 = no limit")
        ("delete", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "delete each message on the server once it is durably stored")
        ("timeout", po::value<seconds_value>()->default_value(seconds_value{60})->value_name("SECONDS"),
         "give up on a server silent this long")
        ("pipelining", po::value<choice<pipelining_names>>()->default_value(choice<pipelining_names>{"auto"})->value_name("auto|on|off"),
         "send commands ahead of replies (RFC 2449 PIPELINING); auto = when offered")
        ("maxsize", po::value<size_value>()->default_value(size_value{0})->value_name("OCTETS"),
         "skip messages larger than this; 0 = no limit")
        ("format", po::value<choice<format_names>>()->default_value(choice<format_names>{"text"})->value_name("text|json"),
         "output format");
    return d;
}

namespace {

namespace ca = core::client_action;

// Exit codes of this method (docs/client.md).
inline constexpr int exit_some_failed = exit_code::failure;
inline constexpr int exit_connection = exit_code::connection;
inline constexpr int exit_authentication = exit_code::authentication;

std::atomic<int> caught_signal{0};
extern "C" void on_stop_signal(int sig) { caught_signal.store(sig); }

// While alive: SIGINT/SIGTERM interrupt the link (discarding the message in flight, no QUIT).
class interrupt_guard {
public:
    explicit interrupt_guard(transport::client_stream& s) : stream_(s) {
        caught_signal.store(0);
        old_int_ = std::signal(SIGINT, on_stop_signal);
        old_term_ = std::signal(SIGTERM, on_stop_signal);
        watcher_ = std::thread([this] {
            while (!done_.load()) {
                if (caught_signal.load() != 0) {
                    stream_.interrupt();
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
    transport::client_stream& stream_;
    std::atomic<bool> done_{false};
    std::thread watcher_;
    void (*old_int_)(int) = SIG_DFL;
    void (*old_term_)(int) = SIG_DFL;
};

// pass, else passeval's first output line, else $IZYPOP3_PASS.
std::optional<std::string> password_of(const po::variables_map& vm, std::ostream& err) {
    if (vm.count("pass")) return vm["pass"].as<std::string>();
    if (vm.count("passeval")) {
        const auto& cmd = vm["passeval"].as<std::string>();
        FILE* p = ::popen(cmd.c_str(), "r");
        if (p == nullptr) {
            err << fmt::format("izypop3: cannot run passeval command '{}'; check that it exists\n", cmd);
            return std::nullopt;
        }
        std::string line;
        for (int ch = std::fgetc(p); ch != EOF && ch != '\n'; ch = std::fgetc(p)) {
            line += static_cast<char>(ch);
        }
        while (std::fgetc(p) != EOF) {}
        const int status = ::pclose(p);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (status != 0 || line.empty()) {
            err << fmt::format("izypop3: passeval command '{}' failed or printed no password "
                               "(exit status {}); run it by hand to see why\n", cmd, status);
            return std::nullopt;
        }
        return line;
    }
    if (const char* env = std::getenv("IZYPOP3_PASS"); env != nullptr) return std::string(env);
    return std::string{};
}

int exit_for(const pop3_link& link, std::ostream& err) {
    const auto& text = link.error_text();
    switch (link.failure()) {
        case link_failure::none: return exit_code::ok;
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
        case link_failure::connection:
            err << fmt::format("izypop3: connection failed: {}\n", terminal_safe(text));
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
    std::string cmd;
    message_selection selection;
    std::uint64_t limit = 0, max_size = 0, lines = 0;
    bool json = false;
    bool remove = false;
};

std::optional<settings> settings_of(const invocation& inv, std::ostream& err) {
    const auto& vm = inv.options;
    settings s;
    if (!vm.count("ip") || !vm.count("cmd")) {
        err << "izypop3: method clientpop3 needs ip HOST and cmd capa|stat|list|uidl|top|retr|dele; "
               "see izypop3 help clientpop3\n";
        return std::nullopt;
    }
    s.cmd = vm["cmd"].as<choice<cmd_names>>().value;
    std::string error;
    auto sel = parse_selection(vm["query"].as<std::string>(), error);
    if (!sel) {
        err << "izypop3: " << error << '\n';
        return std::nullopt;
    }
    s.selection = *sel;
    if (vm.count("query.id")) {
        const auto id = static_cast<std::uint32_t>(vm["query.id"].as<count_value>().value);
        if (id == 0) {
            err << "izypop3: query.id: message numbers start at 1\n";
            return std::nullopt;
        }
        s.selection.ranges = {{id, id}};
    }
    s.limit = vm["limit"].as<count_value>().value;
    s.max_size = vm["maxsize"].as<size_value>().value;
    s.lines = vm["lines"].as<count_value>().value;
    s.json = vm["format"].as<choice<format_names>>().value == "json";
    s.remove = vm["delete"].as<flag>().value;
    auto pass = password_of(vm, err);
    if (!pass) return std::nullopt;

    auto& st = s.stream;
    st.host = vm["ip"].as<std::string>();
    st.port = vm["port"].as<port_number>().value;
    st.implicit_tls = vm["tls"].as<flag>().value;
    if (vm.count("tls.cafile")) st.tls.ca_file = vm["tls.cafile"].as<std::string>();
    if (vm.count("tls.fingerprint")) st.tls.fingerprint = vm["tls.fingerprint"].as<std::string>();
    st.tls.verify = vm["tls.verify"].as<flag>().value;
    if (!st.tls.verify && st.tls.fingerprint.empty()) {
        err << "izypop3: warning: tls.verify false accepts any server certificate; anyone on "
               "the path can read the password. Prefer tls.cafile or tls.fingerprint\n";
    }
    const auto timeout = std::chrono::seconds(vm["timeout"].as<seconds_value>().value);
    st.connect_timeout = st.handshake_timeout = st.idle_timeout = timeout;

    auto& c = s.session;
    c.user = vm.count("user") ? vm["user"].as<std::string>() : std::string{};
    c.secret = *pass;
    c.mechanism = vm["auth"].as<choice<auth_names>>().value;
    c.host = st.host;
    c.port = st.port;
    c.tls_active = st.implicit_tls;
    const auto stls = vm["starttls"].as<choice<starttls_names>>().value;
    c.starttls = st.implicit_tls   ? core::starttls_policy::never
                 : stls == "true"  ? core::starttls_policy::required
                 : stls == "false" ? core::starttls_policy::never
                                   : core::starttls_policy::if_offered;
    c.cleartext_without_tls = c.mechanism != "auto";
    c.pipelining = vm["pipelining"].as<choice<pipelining_names>>().value != "off";
    return s;
}

// capa, stat, list, uidl, top, dele: print what the server says.
int run_listing(pop3_link& link, const settings& s, std::ostream& out, std::ostream& err) {
    auto& session = link.session();
    std::vector<std::string> rows;  // JSON objects or text lines
    std::uint64_t refused = 0;
    auto submit = [&](core::request_kind k, std::uint32_t n = 0) {
        core::request r;
        r.kind = k;
        r.number = n;
        r.lines = s.lines;
        session.submit(r);
    };
    std::vector<std::uint32_t> numbers;  // for top and dele: the selected messages
    if (s.cmd == "top" || s.cmd == "dele") {
        core::request r;
        r.kind = core::request_kind::list;
        session.submit(r);
        link.pump([&](const core::client_action_t& a) {
            if (const auto* e = std::get_if<ca::listing_entry>(&a)) {
                if (s.selection.contains(e->number) &&
                    (s.limit == 0 || numbers.size() < s.limit)) {
                    numbers.push_back(e->number);
                }
            }
        });
    }
    if (s.cmd == "capa") {
        for (const auto& c : session.capabilities()) {
            rows.push_back(s.json ? json_quote(c) : terminal_safe(c));
        }
    } else if (s.cmd == "stat") {
        submit(core::request_kind::stat);
    } else if (s.cmd == "list") {
        submit(core::request_kind::list);
    } else if (s.cmd == "uidl") {
        submit(core::request_kind::uidl);
    } else if (s.cmd == "top") {
        for (auto n : numbers) submit(core::request_kind::top, n);
    } else {
        for (auto n : numbers) submit(core::request_kind::dele, n);
    }
    std::string body;
    link.pump([&](const core::client_action_t& a) {
        if (const auto* r = std::get_if<ca::response>(&a)) {
            if (!r->ok) {
                ++refused;
                err << fmt::format("izypop3: the server refused: -ERR {}\n",
                                   terminal_safe(std::string(r->text)));
            } else if (r->kind == core::request_kind::stat) {
                rows.push_back(s.json ? fmt::format(R"({{"count":{},"octets":{}}})", r->a, r->b)
                                      : fmt::format("{} messages, {} octets", r->a, r->b));
            } else if (r->kind == core::request_kind::dele) {
                rows.push_back(s.json ? fmt::format(R"({{"deleted":{}}})", r->a)
                                      : terminal_safe(std::string(r->text)));
            }
        } else if (const auto* e = std::get_if<ca::listing_entry>(&a)) {
            if (!s.selection.contains(e->number)) return;
            if (s.limit != 0 && rows.size() >= s.limit) return;
            if (s.cmd == "list") {
                rows.push_back(s.json ? fmt::format(R"({{"number":{},"size":{}}})", e->number, e->size)
                                      : fmt::format("{} {}", e->number, e->size));
            } else {
                const std::string uid(e->uid);
                rows.push_back(s.json ? fmt::format(R"({{"number":{},"uid":{}}})", e->number, json_quote(uid))
                                      : fmt::format("{} {}", e->number, terminal_safe(uid)));
            }
        } else if (const auto* b = std::get_if<ca::body>(&a)) {
            body.append(b->data);
        } else if (std::holds_alternative<ca::body_end>(a)) {
            rows.push_back(s.json ? json_quote(body) : body);
            body.clear();
        }
    });
    if (link.failure() != link_failure::none) return exit_for(link, err);
    if (!link.quit()) {
        if (link.failure() != link_failure::none) return exit_for(link, err);
        err << fmt::format("izypop3: the server answered QUIT with -ERR ({}); no DELE of this session took effect\n",
                           terminal_safe(link.quit_refusal()));
        return exit_some_failed;
    }
    if (s.json) {
        out << '[';
        for (std::size_t i = 0; i < rows.size(); ++i) out << (i ? "," : "") << rows[i];
        out << "]\n";
    } else {
        for (const auto& r : rows) out << r << (s.cmd == "top" ? "" : "\n");
    }
    return refused == 0 ? exit_code::ok : exit_some_failed;
}

int run_retr(pop3_link& link, const settings& s, const invocation& inv, std::ostream& out,
             std::ostream& err) {
    std::string error;
    auto made = store::make_store(inv.store, error);
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
    if (!link.open()) return exit_for(link, err);
    backup_settings b;
    b.selection = s.selection;
    b.limit = s.limit;
    b.max_size = s.max_size;
    b.delete_stored = s.remove;
    b.source_id = source_id;
    b.progress_on_terminal = &err == &std::cerr && ::isatty(STDERR_FILENO) == 1;
    b.mailbox = s.session.user;
    const auto start = std::chrono::steady_clock::now();
    const auto sum = run_backup(link, **made, b, err);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s.json) {
        out << fmt::format(
            R"({{"fetched":{},"alreadyStored":{},"duplicates":{},"deleted":{},"failed":{},"skippedLarge":{},"bytes":{},"seconds":{:.3f}}})"
            "\n",
            sum.fetched, sum.already_stored, sum.duplicates, sum.deleted, sum.failed,
            sum.skipped_large, sum.bytes, secs);
    } else {
        out << fmt::format(
            "fetched {}, already stored {}, duplicates {}, deleted {}, failed {}, skipped (maxsize) "
            "{}, {} octets in {:.1f} s\n",
            sum.fetched, sum.already_stored, sum.duplicates, sum.deleted, sum.failed,
            sum.skipped_large, sum.bytes, secs);
    }
    if (link.failure() != link_failure::none) return exit_for(link, err);
    // Deletions asked for and refused at QUIT: the run did not do all it was told.
    const bool commit_refused = b.delete_stored && !sum.quit_ok;
    return sum.failed == 0 && !commit_refused ? exit_code::ok : exit_some_failed;
}

}  // namespace

int run_clientpop3(const invocation& inv, std::ostream& out, std::ostream& err) {
    auto s = settings_of(inv, err);
    if (!s) return exit_code::usage;
    pop3_link link(s->stream, s->session);
    interrupt_guard guard(link.stream());
    if (s->cmd == "retr") return run_retr(link, *s, inv, out, err);
    if (!link.open()) return exit_for(link, err);
    return run_listing(link, *s, out, err);
}

}  // namespace izypop3::app
