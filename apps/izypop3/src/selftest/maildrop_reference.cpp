#include "selftest/maildrop_reference.hpp"

#include <fmt/format.h>

#include <array>

namespace izypop3::app {

namespace {

boost::system::result<std::string> read_message(core::maildrop& drop, std::size_t index) {
    auto src = drop.open(index);
    if (!src) return src.error();
    std::string raw;
    std::array<char, 65536> buf{};
    for (;;) {
        auto n = (*src)->read(buf);
        if (!n) return n.error();
        if (*n == 0) return raw;
        raw.append(buf.data(), *n);
    }
}

}  // namespace

boost::system::result<maildrop_reference> maildrop_reference::open(
    std::shared_ptr<store::mime_store> data, std::string_view user) {
    auto md = data->open_maildrop(user);
    if (!md) return md.error();
    maildrop_reference ref;
    ref.messages_ = (*md)->messages();
    ref.octets_.reserve(ref.messages_.size());
    for (std::size_t i = 0; i < ref.messages_.size(); ++i) {
        auto raw = read_message(**md, i);
        if (!raw) return raw.error();
        ref.octets_.push_back(wire_normalised(*raw));
    }
    return ref;
}

std::uint64_t maildrop_reference::total_size() const noexcept {
    std::uint64_t n = 0;
    for (const auto& m : messages_) n += m.size;
    return n;
}

std::string maildrop_reference::list_text() const {
    std::string s;
    for (std::size_t i = 0; i < messages_.size(); ++i)
        s += fmt::format("{} {}\r\n", i + 1, messages_[i].size);
    return s;
}

std::string maildrop_reference::uidl_text() const {
    std::string s;
    for (std::size_t i = 0; i < messages_.size(); ++i)
        s += fmt::format("{} {}\r\n", i + 1, messages_[i].uid);
    return s;
}

std::string wire_normalised(std::string_view raw) {
    std::string out;
    out.reserve(raw.size() + 2);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '\r' || c == '\n') {
            out += "\r\n";
            if (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
        } else {
            out += c;
        }
    }
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    return out;
}

}  // namespace izypop3::app
