#include "selftest/load_test.hpp"

#include "common/exit_codes.hpp"
#include "common/store_opening.hpp"
#include "common/json.hpp"
#include "common/staged_file.hpp"
#include "selftest/load_generator.hpp"
#include "selftest/load_report_page.hpp"
#include "cli/option_types.hpp"
#include "selftest/selftest_server.hpp"

#include <izypop3/store/store_factory.hpp>

#include <fmt/format.h>

#include <memory>
#include <ostream>
#include <sstream>

namespace izypop3::app {
namespace {

constexpr std::string_view own_server_user = "load%n";

load_mode mode_of(const std::string& name) {
    if (name == "retrall") return load_mode::retrall;
    if (name == "idle") return load_mode::idle;
    return load_mode::login;
}

core::starttls_policy starttls_of(const std::string& name) {
    if (name == "true") return core::starttls_policy::required;
    if (name == "false") return core::starttls_policy::never;
    return core::starttls_policy::if_offered;
}

// The keys as load settings; `why` explains a combination that cannot work.
std::optional<load_settings> settings_from(const invocation& inv, std::string& why) {
    const auto& o = inv.options;
    load_settings s;
    s.mode = mode_of(o["mode"].as<choice<load_mode_names>>().value);
    s.clients = static_cast<unsigned>(o["clients"].as<count_value>().value);
    s.sessions = o["sessions"].as<count_value>().value;
    s.duration = std::chrono::seconds(o["duration"].as<seconds_value>().value);
    // One thread, like a C event loop: the load goes to the server, not to the handoffs
    // between a tool's own threads.
    s.threads = 1;
    if (s.clients == 0) {
        why = "clients must be at least 1";
        return std::nullopt;
    }
    const bool tls = o["tls"].as<flag>().value;
    s.stream.host = o.count("ip") ? o["ip"].as<std::string>() : "127.0.0.1";
    const std::uint16_t port = o["port"].as<port_or_zero>().value;
    s.stream.port = port != 0 ? port : (tls ? 995 : 110);
    s.stream.implicit_tls = tls;
    s.stream.tls.verify = o["tls.verify"].as<flag>().value;
    if (o.count("tls.fingerprint")) s.stream.tls.fingerprint = o["tls.fingerprint"].as<std::string>();
    s.stream.connect_timeout = std::chrono::seconds(30);
    s.stream.handshake_timeout = std::chrono::seconds(30);
    // An idle session must outlive the run; the others may wait as long as the run lasts.
    s.stream.idle_timeout = s.duration + std::chrono::seconds(30);
    s.session.user = o.count("user") ? o["user"].as<std::string>() : std::string(own_server_user);
    s.password_is_user = !o.count("pass");
    if (o.count("pass")) s.session.secret = o["pass"].as<std::string>();
    s.session.tls_active = tls;
    s.session.starttls = tls ? core::starttls_policy::never
                             : starttls_of(o["starttls"].as<choice<starttls_names>>().value);
    s.session.allow_plaintext = true;  // a load tool measures what it is pointed at
    // USER/PASS: a login costs the same on every server, where SCRAM would measure key
    // derivation on both sides (and servers that lack it would log in differently).
    s.session.mechanism = "user";
    return s;
}

void print_text(std::ostream& out, const load_settings& s, const load_report& r,
                const std::optional<process_usage>& before,
                const std::optional<process_usage>& after) {
    const double secs = std::max(r.elapsed.count(), 1e-9);
    out << fmt::format("load: {} clients, mode {}, {}:{} ({})\n", s.clients, load_mode_name(s.mode),
                       s.stream.host, s.stream.port, connection_name(s));
    out << fmt::format("sessions: {} completed, {} failed, {} cut short by the end of the run, "
                       "in {:.2f} s: {:.1f} sessions/s\n",
                       r.completed, r.error_count(), r.cut_short, secs,
                       static_cast<double>(r.completed) / secs);
    out << fmt::format("latency ms: p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f}\n",
                       r.latency_quantile(0.5), r.latency_quantile(0.9),
                       r.latency_quantile(0.99), r.latency_quantile(1.0));
    out << fmt::format("data: {} octets received, {:.1f} MB/s\n", r.octets,
                       static_cast<double>(r.octets) / 1e6 / secs);
    if (s.mode == load_mode::idle)
        out << fmt::format("idle: {} connections held at once{}\n", r.held_peak,
                           r.all_held_seconds ? fmt::format(", all {} logged in after {:.2f} s",
                                                            s.clients, *r.all_held_seconds)
                                              : std::string());
    if (r.errors.empty()) {
        out << "errors: none\n";
    } else {
        std::string kinds;
        for (const auto& e : r.errors) kinds += fmt::format("{}{} {}", kinds.empty() ? "" : ", ", e.first, e.second);
        out << "errors: " << kinds << "; first: " << r.first_error << '\n';
    }
    out << fmt::format("load generator: CPU {:.2f} s, {:.3f} ms a session, busy {:.0f}% of its {} "
                       "thread{}{}\n",
                       r.generator_cpu.count(), r.generator_ms_per_session(),
                       r.generator_busy_percent(), r.generator_threads,
                       r.generator_threads == 1 ? "" : "s",
                       r.generator_busy_percent() >= 90
                           ? " (the generator, not the server, was the limit)"
                           : "");
    if (after) {
        out << fmt::format("server: VmRSS {:.1f} MB, peak {:.1f} MB, CPU {:.2f} s during the run\n",
                           after->rss_mb, after->peak_rss_mb,
                           after->cpu_seconds - (before ? before->cpu_seconds : 0.0));
    }
}

boost::json::object latency_json(const load_report& r) {
    return {{"p50", json_rounded(r.latency_quantile(0.5), 3)},
            {"p90", json_rounded(r.latency_quantile(0.9), 3)},
            {"p99", json_rounded(r.latency_quantile(0.99), 3)},
            {"max", json_rounded(r.latency_quantile(1.0), 3)}};
}

// Numbers keep the decimals the text report shows.
void print_json(std::ostream& out, const load_settings& s, const load_report& r,
                const std::optional<process_usage>& before,
                const std::optional<process_usage>& after) {
    const double secs = std::max(r.elapsed.count(), 1e-9);
    boost::json::object errors;
    for (const auto& [kind, count] : r.errors) errors[json_string(kind)] = count;
    boost::json::object o{
        {"clients", s.clients},
        {"completed", r.completed},
        {"failed", r.error_count()},
        {"cutShort", r.cut_short},
        {"seconds", json_rounded(secs, 3)},
        {"sessionsPerSecond", json_rounded(static_cast<double>(r.completed) / secs, 2)},
        {"latencyMs", latency_json(r)},
        {"octets", r.octets},
        {"megabytesPerSecond", json_rounded(static_cast<double>(r.octets) / 1e6 / secs, 2)},
        {"heldPeak", r.held_peak},
        {"errors", std::move(errors)},
        {"firstError", json_string(r.first_error)},
        {"generator",
         {{"threads", r.generator_threads},
          {"cpuSeconds", json_rounded(r.generator_cpu.count(), 3)},
          {"cpuMsPerSession", json_rounded(r.generator_ms_per_session(), 3)},
          {"busyPercent", json_rounded(r.generator_busy_percent(), 1)}}}};
    if (r.all_held_seconds) o["allLoggedInSeconds"] = json_rounded(*r.all_held_seconds, 3);
    if (after) {
        const double cpu = after->cpu_seconds - (before ? before->cpu_seconds : 0.0);
        o["server"] = {{"rssMb", json_rounded(after->rss_mb, 2)},
                       {"peakRssMb", json_rounded(after->peak_rss_mb, 2)},
                       {"cpuSeconds", json_rounded(cpu, 3)}};
    }
    write_json_line(out, o);
}

// Without ip: our own server on the named store, in this process, on a free port; the
// settings then point at it. Nothing after a message on `err` (`code` says which exit).
std::unique_ptr<server_under_test> start_own_server(const invocation& inv, load_settings& settings,
                                                    int& code, std::ostream& err) {
    std::string why;
    auto made = open_store(inv.store, logger_for(inv), why);
    if (!made) {
        err << "izypop3: test: cannot open the " << inv.store.modhandler << " store: " << why
            << '\n';
        code = exit_code::failure;
        return nullptr;
    }
    transport::server_options opt;
    opt.host = "127.0.0.1";
    opt.pick_free_ports = true;
    opt.port = 1;
    opt.tls_port = 1;
    opt.threads = settings.threads;
    opt.max_connections = std::max<std::size_t>(opt.max_connections, settings.clients + 16);
    opt.max_connections_per_ip = opt.max_connections;  // every client is on 127.0.0.1
    auto own = std::make_unique<server_under_test>(opt, own_name_passwords(std::move(*made)),
                                                   logger_for(inv));
    if (own->start(why)) {
        err << "izypop3: test: the server did not start: " << why << '\n';
        code = exit_code::failure;
        return nullptr;
    }
    settings.stream.port = settings.stream.implicit_tls ? own->get().tls_port() : own->get().port();
    settings.stream.tls.fingerprint = own->get().tls_fingerprint();
    return own;
}

std::optional<double> server_cpu(const std::optional<process_usage>& before,
                                 const std::optional<process_usage>& after) {
    if (!after) return std::nullopt;
    return after->cpu_seconds - (before ? before->cpu_seconds : 0.0);
}

bool write_page(staged_file& page, const load_page_input& in, std::ostream& err) {
    std::ostringstream html;
    write_load_report_page(html, in);
    std::string why;
    if (page.commit(html.str(), why)) return true;
    err << "izypop3: test: the run is over but its report was not written: " << why << '\n';
    return false;
}

}  // namespace

int run_load_test(const invocation& inv, std::ostream& out, std::ostream& err) {
    std::string why;
    auto settings = settings_from(inv, why);
    if (!settings) {
        err << "izypop3: test: " << why << "; run 'izypop3 method test help' for the keys\n";
        return exit_code::usage;
    }
    std::unique_ptr<server_under_test> own;
    long pid = inv.options.count("serverpid") ? static_cast<long>(inv.options["serverpid"].as<count_value>().value) : 0;
    if (!inv.options.count("ip")) {
        int code = exit_code::ok;
        own = start_own_server(inv, *settings, code, err);
        if (!own) return code;
        if (pid == 0) pid = static_cast<long>(::getpid());
    }
    std::optional<staged_file> page;
    if (inv.options.count("report")) {
        auto made = staged_file::create(inv.options["report"].as<std::string>(), why);
        if (made) page.emplace(std::move(*made));
        if (!page) {
            err << "izypop3: test: cannot write the report: " << why
                << "; name a file in a writable directory\n";
            return exit_code::failure;
        }
    }
    // Assigned, not built by "pid ? ... : std::nullopt": g++ 12 reports that ternary's
    // optional as maybe-uninitialized once print_text() is inlined (a false positive).
    std::optional<process_usage> before;
    if (pid) before = read_process_usage(pid);
    const load_report report = run_load(*settings);
    std::optional<process_usage> after;
    if (pid) after = read_process_usage(pid);
    if (own) own->stop();
    if (inv.options["format"].as<choice<format_names>>().value == "json") {
        print_json(out, *settings, report, before, after);
    } else {
        print_text(out, *settings, report, before, after);
    }
    if (page && !write_page(*page, {*settings, report, after, server_cpu(before, after)}, err))
        return exit_code::failure;
    return report.error_count() == 0 ? exit_code::ok : exit_code::failure;
}

}  // namespace izypop3::app
