// Property F04 (SECURITY S20): unstuff(stuff(x)) == normalise(x) for any octets x, with the
// encoder input and the decoder input each cut at a fuzzer-chosen offset. normalise turns
// CRLF, bare LF and bare CR into CRLF and ends a non-empty message with CRLF; it is written
// here independently of the code under test. The wire size counter must match it too.

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/core/dot_unstuffer.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "dot round trip broken: %s\n", what);
        std::abort();
    }
}

std::string normalise(std::string_view x) {
    std::string out;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (x[i] == '\r' || x[i] == '\n') {
            if (x[i] == '\r' && i + 1 < x.size() && x[i + 1] == '\n') ++i;
            out += "\r\n";
        } else {
            out += x[i];
        }
    }
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace izypop3::core;
    if (size < 4) return 0;
    // Four leading octets choose the cuts; the rest is the message.
    const auto cut_seed = [&](std::size_t i) -> std::size_t {
        return static_cast<std::size_t>(data[i]) << 8 | data[i + 1];
    };
    const std::string_view x(reinterpret_cast<const char*>(data) + 4, size - 4);
    const std::size_t cut_in = cut_seed(0) % (x.size() + 1);

    dot_stuffer stuffer;
    std::string wire;
    stuffer.encode(x.substr(0, cut_in), wire);
    stuffer.encode(x.substr(cut_in), wire);
    stuffer.finish(wire);

    // The size counter sees the message cut elsewhere than the encoder did.
    const std::size_t cut_count = cut_seed(1) % (x.size() + 1);
    wire_size_counter counter;
    counter.add(x.substr(0, cut_count));
    counter.add(x.substr(cut_count));
    const std::string expected = normalise(x);
    check(counter.finish() == expected.size(), "wire size differs from normalised size");

    const std::size_t cut_out = cut_seed(2) % (wire.size() + 1);
    dot_unstuffer unstuffer;
    std::string out;
    auto p = unstuffer.decode(std::string_view(wire).substr(0, cut_out), out);
    std::size_t consumed = p.consumed;
    if (!p.done) {
        p = unstuffer.decode(std::string_view(wire).substr(cut_out), out);
        consumed += p.consumed;
    }
    check(p.done, "terminator not found");
    check(consumed == wire.size(), "terminator found before the end of the encoding");
    check(out == expected, "unstuff(stuff(x)) != normalise(x)");
    return 0;
}
