#include "wire_size.hpp"

#include <izypop3/core/dot_stuffer.hpp>

#include <array>
#include <string_view>

namespace izypop3::store::detail {

boost::system::result<std::uint64_t> count_wire_size(core::message_source& src) {
    core::wire_size_counter counter;
    std::array<char, 16384> buf{};
    for (;;) {
        auto n = src.read(buf);
        if (!n) return n.error();
        if (*n == 0) break;
        counter.add(std::string_view(buf.data(), *n));
    }
    return counter.finish();
}

}  // namespace izypop3::store::detail
