#include "memory_source.hpp"

#include <algorithm>
#include <cstring>

namespace izypop3::store::detail {

boost::system::result<std::size_t> memory_source::read(std::span<char> buf) {
    const std::size_t n = std::min(buf.size(), data_->size() - pos_);
    if (n > 0) std::memcpy(buf.data(), data_->data() + pos_, n);
    pos_ += n;
    return n;
}

}  // namespace izypop3::store::detail
