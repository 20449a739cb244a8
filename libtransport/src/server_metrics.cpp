// The exposition follows the Prometheus text format 0.0.4: one HELP and one TYPE line per
// family, counters named *_total, histogram buckets cumulative with le="+Inf" equal to
// _count. Reads are relaxed: a scrape may see a session's counts half updated, which a
// monotonic counter tolerates.

#include <izypop3/transport/server_metrics.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace izypop3::transport {

namespace {

constexpr std::array<std::string_view, 5> end_reason_names{"quit", "timeout", "eof", "error",
                                                           "shutdown"};
constexpr std::array<std::string_view, 4> tls_names{"TLSv1.2", "TLSv1.3", "other", ""};
constexpr std::array<std::string_view, 3> store_op_names{"open_maildrop", "open_message",
                                                         "commit_deletions"};

std::size_t end_reason_index(core::close_reason r) noexcept {
    switch (r) {
        case core::close_reason::quit:
            return 0;
        case core::close_reason::timeout:
        case core::close_reason::login_timeout:
            return 1;
        case core::close_reason::peer_closed:
            return 2;
        case core::close_reason::shutdown:
            return 4;
        default:
            return 3;  // bad commands, failed logins, TLS, a message that could not be read
    }
}

template <std::size_t N>
std::size_t index_in(const std::array<std::string_view, N>& names, std::string_view v) noexcept {
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), v) - names.begin());
}

