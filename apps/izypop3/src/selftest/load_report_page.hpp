#pragma once
// `report FILE` of the load test: the run as one HTML page that needs nothing else (inline
// SVG and CSS, no script, no external address), so it can be mailed, archived or opened
// from a CI artefact years later. Charts: sessions and megabytes per second over the run,
// and histograms of session and login latency with p50/p90/p99 marked; tables: the
// settings, the totals, the errors by kind.
//
// Every chart element carries its number in a data- attribute (data-completed,
// data-count...), so a test can check the picture against the JSON report.

#include "selftest/load_generator.hpp"

#include <optional>
#include <ostream>

namespace izypop3::app {

struct load_page_input {
    const load_settings& settings;
    const load_report& report;
    /// The server's memory after the run and CPU during it, when its pid was known.
    std::optional<process_usage> server;
    std::optional<double> server_cpu_seconds;
};

void write_load_report_page(std::ostream& out, const load_page_input& in);

}  // namespace izypop3::app
