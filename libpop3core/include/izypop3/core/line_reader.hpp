#pragma once
// Incremental splitter of peer bytes into lines, bounded in memory.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::core {

/// One line taken from a line_reader, without its CRLF or LF.
struct line {
    std::string_view text;  ///< valid until the next call that changes the reader
    bool overlong = false;  ///< the peer sent more than max_line octets before the LF;
                            ///< text is empty and the rest of that line is discarded
};

/// Splits a byte stream into lines terminated by CRLF or a bare LF (both are seen in the
/// wild). A line longer than `max_line` octets is reported once as `overlong` and the rest
/// of it is skipped without being buffered, so a peer cannot make the reader grow beyond
/// about max_line plus one received chunk.
class line_reader {
public:
    explicit line_reader(std::size_t max_line) : max_line_(max_line) {}

    /// Appends received bytes. Compacts already consumed bytes first.
    void append(std::string_view bytes);

    /// Takes the next complete line, or nullopt when more input is needed.
    std::optional<line> next();

    /// Bytes received but not yet taken as lines (e.g. a multi-line body that follows a
    /// status line). Valid until the next call that changes the reader.
    std::string_view unread() const noexcept { return std::string_view(buf_).substr(pos_); }
    /// Marks `n` octets of unread() as consumed.
    void consume(std::size_t n) noexcept;
    /// Drops everything buffered (STLS: nothing received before TLS may be acted on).
    void clear() noexcept;

    /// True between the first octet of a line and its end (also while an overlong line's
    /// tail is being skipped): the peer owes the rest of a line.
    bool mid_line() const noexcept { return skipping_ || pos_ < buf_.size(); }

    std::size_t max_line() const noexcept { return max_line_; }
    void set_max_line(std::size_t n) noexcept { max_line_ = n; }

private:
    std::string buf_;
    std::size_t pos_ = 0;
    std::size_t scanned_ = 0;   // offset from pos_ already searched for LF
    std::size_t max_line_;
    bool skipping_ = false;     // inside the tail of an overlong line
};

}  // namespace izypop3::core
