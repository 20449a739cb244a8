#include "selftest/svg_bar_chart.hpp"

#include "common/html_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

namespace izypop3::app {
namespace {

// The drawing area inside the SVG's 760 x 260 box; the rest holds the axes' labels.
constexpr double width = 760, height = 260;
constexpr double left = 64, right = 16, top = 16, bottom = 44;
constexpr double plot_w = width - left - right, plot_h = height - top - bottom;
constexpr std::array<const char*, 3> series_colours{"#3b6fb6", "#c8423b", "#7a9a3a"};

struct scale {
    double x_from, x_to, y_max;
    double x(double v) const { return left + plot_w * (v - x_from) / (x_to - x_from); }
    double y(double v) const { return top + plot_h * (1.0 - v / y_max); }
};

std::string number_text(double v) {
    return fmt::format("{:.4g}", v);
}

double tallest(const chart_spec& spec) {
    double most = 0;
    for (const chart_bar& b : spec.bars)
        most = std::max(most, std::accumulate(b.stack.begin(), b.stack.end(), 0.0));
    return most;
}

void draw_axes(std::string& svg, const chart_spec& spec, const scale& s) {
    for (int i = 0; i <= 4; ++i) {
        const double v = s.y_max * i / 4;
        svg += fmt::format(R"(<line class="grid" x1="{0}" x2="{1}" y1="{2:.1f}" y2="{2:.1f}"/>)"
                           R"(<text class="tick" x="{3}" y="{4:.1f}" text-anchor="end">{5}</text>)",
                           left, width - right, s.y(v), left - 6, s.y(v) + 4, number_text(v));
    }
    for (const auto& [at, label] : spec.x_ticks) {
        svg += fmt::format(R"(<text class="tick" x="{:.1f}" y="{}" text-anchor="middle">{}</text>)",
                           s.x(at), height - bottom + 16, html_text(label));
    }
    svg += fmt::format(R"(<text class="label" x="{}" y="{}" text-anchor="middle">{}</text>)",
                       left + plot_w / 2, height - 6, html_text(spec.x_label));
    svg += fmt::format(
        R"svg(<text class="label" transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text>)svg",
        top + plot_h / 2, html_text(spec.y_label));
}

void draw_bars(std::string& svg, const chart_spec& spec, const scale& s) {
    for (const chart_bar& b : spec.bars) {
        svg +=
            fmt::format(R"(<g class="bar" {}><title>{}</title>)", b.attributes, html_text(b.tip));
        double base = 0;
        for (std::size_t i = 0; i < b.stack.size(); ++i) {
            if (b.stack[i] <= 0) continue;
            const double x0 = s.x(b.from), x1 = s.x(b.to);
            svg += fmt::format(
                R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>)",
                x0 + 0.5, s.y(base + b.stack[i]), std::max(x1 - x0 - 1.0, 0.5),
                s.y(base) - s.y(base + b.stack[i]), series_colours[i % series_colours.size()]);
            base += b.stack[i];
        }
        svg += "</g>";
    }
}

void draw_markers(std::string& svg, const chart_spec& spec, const scale& s) {
    for (std::size_t i = 0; i < spec.markers.size(); ++i) {
        const chart_marker& m = spec.markers[i];
        const double x = s.x(m.x);
        // Labels near the right edge go on the line's left, where there is room.
        const bool leftwards = x > left + plot_w * 0.7;
        svg += fmt::format(
            R"(<g class="marker" {0}><line x1="{1:.1f}" x2="{1:.1f}" y1="{2}" y2="{3}"/>)"
            R"(<text x="{4:.1f}" y="{5}" text-anchor="{6}">{7}</text></g>)",
            m.attributes, x, top, top + plot_h, leftwards ? x - 3 : x + 3,
            top + 12 + 12.0 * static_cast<double>(i), leftwards ? "end" : "start",
            html_text(m.label));
    }
}

void draw_legend(std::string& svg, const chart_spec& spec) {
    double x = width - right;
    for (std::size_t i = spec.series.size(); i-- > 0;) {
        x -= 12 + 7.0 * static_cast<double>(spec.series[i].size()) + 18;
        svg += fmt::format(
            R"(<rect x="{0:.1f}" y="2" width="10" height="10" fill="{1}"/><text class="tick" x="{2:.1f}" y="11">{3}</text>)",
            x, series_colours[i % series_colours.size()], x + 14, html_text(spec.series[i]));
    }
}

}  // namespace

double round_up_to_nice(double value) {
    if (value <= 0) return 1;
    const double power = std::pow(10.0, std::floor(std::log10(value)));
    for (const double step : {1.0, 2.0, 5.0, 10.0})
        if (step * power >= value * (1 - 1e-12)) return step * power;
    return 10 * power;
}

std::string svg_bar_chart(const chart_spec& spec) {
    const scale s{spec.x_from, spec.x_to > spec.x_from ? spec.x_to : spec.x_from + 1,
                  round_up_to_nice(tallest(spec))};
    std::string svg = fmt::format(
        R"(<svg id="{0}" viewBox="0 0 {1} {2}" width="{1}" height="{2}" role="img"><title>{3}</title>)",
        html_text(spec.id), width, height, html_text(spec.title));
    draw_axes(svg, spec, s);
    draw_bars(svg, spec, s);
    draw_markers(svg, spec, s);
    if (spec.series.size() > 1) draw_legend(svg, spec);
    svg += "</svg>";
    return svg;
}

}  // namespace izypop3::app
