#include "common/terminal_text.hpp"

#include <fmt/format.h>
#include <boost/locale/utf.hpp>

#include <cstdint>
#include <vector>

namespace izypop3::app {
namespace {

// Length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF, as Boost.Locale decodes it) and its code point, or 0.
std::size_t utf8_length(std::string_view s, std::uint32_t& cp) noexcept {
    auto next = s.begin();
    cp = boost::locale::utf::utf_traits<char>::decode(next, s.end());
    if (cp == boost::locale::utf::illegal || cp == boost::locale::utf::incomplete) return 0;
    return static_cast<std::size_t>(next - s.begin());
}

bool is_control(std::uint32_t cp) noexcept { return cp < 0x20 || (cp >= 0x7F && cp < 0xA0); }

}  // namespace

std::string terminal_safe(std::string_view text, std::size_t max_chars) {
    std::string out;
    std::vector<std::size_t> starts;  // where each shown character (or escape) begins
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size();) {
        std::uint32_t cp = 0;
        std::size_t n = utf8_length(text.substr(i), cp);
        std::string piece;
        if (n == 0 || is_control(cp)) {
            n = n == 0 ? 1 : n;
            for (std::size_t k = 0; k < n; ++k)
                piece += fmt::format("\\x{:02X}", static_cast<unsigned char>(text[i + k]));
        } else {
            piece.assign(text.substr(i, n));
        }
        const std::size_t width = n == piece.size() ? 1 : piece.size();
        if (max_chars != std::string::npos && chars + width > max_chars) {
            // Drop whole pieces until the "..." that says something was cut fits.
            while (!starts.empty() && chars + 3 > max_chars) {
                const std::size_t start = starts.back();
                starts.pop_back();
                const std::string_view last = std::string_view(out).substr(start);
                chars -= last.starts_with('\\') ? last.size() : 1;
                out.resize(start);
            }
            return out + "...";
        }
        starts.push_back(out.size());
        out += piece;
        chars += width;
        i += n;
    }
    return out;
}

}  // namespace izypop3::app
