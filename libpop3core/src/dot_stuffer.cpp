#include <izypop3/core/dot_stuffer.hpp>

#include <algorithm>
#include <cstring>

#include "eol_finder.hpp"

namespace izypop3::core {

using detail::eol_finder;

void dot_stuffer::encode(std::string_view chunk, std::string& out) {
    if (done_ || chunk.empty()) return;
    const std::size_t n = chunk.size();
    std::size_t i = 0;
    // A CR that ended the previous chunk has already been written as CRLF; an LF right after
    // it belongs to the same line end.
    if (pending_cr_) {
        pending_cr_ = false;
        if (chunk[0] == '\n') i = 1;
    }
    eol_finder eol(chunk);
    // Room for the chunk plus a few stuffed dots and CRs, grown geometrically: an exact
    // reserve per chunk would copy the whole output again for every chunk appended to it.
    if (const std::size_t need = out.size() + n + n / 32 + 8; out.capacity() < need)
        out.reserve(std::max(need, 2 * out.capacity()));
    while (i < n) {
        // RFC 1939 section 3: a line that starts with "." gets one more in front, so that no
        // line of the message can read as the terminator.
        if (at_line_start_ && chunk[i] == '.') out += '.';
        const std::size_t end = eol.next(i);
        if (end > i) {
            out.append(chunk.data() + i, end - i);
            at_line_start_ = false;
            line_empty_ = false;
        }
        if (end == n) break;  // the line continues in the next chunk

        // A line end of any form is written as CRLF. A bare CR counts as a line end too: left
        // alone, "\r.\r\n" could look like the terminator to a peer that splits on CR.
        out += "\r\n";
        std::size_t after = end + 1;
        if (chunk[end] == '\r') {
            if (after == n)
                pending_cr_ = true;
            else if (chunk[after] == '\n')
                ++after;
        }
        i = after;

        // TOP n m (RFC 1939 section 7): the headers run to the first empty line, which is sent,
        // and then at most m body lines.
        if (body_lines_) {
            if (!in_body_) {
                if (line_empty_) {
                    in_body_ = true;
                    done_ = *body_lines_ == 0;
                }
            } else if (++body_lines_sent_ >= *body_lines_) {
                done_ = true;
            }
        }
        at_line_start_ = true;
        line_empty_ = true;
        if (done_) {
            pending_cr_ = false;
            return;
        }
    }
}

void dot_stuffer::finish(std::string& out) {
    if (!at_line_start_) out += "\r\n";
    out += ".\r\n";
    at_line_start_ = true;
    pending_cr_ = false;
    done_ = true;
}

void wire_size_counter::add(std::string_view chunk) noexcept {
    if (chunk.empty()) return;
    const std::size_t n = chunk.size();
    const char* p = chunk.data();
    // Every octet counts once; each line end that is not already CRLF gains one octet.
    std::uint64_t added = 0;
    std::size_t first = 0;
    if (pending_cr_) {
        if (p[0] == '\n')
            first = 1;  // completes the CRLF whose CR was counted before
        else
            ++added;  // that CR was bare
    }
    std::size_t crlf_pairs = 0;
    std::size_t bare_cr = 0;
    for (std::size_t i = first; i < n;) {
        const void* cr = std::memchr(p + i, '\r', n - i);
        if (!cr) break;
        const auto at = static_cast<std::size_t>(static_cast<const char*>(cr) - p);
        if (at + 1 == n) break;  // resolved by the next chunk or finish()
        if (p[at + 1] == '\n') {
            ++crlf_pairs;
            i = at + 2;
        } else {
            ++bare_cr;
            i = at + 1;
        }
    }
    const auto lf = static_cast<std::size_t>(std::count(p + first, p + n, '\n'));
    added += bare_cr + (lf - crlf_pairs);
    size_ += n + added;
    octets_ += n;
    // A line that starts with "." would be stuffed. A line starts after LF or after a bare
    // CR; a bare CR already makes the size differ, so LF is enough to look after.
    if (!changed_ && ((at_line_start_ && p[0] == '.') ||
                      std::string_view(p, n).find("\n.") != std::string_view::npos))
        changed_ = true;
    pending_cr_ = p[n - 1] == '\r';
    at_line_start_ = p[n - 1] == '\r' || p[n - 1] == '\n';
}

std::uint64_t wire_size_counter::finish() noexcept {
    if (pending_cr_)
        size_ += 1;  // the bare CR becomes CRLF
    else if (!at_line_start_)
        size_ += 2;  // the CRLF dot_stuffer::finish adds
    pending_cr_ = false;
    at_line_start_ = true;
    return size_;
}

}  // namespace izypop3::core
