// Fuzz target for core::dot_unstuffer (F03): arbitrary server bytes, cut at a fuzzer-chosen
// offset, must decode exactly as in one piece, stop right after a ".CRLF" or ".LF" line, and
// only ever produce CRLF line ends.

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
        std::fprintf(stderr, "dot_unstuffer invariant broken: %s\n", what);
        std::abort();
    }
}

struct run {
    std::string out;
    std::size_t consumed = 0;
    bool done = false;
};

run decode_split(std::string_view wire, std::size_t cut) {
    izypop3::core::dot_unstuffer d;
    run r;
    for (const auto piece : {wire.substr(0, cut), wire.substr(cut)}) {
        if (r.done) break;
        const auto p = d.decode(piece, r.out);
        check(p.consumed <= piece.size(), "consumed more than given");
        check(p.done || p.consumed == piece.size(), "stopped early without a terminator");
        r.consumed += p.consumed;
        r.done = p.done;
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t cut = wire.empty() ? 0 : data[0] % (wire.size() + 1);

    const run whole = decode_split(wire, wire.size());
    const run split = decode_split(wire, cut);
    check(whole.out == split.out && whole.consumed == split.consumed && whole.done == split.done,
          "result depends on the chunk boundary");
    if (whole.done) {
        const std::string_view used = wire.substr(0, whole.consumed);
        check(used.ends_with(".\r\n") || used.ends_with(".\n"), "terminator not at the end");
    }
    for (std::size_t i = 0; i < whole.out.size(); ++i)
        if (whole.out[i] == '\n') check(i > 0 && whole.out[i - 1] == '\r', "bare LF in output");
    return 0;
}
