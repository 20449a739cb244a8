#include "cli/suggest.hpp"

#include <algorithm>
#include <vector>

namespace izypop3::app {

namespace {

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Three rows suffice: a transposition looks two rows back.
    const std::size_t n = b.size();
    std::vector<std::size_t> before(n + 1), previous(n + 1), current(n + 1);
    for (std::size_t j = 0; j <= n; ++j) previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= n; ++j) {
            const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1])) {
                current[j] = std::min(current[j], before[j - 2] + 1);
            }
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[n];
}

std::optional<std::string_view> suggest(std::string_view typed,
                                        std::span<const std::string_view> candidates) {
    constexpr std::size_t max_distance = 2;
    std::optional<std::string_view> best;
    std::size_t best_distance = max_distance + 1;
    for (std::string_view candidate : candidates) {
        const std::size_t d = edit_distance(typed, candidate);
        // A 1- or 2-letter word is within distance 2 of every other short word; only
        // suggest when fewer than half of the letters had to change.
        if (d < best_distance && d * 2 < std::max(typed.size(), candidate.size())) {
            best = candidate;
            best_distance = d;
        }
    }
    if (best) return best;
    if (typed.size() >= 3) {
        for (std::string_view candidate : candidates) {
            if (candidate.size() > typed.size() &&
                edit_distance(candidate.substr(0, typed.size()), typed) == 0) {
                return candidate;
            }
        }
    }
    return std::nullopt;
}

}  // namespace izypop3::app
