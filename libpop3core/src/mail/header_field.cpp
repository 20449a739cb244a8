#include <izypop3/core/header_field.hpp>

#include <algorithm>

namespace izypop3::core {
namespace {

bool is_wsp(char c) noexcept { return c == ' ' || c == '\t'; }

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool same_name(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

// One physical line without its line end, and where the next begins.
struct line_span {
    std::string_view text;
    std::size_t next;
};

line_span line_at(std::string_view s, std::size_t pos) noexcept {
    const std::size_t lf = s.find('\n', pos);
    const std::size_t end = lf == std::string_view::npos ? s.size() : lf;
    std::string_view text = s.substr(pos, end - pos);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    return {text, lf == std::string_view::npos ? s.size() : lf + 1};
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && is_wsp(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_wsp(s.back())) s.remove_suffix(1);
    return std::string(s);
}

}  // namespace

std::string_view header_section(std::string_view message) noexcept {
    for (std::size_t pos = 0; pos < message.size();) {
        const line_span l = line_at(message, pos);
        if (l.text.empty()) return message.substr(0, pos);
        pos = l.next;
    }
    return message;
}

std::optional<std::string> find_header_field(std::string_view header, std::string_view name) {
    for (std::size_t pos = 0; pos < header.size();) {
        line_span l = line_at(header, pos);
        pos = l.next;
        const std::size_t colon = l.text.find(':');
        if (colon == std::string_view::npos || is_wsp(l.text.empty() ? ' ' : l.text[0])) continue;
        std::string_view field = l.text.substr(0, colon);
        // RFC 5322 forbids white space before the colon, but old software wrote it.
        while (!field.empty() && is_wsp(field.back())) field.remove_suffix(1);
        if (!same_name(field, name)) continue;
        std::string value(l.text.substr(colon + 1));
        while (pos < header.size()) {
            l = line_at(header, pos);
            if (l.text.empty() || !is_wsp(l.text[0])) break;
            value.append(l.text);
            pos = l.next;
        }
        return trimmed(value);
    }
    return std::nullopt;
}

}  // namespace izypop3::core