std::string upper(std::string_view v) {
    std::string s(v);
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::uint64_t load(const std::atomic<std::uint64_t>& c) noexcept {
    return c.load(std::memory_order_relaxed);
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string escape_label_value(std::string_view v) {
    std::string s;
    s.reserve(v.size());
    for (const char c : v) {
        if (c == '\\')
            s += "\\\\";
        else if (c == '"')
            s += "\\\"";
        else if (c == '\n')
            s += "\\n";
        else
            s += c;
    }
    return s;
}

void server_metrics::connection_refused(refusal why) noexcept {
    bump(refused_[static_cast<std::size_t>(why)]);
}

void server_metrics::session_ended(core::close_reason why) noexcept {
    bump(ended_[end_reason_index(why)]);
}

void server_metrics::command(const core::command_event& e) noexcept {
    bump(commands_[index_in(verbs, e.verb)]);
    if (e.ok && e.verb == "RETR") bump(retrieved_);
    std::string_view mechanism;
    std::string named;
    if (e.verb == "PASS") {
        mechanism = "USER";
    } else if (e.verb == "APOP") {
        mechanism = "APOP";
    } else if (e.verb == "AUTH" && !e.arguments.empty()) {
        named = upper(std::string_view(e.arguments).substr(0, e.arguments.find(' ')));
        mechanism = named;
    } else {
        return;
    }
    bump(logins_[index_in(mechanisms, mechanism)][e.ok ? 1 : 0]);
}

void server_metrics::tls_handshake(bool ok, std::string_view version) noexcept {
    bump(tls_[ok ? std::min<std::size_t>(index_in(tls_names, version), 2) : 3]);
}

void server_metrics::store_call(store_operation op, bool ok,
                                std::chrono::nanoseconds took) noexcept {
    auto& h = store_[static_cast<std::size_t>(op)];
    const double seconds = std::chrono::duration<double>(took).count();
    const auto at = static_cast<std::size_t>(
        std::lower_bound(latency_buckets.begin(), latency_buckets.end(), seconds) -
        latency_buckets.begin());
    bump(h.buckets[at]);
    bump(h.sum_ns, static_cast<std::uint64_t>(std::max<std::int64_t>(took.count(), 0)));
    if (!ok) bump(h.errors);
}

void server_metrics::write_histograms(std::string& out, std::string_view store_kind) const {
    const auto store = escape_label_value(store_kind);
    auto it = std::back_inserter(out);
    family(out, "izypop3_store_operations_total", "counter",
           "Store operations by store, operation and result.");
    for (std::size_t op = 0; op < store_ops; ++op) {
        std::uint64_t all = 0;
        for (const auto& b : store_[op].buckets) all += load(b);
        const auto failed = load(store_[op].errors);
        fmt::format_to(it,
                       "izypop3_store_operations_total{{store=\"{}\",operation=\"{}\","
                       "result=\"ok\"}} {}\n",
                       store, store_op_names[op], all - std::min(all, failed));
        fmt::format_to(it,
                       "izypop3_store_operations_total{{store=\"{}\",operation=\"{}\","
                       "result=\"error\"}} {}\n",
                       store, store_op_names[op], failed);
    }
    family(out, "izypop3_store_operation_duration_seconds", "histogram",
           "Time the store took for an operation, as the server waited for it.");
    for (std::size_t op = 0; op < store_ops; ++op) {
        const auto& h = store_[op];
        const auto labels = fmt::format("store=\"{}\",operation=\"{}\"", store, store_op_names[op]);
        std::uint64_t cumulative = 0;
        for (std::size_t b = 0; b < latency_buckets.size(); ++b) {
            cumulative += load(h.buckets[b]);
            fmt::format_to(it,
                           "izypop3_store_operation_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                           labels, latency_buckets[b], cumulative);
        }
        cumulative += load(h.buckets.back());
        fmt::format_to(it, "izypop3_store_operation_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                       labels, cumulative);
        fmt::format_to(it, "izypop3_store_operation_duration_seconds_sum{{{}}} {}\n", labels,
                       static_cast<double>(load(h.sum_ns)) / 1e9);
        fmt::format_to(it, "izypop3_store_operation_duration_seconds_count{{{}}} {}\n", labels,
                       cumulative);
    }
}

void server_metrics::write_prometheus(std::string& out, std::string_view store_kind) const {
    auto it = std::back_inserter(out);
    family(out, "izypop3_connections_accepted_total", "counter",
           "TCP connections accepted on the POP3 ports.");
    fmt::format_to(it, "izypop3_connections_accepted_total {}\n", load(accepted_));
    family(out, "izypop3_connections_refused_total", "counter",
           "Connections turned away before a session, by reason.");
    fmt::format_to(it, "izypop3_connections_refused_total{{reason=\"max_connections\"}} {}\n",
                   load(refused_[0]));
    fmt::format_to(it, "izypop3_connections_refused_total{{reason=\"per_address\"}} {}\n",
                   load(refused_[1]));
    std::uint64_t ended = 0;
    for (const auto& c : ended_) ended += load(c);
    family(out, "izypop3_sessions_open", "gauge", "POP3 sessions open now.");
    const auto opened = load(sessions_open_);
    fmt::format_to(it, "izypop3_sessions_open {}\n", opened - std::min(opened, ended));
    family(out, "izypop3_sessions_ended_total", "counter", "POP3 sessions ended, by reason.");
    for (std::size_t i = 0; i < end_reasons; ++i)
        fmt::format_to(it, "izypop3_sessions_ended_total{{reason=\"{}\"}} {}\n",
                       end_reason_names[i], load(ended_[i]));
    family(out, "izypop3_logins_total", "counter", "Login attempts by mechanism and result.");
    for (std::size_t m = 0; m < login_kinds; ++m)
        for (int ok = 1; ok >= 0; --ok)
            fmt::format_to(it, "izypop3_logins_total{{mechanism=\"{}\",result=\"{}\"}} {}\n",
                           m < mechanisms.size() ? mechanisms[m] : "other", ok ? "ok" : "failed",
                           load(logins_[m][ok]));
    family(out, "izypop3_login_failure_delays_total", "counter",
           "Replies to failed logins held back by the failed-login delay.");
    fmt::format_to(it, "izypop3_login_failure_delays_total {}\n", load(failure_delays_));
    family(out, "izypop3_tls_handshakes_total", "counter",
           "TLS handshakes (STLS and the implicit TLS port) by result and protocol version.");
    for (std::size_t v = 0; v < 3; ++v)
        fmt::format_to(it, "izypop3_tls_handshakes_total{{result=\"ok\",version=\"{}\"}} {}\n",
                       tls_names[v], load(tls_[v]));
    fmt::format_to(it, "izypop3_tls_handshakes_total{{result=\"failed\",version=\"\"}} {}\n",
                   load(tls_[3]));
    family(out, "izypop3_commands_total", "counter", "POP3 commands answered, by verb.");
    for (std::size_t v = 0; v <= verbs.size(); ++v)
        fmt::format_to(it, "izypop3_commands_total{{verb=\"{}\"}} {}\n",
                       v < verbs.size() ? verbs[v] : "other", load(commands_[v]));
    family(out, "izypop3_messages_retrieved_total", "counter", "Messages sent in answer to RETR.");
    fmt::format_to(it, "izypop3_messages_retrieved_total {}\n", load(retrieved_));
    family(out, "izypop3_messages_deleted_total", "counter",
           "Messages deleted by a committed UPDATE (QUIT after DELE).");
    fmt::format_to(it, "izypop3_messages_deleted_total {}\n", load(deleted_));
    family(out, "izypop3_sent_octets_total", "counter", "Octets written to POP3 clients.");
    fmt::format_to(it, "izypop3_sent_octets_total {}\n", load(sent_));
    family(out, "izypop3_received_octets_total", "counter", "Octets read from POP3 clients.");
    fmt::format_to(it, "izypop3_received_octets_total {}\n", load(received_));
    write_histograms(out, store_kind);
}

}  // namespace izypop3::transport
