#pragma once
// Line-end search shared by the dot-stuffing encoder and decoder.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace izypop3::core::detail {

/// Finds the next CR or LF with memchr (vectorised in every libc we target) instead of a
/// byte loop. The position of the next LF is remembered between calls, so a chunk full of
/// bare CRs before a distant LF is still scanned in linear time.
class eol_finder {
public:
    explicit eol_finder(std::string_view s) noexcept : s_(s) {}

    /// Offset of the first CR or LF at or after `from`, or s.size().
    std::size_t next(std::size_t from) noexcept {
        if (!lf_known_ || lf_ < from) {
            lf_ = find('\n', from, s_.size());
            lf_known_ = true;
        }
        return std::min(find('\r', from, lf_), lf_);
    }

private:
    std::size_t find(char c, std::size_t from, std::size_t to) const noexcept {
        if (from >= to) return to;
        const void* p = std::memchr(s_.data() + from, c, to - from);
        return p ? static_cast<std::size_t>(static_cast<const char*>(p) - s_.data()) : to;
    }

    std::string_view s_;
    std::size_t lf_ = 0;
    bool lf_known_ = false;
};

}  // namespace izypop3::core::detail
