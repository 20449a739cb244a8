#include "querystore/item_headline.hpp"

#include <izypop3/core/encoded_words.hpp>
#include <izypop3/core/header_field.hpp>

#include <array>

namespace izypop3::app {

item_headline read_headline(store::mime_store& s, const store::item& it,
                            std::size_t max_header) {
    item_headline h;
    auto src = s.open_item(it);
    if (!src) {
        h.problem = "cannot open: " + src.error().message();
        return h;
    }
    std::string head;
    std::array<char, 8192> buf{};
    // Stop as soon as the empty line that ends the header has been read.
    while (head.size() < max_header && core::header_section(head).size() == head.size()) {
        auto n = (*src)->read(buf);
        if (!n) {
            h.problem = "cannot read: " + n.error().message();
            return h;
        }
        if (*n == 0) break;
        head.append(buf.data(), std::min(*n, max_header - head.size()));
    }
    const std::string_view header = core::header_section(head);
    if (auto v = core::find_header_field(header, "From")) h.from = core::decode_encoded_words(*v);
    if (auto v = core::find_header_field(header, "Subject"))
        h.subject = core::decode_encoded_words(*v);
    if (auto v = core::find_header_field(header, "Date")) h.date = *v;
    return h;
}

}  // namespace izypop3::app
