// Parsing of the query key.

#include "clientpop3/message_selection.hpp"

#include <fmt/format.h>

#include <charconv>

namespace izypop3::app {

namespace {

std::optional<std::uint32_t> number_of(std::string_view t) {
    std::uint32_t v = 0;
    const auto* end = t.data() + t.size();
    auto [p, ec] = std::from_chars(t.data(), end, v);
    if (t.empty() || ec != std::errc{} || p != end || v == 0) return std::nullopt;
    return v;
}

}  // namespace

bool message_selection::contains(std::uint32_t number) const noexcept {
    if (ranges.empty()) return true;
    for (const auto& r : ranges) {
        if (number >= r.first && number <= r.second) return true;
    }
    return false;
}

std::optional<message_selection> parse_selection(std::string_view query, std::string& error) {
    message_selection sel;
    bool all = false;
    while (!query.empty()) {
        const auto comma = query.find(',');
        const std::string_view part = query.substr(0, comma);
        query = comma == std::string_view::npos ? std::string_view{} : query.substr(comma + 1);
        if (part == "all") {
            all = true;
            continue;
        }
        if (part == "new") {
            sel.only_new = true;
            continue;
        }
        const auto dash = part.find('-');
        const auto lo = number_of(part.substr(0, dash));
        const auto hi = dash == std::string_view::npos ? lo : number_of(part.substr(dash + 1));
        if (!lo || !hi || *hi < *lo) {
            error = fmt::format(
                "query: '{}' is not a message number or range; write all, new, N, N-M (N >= 1, "
                "M >= N), or a comma-separated list such as 1-5,9",
                part);
            return std::nullopt;
        }
        sel.ranges.emplace_back(*lo, *hi);
    }
    if (all) sel.ranges.clear();
    return sel;
}

}  // namespace izypop3::app
