#include "conversion_check.hpp"

#include <cstring>

namespace izypop3::store::detail {

void conversion_check::add(std::string_view chunk) {
    if (chunk.empty()) return;
    if (!nul_ && std::memchr(chunk.data(), '\0', chunk.size()) != nullptr) nul_ = true;
    octets_ += chunk.size();
    last_ = chunk.back();
    // Only the header section is looked at line by line: it ends at the first empty line
    // (CRLF CRLF, or a bare LF LF), whatever comes after.
    for (std::size_t i = 0; i < chunk.size() && !header_ended_; ++i) {
        const char c = chunk[i];
        if (c == '\n') {
            header_ended_ = line_octets_ == 0 || line_is_cr_;
            line_octets_ = 0;
            line_is_cr_ = false;
            continue;
        }
        ++line_octets_;
        line_is_cr_ = line_octets_ == 1 && c == '\r';
    }
}

std::string_view conversion_check::problem() const noexcept {
    if (nul_) return "NUL octets";
    if (octets_ != 0 && !header_ended_ && last_ != '\n')
        return "the header section ends in the middle of a line";
    return {};
}

}  // namespace izypop3::store::detail
