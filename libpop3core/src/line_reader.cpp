#include <izypop3/core/line_reader.hpp>

#include <algorithm>
#include <cstring>

namespace izypop3::core {

namespace {

// Offset of the first LF in `s` at or after `from`, or npos.
std::size_t find_lf(std::string_view s, std::size_t from) noexcept {
    if (from >= s.size()) return std::string_view::npos;
    const void* p = std::memchr(s.data() + from, '\n', s.size() - from);
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - s.data())
             : std::string_view::npos;
}

}  // namespace

void line_reader::append(std::string_view bytes) {
    if (pos_ > 0) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    if (skipping_) {
        // The tail of an overlong line is dropped as it arrives, never buffered (SECURITY S08:
        // 10 MB without an LF must not cost 10 MB).
        const std::size_t lf = find_lf(bytes, 0);
        if (lf == std::string_view::npos) return;
        skipping_ = false;
        bytes.remove_prefix(lf + 1);
    }
    // Nothing else is cut here: the unread bytes may be a multi-line body taken through
    // unread()/consume(), whose lines are not bounded by max_line. The bound on a partial line
    // is enforced by next(), which the owner calls after each append.
    buf_.append(bytes);
}

std::optional<line> line_reader::next() {
    const std::string_view pending = unread();
    if (pending.empty()) return std::nullopt;
    const std::size_t lf = find_lf(pending, scanned_);
    if (lf == std::string_view::npos) {
        scanned_ = pending.size();
        // A partial line of max_line octets may still be followed by CRLF, so one more octet
        // is allowed while it is a CR.
        const bool too_long = pending.size() > max_line_ + 1 ||
                              (pending.size() == max_line_ + 1 && pending.back() != '\r');
        if (!too_long) return std::nullopt;
        clear();
        skipping_ = true;
        return line{{}, true};
    }
    std::string_view text = pending.substr(0, lf);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    pos_ += lf + 1;
    scanned_ = 0;
    // Fully received but still too long: reported the same way, and never parsed, so a long
    // line cannot be turned into several commands (popa3d's rule).
    if (text.size() > max_line_) return line{{}, true};
    return line{text, false};
}

void line_reader::consume(std::size_t n) noexcept {
    n = std::min(n, buf_.size() - pos_);
    pos_ += n;
    scanned_ = scanned_ > n ? scanned_ - n : 0;
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    }
}

void line_reader::clear() noexcept {
    buf_.clear();
    pos_ = 0;
    scanned_ = 0;
    skipping_ = false;
}

}  // namespace izypop3::core
