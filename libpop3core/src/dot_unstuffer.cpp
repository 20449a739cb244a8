#include <izypop3/core/dot_unstuffer.hpp>

#include <algorithm>
#include <cstring>

#include "eol_finder.hpp"

namespace izypop3::core {

using detail::eol_finder;

dot_unstuffer::progress dot_unstuffer::decode(std::string_view wire, std::string& out) {
    if (done_) return {0, true};
    const std::size_t n = wire.size();
    std::size_t i = 0;
    eol_finder eol(wire);
    // Room for the chunk plus a few CRs, grown geometrically: an exact
    // reserve per chunk would copy the whole output again for every chunk appended to it.
    if (const std::size_t need = out.size() + n; out.capacity() < need)
        out.reserve(std::max(need, 2 * out.capacity()));
    while (i < n) {
        const char c = wire[i];
        switch (state_) {
            case state::line_start:
                if (c == '.') {
                    state_ = state::dot_at_start;
                    ++i;
                } else {
                    state_ = state::in_line;
                }
                break;

            case state::dot_at_start:
                if (c == '\r') {
                    state_ = state::dot_cr;
                    ++i;
                } else if (c == '\n') {
                    // ".\n" from a server that writes bare LFs ends the body too.
                    done_ = true;
                    return {i + 1, true};
                } else {
                    // RFC 1939 section 3: a line that starts with "." but is not the
                    // terminator has its first octet stripped. That turns "..x" into ".x" and,
                    // for a server that forgot to stuff, ".x" into "x".
                    state_ = state::in_line;
                }
                break;

            case state::dot_cr:
                if (c == '\n') {
                    done_ = true;
                    return {i + 1, true};
                }
                // "." then a bare CR: the dot is stripped and the CR is ordinary data.
                out += '\r';
                state_ = state::in_line;
                break;

            case state::in_line: {
                const std::size_t end = eol.next(i);
                out.append(wire.data() + i, end - i);
                if (end == n) return {n, false};
                if (wire[end] == '\n') {
                    out += "\r\n";  // a bare LF from a sloppy server still ends the line
                    state_ = state::line_start;
                } else {
                    state_ = state::after_cr;
                }
                i = end + 1;
                break;
            }

            case state::after_cr:
                if (c == '\n') {
                    out += "\r\n";
                    state_ = state::line_start;
                    ++i;
                } else {
                    // A bare CR does not end a line here: if it did, "\r.\r\n" inside a line
                    // would end the body early (end-of-data smuggling). It is kept as data.
                    out += '\r';
                    state_ = state::in_line;
                }
                break;
        }
    }
    return {n, false};
}

}  // namespace izypop3::core
