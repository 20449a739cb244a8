#include "common/html_text.hpp"

#include "common/terminal_text.hpp"

namespace izypop3::app {

std::string html_text(std::string_view text) {
    // terminal_safe() already turns controls and broken UTF-8 into visible escapes; what
    // is left to do is HTML's own five characters.
    const std::string shown = terminal_safe(text);
    std::string out;
    out.reserve(shown.size());
    for (const char c : shown) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

}  // namespace izypop3::app
