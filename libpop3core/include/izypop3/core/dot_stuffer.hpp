#pragma once
// Streaming encoder of a message into a POP3 multi-line body (RFC 1939 section 3).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::core {

/// Turns message octets, given in chunks of any size, into wire octets:
/// - line ends are normalised to CRLF: a bare LF becomes CRLF and so does a bare CR (a bare
///   CR before a "." is how end-of-data smuggling works against lenient peers);
/// - a line that starts with "." gets a second "." in front;
/// - finish() adds a CRLF if the message did not end with one, then ".\r\n".
/// With `body_lines` set (TOP n m), the headers, the blank line after them and at most that
/// many body lines are sent; the rest of the input is swallowed.
/// State survives chunk boundaries anywhere, including inside "\r\n." sequences.
class dot_stuffer {
  public:
    dot_stuffer() = default;
    explicit dot_stuffer(std::optional<std::uint64_t> body_lines) : body_lines_(body_lines) {}

    /// Encodes `chunk`, appending to `out`. Single pass, memchr-style scanning.
    void encode(std::string_view chunk, std::string& out);
    /// Ends the body: a CRLF if needed, then the ".\r\n" terminator.
    void finish(std::string& out);
    /// True once a TOP limit has been reached: further input is ignored, the caller may stop
    /// reading the message.
    bool saturated() const noexcept { return done_; }

  private:
    std::optional<std::uint64_t> body_lines_;
    bool at_line_start_ = true;
    bool pending_cr_ = false;  // the last chunk ended in CR; its LF may follow
    bool in_body_ = false;     // the blank line after the headers has been seen
    bool line_empty_ = true;   // the current line has no octets yet (for finding the blank line)
    std::uint64_t body_lines_sent_ = 0;
    bool done_ = false;
};

/// The size a message has on the wire before stuffing: its octets with line ends normalised
/// as dot_stuffer does and a final CRLF added if missing. This is the size LIST and STAT
/// report, so what a client counts matches what it is told.
class wire_size_counter {
  public:
    void add(std::string_view chunk) noexcept;
    std::uint64_t finish() noexcept;
    /// After finish(): dot_stuffer would pass the octets through unchanged (every line end
    /// is CRLF, the last line has one, no line starts with "."), so the stored octets are
    /// the wire body as they are and may be sent without reading them (sendfile).
    bool wire_form() const noexcept { return !changed_ && size_ == octets_; }

  private:
    std::uint64_t size_ = 0;
    std::uint64_t octets_ = 0;
    bool pending_cr_ = false;
    bool at_line_start_ = true;
    bool changed_ = false;  // a line starts with "."
};

}  // namespace izypop3::core
