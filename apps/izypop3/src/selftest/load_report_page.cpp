#include "selftest/load_report_page.hpp"

#include "common/html_text.hpp"
#include "selftest/svg_bar_chart.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace izypop3::app {
namespace {

// No script and no outside address: the policy makes a browser refuse both, should a
// later change ever add one by mistake.
constexpr const char* page_head = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px auto; max-width: 800px; color: #222; }}
h1 {{ font-size: 20px; }} h2 {{ font-size: 16px; margin-top: 28px; }}
table {{ border-collapse: collapse; }} td, th {{ padding: 2px 12px 2px 0; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
svg {{ max-width: 100%; height: auto; }} svg .grid {{ stroke: #ddd; }}
svg .tick {{ font-size: 11px; fill: #555; }} svg .label {{ font-size: 12px; fill: #333; }}
svg .marker line {{ stroke: #222; stroke-dasharray: 4 3; }} svg .marker text {{ font-size: 11px; }}
p.none {{ color: #555; }}
</style></head><body>
)";

// Ticks every 1, 2, 5, 10... seconds, a dozen at most.
std::vector<std::pair<double, std::string>> second_ticks(std::size_t seconds) {
    const double step =
        round_up_to_nice(static_cast<double>(std::max<std::size_t>(seconds, 1)) / 12);
    std::vector<std::pair<double, std::string>> ticks;
    for (double t = 0; t <= static_cast<double>(seconds) + 1e-9; t += step)
        ticks.emplace_back(t, fmt::format("{:g}", t));
    return ticks;
}

chart_spec timeline_chart(const load_report& r, bool octets) {
    chart_spec c;
    c.id = octets ? "megabytes-per-second" : "sessions-per-second";
    c.title = octets ? "Megabytes received per second" : "Sessions ended per second";
    c.y_label = octets ? "MB/s" : "sessions/s";
    if (!octets) c.series = {"completed", "failed"};
    c.x_to = static_cast<double>(r.timeline.size());
    c.x_ticks = second_ticks(r.timeline.size());
    c.x_label = "seconds since the start";
    for (std::size_t i = 0; i < r.timeline.size(); ++i) {
        const load_second& s = r.timeline[i];
        chart_bar b{static_cast<double>(i), static_cast<double>(i + 1), {}, {}, {}};
        if (octets) {
            b.stack = {static_cast<double>(s.octets) / 1e6};
            b.attributes = fmt::format(R"(data-second="{}" data-octets="{}")", i, s.octets);
            b.tip = fmt::format("second {}: {:.2f} MB", i + 1, static_cast<double>(s.octets) / 1e6);
        } else {
            b.stack = {static_cast<double>(s.completed), static_cast<double>(s.failed)};
            b.attributes = fmt::format(R"(data-second="{}" data-completed="{}" data-failed="{}")",
                                       i, s.completed, s.failed);
            b.tip = fmt::format("second {}: {} completed, {} failed", i + 1, s.completed, s.failed);
        }
        c.bars.push_back(std::move(b));
    }
    return c;
}

// Ten bins a decade on a log scale: latencies of one run span 0.1 ms to seconds.
constexpr double bins_per_decade = 10;

chart_spec latency_chart(const std::vector<double>& sorted_ms, std::string id, std::string title) {
    chart_spec c;
    c.id = std::move(id);
    c.title = std::move(title);
    c.y_label = "sessions";
    c.x_label = "milliseconds (log scale)";
    const double lo = std::floor(std::log10(std::max(sorted_ms.front(), 0.01)));
    const double hi =
        std::max(std::ceil(std::log10(std::max(sorted_ms.back(), 0.01)) + 1e-9), lo + 1);
    c.x_from = lo;
    c.x_to = hi;
    const auto bins = static_cast<std::size_t>((hi - lo) * bins_per_decade);
    std::vector<std::uint64_t> counts(bins);
    for (const double v : sorted_ms) {
        const double at = (std::log10(std::max(v, 0.01)) - lo) * bins_per_decade;
        ++counts[std::min(static_cast<std::size_t>(std::max(at, 0.0)), bins - 1)];
    }
    for (std::size_t i = 0; i < bins; ++i) {
        if (counts[i] == 0) continue;
        const double from = lo + static_cast<double>(i) / bins_per_decade;
        const double to = from + 1 / bins_per_decade;
        c.bars.push_back(
            {from,
             to,
             {static_cast<double>(counts[i])},
             fmt::format(R"(data-from-ms="{:.4g}" data-to-ms="{:.4g}" data-count="{}")",
                         std::pow(10, from), std::pow(10, to), counts[i]),
             fmt::format("{:.4g} to {:.4g} ms: {}", std::pow(10, from), std::pow(10, to),
                         counts[i])});
    }
    for (double d = lo; d <= hi + 1e-9; ++d)
        c.x_ticks.emplace_back(d, fmt::format("{:g}", std::pow(10, d)));
    for (const auto& [q, name] : {std::pair{0.5, "p50"}, {0.9, "p90"}, {0.99, "p99"}}) {
        const double v = nearest_rank(sorted_ms, q);
        c.markers.push_back({std::log10(std::max(v, 0.01)), fmt::format("{} {:.2f} ms", name, v),
                             fmt::format(R"(data-quantile="{}" data-ms="{:.3f}")", name, v)});
    }
    return c;
}

std::string latency_section(const std::vector<double>& sorted_ms, const char* id, const char* title,
                            const char* none) {
    std::string html = fmt::format("<h2>{}</h2>\n", title);
    if (sorted_ms.empty())
        return html + fmt::format("<p class=\"none\" id=\"{}\">{}</p>\n", id, none);
    return html + svg_bar_chart(latency_chart(sorted_ms, id, title)) + "\n";
}

struct row {
    const char* id;
    const char* name;
    std::string value;
};

std::string table(const char* id, const std::vector<row>& rows) {
    std::string html = fmt::format("<table id=\"{}\">\n", id);
    for (const row& r : rows)
        html += fmt::format("<tr><th>{}</th><td class=\"n\" id=\"{}\">{}</td></tr>\n", r.name, r.id,
                            html_text(r.value));
    return html + "</table>\n";
}

std::vector<row> totals(const load_page_input& in) {
    const load_report& r = in.report;
    const double secs = std::max(r.elapsed.count(), 1e-9);
    std::vector<row> rows{
        {"completed", "sessions completed", fmt::format("{}", r.completed)},
        {"failed", "sessions failed", fmt::format("{}", r.error_count())},
        {"cutShort", "cut short by the end of the run", fmt::format("{}", r.cut_short)},
        {"seconds", "seconds", fmt::format("{:.3f}", secs)},
        {"sessionsPerSecond", "sessions/s",
         fmt::format("{:.2f}", static_cast<double>(r.completed) / secs)},
        {"octets", "message octets received", fmt::format("{}", r.octets)},
        {"megabytesPerSecond", "MB/s",
         fmt::format("{:.2f}", static_cast<double>(r.octets) / 1e6 / secs)}};
    for (const auto& [q, id, name] : {std::tuple{0.5, "latency-p50", "session latency p50, ms"},
                                      {0.9, "latency-p90", "session latency p90, ms"},
                                      {0.99, "latency-p99", "session latency p99, ms"},
                                      {1.0, "latency-max", "session latency max, ms"},
                                      {0.5, "login-p50", "login latency p50, ms"},
                                      {0.99, "login-p99", "login latency p99, ms"}}) {
        const auto& v = std::string_view(id).starts_with("login") ? r.login_ms : r.latencies_ms;
        rows.push_back({id, name, fmt::format("{:.3f}", nearest_rank(v, q))});
    }
    if (in.settings.mode == load_mode::idle)
        rows.push_back(
            {"heldPeak", "logged-in connections held at once", fmt::format("{}", r.held_peak)});
    rows.push_back(
        {"generatorCpu", "load generator CPU, s", fmt::format("{:.3f}", r.generator_cpu.count())});
    if (in.server) {
        rows.push_back({"serverRss", "server VmRSS after the run, MB",
                        fmt::format("{:.2f}", in.server->rss_mb)});
        rows.push_back({"serverPeakRss", "server peak VmRSS, MB",
                        fmt::format("{:.2f}", in.server->peak_rss_mb)});
    }
    if (in.server_cpu_seconds)
        rows.push_back({"serverCpu", "server CPU during the run, s",
                        fmt::format("{:.3f}", *in.server_cpu_seconds)});
    return rows;
}

std::vector<row> settings_rows(const load_settings& s) {
    return {{"clients", "clients at once", fmt::format("{}", s.clients)},
            {"mode", "mode", std::string(load_mode_name(s.mode))},
            {"server", "server", fmt::format("{}:{}", s.stream.host, s.stream.port)},
            {"connection", "connection", std::string(connection_name(s))},
            {"user", "user", s.session.user},
            {"sessions", "sessions",
             s.sessions ? fmt::format("{}", s.sessions) : "until the duration ends"},
            {"duration", "duration, s", fmt::format("{}", s.duration.count())},
            {"threads", "generator threads", fmt::format("{}", s.threads)}};
}

std::string errors_section(const load_report& r) {
    std::string html = "<h2>Errors</h2>\n";
    if (r.errors.empty()) return html + "<p class=\"none\" id=\"errors\">none</p>\n";
    html += "<table id=\"errors\">\n";
    for (const auto& [kind, count] : r.errors)
        html += fmt::format("<tr><th>{}</th><td class=\"n\" data-kind=\"{}\">{}</td></tr>\n",
                            html_text(kind), html_text(kind), count);
    return html + fmt::format("</table>\n<p>First: <code id=\"first-error\">{}</code></p>\n",
                              html_text(r.first_error));
}

}  // namespace

void write_load_report_page(std::ostream& out, const load_page_input& in) {
    const load_settings& s = in.settings;
    const load_report& r = in.report;
    const std::string what =
        fmt::format("{} clients, mode {}, {}:{} ({})", s.clients, load_mode_name(s.mode),
                    s.stream.host, s.stream.port, connection_name(s));
    out << fmt::format(page_head, html_text("izypop3 load run: " + what));
    out << "<h1>Load run: " << html_text(what) << "</h1>\n";
    out << fmt::format("<p>Started {:%Y-%m-%d %H:%M:%S} UTC, ran {:.2f} s.</p>\n",
                       std::chrono::floor<std::chrono::seconds>(r.started_at), r.elapsed.count());
    out << table("totals", totals(in));
    out << "<h2>Sessions per second</h2>\n" << svg_bar_chart(timeline_chart(r, false)) << '\n';
    out << "<h2>Megabytes per second</h2>\n" << svg_bar_chart(timeline_chart(r, true)) << '\n';
    out << latency_section(r.latencies_ms, "session-latency", "Session latency",
                           "No session completed.");
    out << latency_section(r.login_ms, "login-latency", "Login latency", "No session logged in.");
    out << errors_section(r);
    out << "<h2>Settings</h2>\n" << table("settings", settings_rows(s));
    out << "</body></html>\n";
}

}  // namespace izypop3::app
