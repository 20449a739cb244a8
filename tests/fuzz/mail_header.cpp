// Fuzz target for the header-field finder and the RFC 2047 decoder (header text is written
// by whoever sent the mail). Invariants: no crash, output bounded by a small multiple of
// the input (Latin-1/1252 to UTF-8 at most triples an octet), text without "=?" unchanged.

#include <izypop3/core/encoded_words.hpp>
#include <izypop3/core/header_field.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace izypop3::core;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string decoded = decode_encoded_words(input);
    if (decoded.size() > 3 * input.size() ||
        (input.find("=?") == std::string_view::npos && decoded != input)) {
        std::fprintf(stderr, "decode_encoded_words invariant broken\n");
        std::abort();
    }
    const std::string_view head = header_section(input);
    if (head.size() > input.size()) std::abort();
    for (std::string_view name : {"From", "Subject", "Date"}) {
        if (auto v = find_header_field(head, name); v && v->size() > head.size()) std::abort();
    }
    return 0;
}
