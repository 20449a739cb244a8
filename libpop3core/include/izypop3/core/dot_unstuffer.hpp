#pragma once
// Streaming decoder of a POP3 multi-line body (RFC 1939 section 3).

#include <cstddef>
#include <string>
#include <string_view>

namespace izypop3::core {

/// Turns wire octets into message octets: removes the stuffed "." at the start of a line,
/// recognises the "." line that ends the body (across any chunk boundary), and writes CRLF
/// line ends (a bare LF from a sloppy server becomes CRLF). The terminator line is not part
/// of the output; the CRLF before it is.
class dot_unstuffer {
public:
    struct progress {
        std::size_t consumed = 0;  ///< wire octets used; bytes after the terminator are not
        bool done = false;         ///< the terminator was seen
    };

    /// Decodes as much of `wire` as possible, appending message octets to `out`.
    progress decode(std::string_view wire, std::string& out);

    bool done() const noexcept { return done_; }
    /// Prepares for the next body.
    void reset() noexcept { *this = dot_unstuffer{}; }

private:
    enum class state { line_start, in_line, after_cr, dot_at_start, dot_cr };
    state state_ = state::line_start;
    bool done_ = false;
};

}  // namespace izypop3::core
