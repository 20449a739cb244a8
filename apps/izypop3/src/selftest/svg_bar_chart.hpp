#pragma once
// A bar chart as inline SVG: stacked bars over a linear x range, a y axis scaled to a round
// number, optional vertical markers (percentiles). Enough for the load report; no script,
// so it renders the same in a browser, a mail reader or an image converter.

#include <string>
#include <utility>
#include <vector>

namespace izypop3::app {

struct chart_bar {
    double from = 0;            ///< left edge, in x units
    double to = 0;              ///< right edge, in x units
    std::vector<double> stack;  ///< heights from the bottom, one per series
    std::string attributes;     ///< extra attributes of the bar's group, already escaped
    std::string tip;            ///< shown on hover (an SVG <title>), plain text
};

struct chart_marker {
    double x = 0;  ///< in x units
    std::string label;
    std::string attributes;  ///< extra attributes of the marker's group, already escaped
};

struct chart_spec {
    std::string id;                   ///< the <svg>'s id
    std::string title;                ///< above the chart and as the SVG's <title>
    std::string y_label;              ///< what the height counts
    std::vector<std::string> series;  ///< one name per stack level, for the legend
    double x_from = 0;
    double x_to = 1;
    std::vector<std::pair<double, std::string>> x_ticks;  ///< positions in x units
    std::string x_label;
    std::vector<chart_bar> bars;
    std::vector<chart_marker> markers;
};

/// The chart as an <svg> element; plain texts in the spec are escaped here.
std::string svg_bar_chart(const chart_spec& spec);

/// The smallest of 1, 2 or 5 times a power of ten that is at least `value` (1 for 0).
double round_up_to_nice(double value);

}  // namespace izypop3::app
