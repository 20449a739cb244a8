#include <izypop3/store/store.hpp>

#include <array>
#include <utility>

namespace izypop3::store {

result<add_outcome> add_item(mime_store& store, item meta, std::string_view payload) {
    auto writer = store.begin_add(std::move(meta));
    if (!writer) return writer.error();
    if (auto ec = (*writer)->write(payload)) {
        (*writer)->abort();
        return ec;
    }
    return (*writer)->commit();
}

result<std::string> read_all(mime_store& store, const item& it) {
    auto src = store.open_item(it);
    if (!src) return src.error();
    std::string out;
    std::array<char, 16384> buf{};
    for (;;) {
        auto n = (*src)->read(buf);
        if (!n) return n.error();
        if (*n == 0) return out;
        out.append(buf.data(), *n);
    }
}

}  // namespace izypop3::store
