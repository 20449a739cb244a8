#include "reply_buffers.hpp"

#include <vector>

namespace izypop3::transport::detail {
namespace {

std::vector<std::unique_ptr<std::string>>& spare_buffers() {
    thread_local std::vector<std::unique_ptr<std::string>> kept;
    return kept;
}

}  // namespace

std::unique_ptr<std::string> reply_buffers::take() {
    auto& kept = spare_buffers();
    if (kept.empty()) return std::make_unique<std::string>();
    auto b = std::move(kept.back());
    kept.pop_back();
    return b;
}

void reply_buffers::give_back(std::unique_ptr<std::string> buffer) noexcept {
    if (!buffer) return;
    auto& kept = spare_buffers();
    if (kept.size() >= spares) return;
    buffer->clear();
    if (buffer->capacity() > largest_kept) {
        buffer->shrink_to_fit();  // clear() + shrink: back to the small-string size
        buffer->reserve(largest_kept);
    }
    try {
        kept.push_back(std::move(buffer));
    } catch (...) {
        // No room to keep it: freed.
    }
}

}  // namespace izypop3::transport::detail
