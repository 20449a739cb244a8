// Fuzz target for core::parse_status_line and core::printable (F03, SECURITY C06/C20).

#include <izypop3/core/status_line.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "status_line invariant broken: %s\n", what);
        std::abort();
    }
}

bool inside(std::string_view part, std::string_view whole) {
    return part.empty() ||
           (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace izypop3::core;
    if (size < 1) return 0;
    const std::size_t max = data[0];
    const std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);

    if (const auto r = parse_status_line(line)) {
        check(line.find('\0') == std::string_view::npos, "NUL accepted");
        check(inside(r->code, line) && inside(r->text, line), "view outside the line");
        check(r->kind != status_kind::continuation || r->code.empty(), "code on a continuation");
        // RFC 2449 section 9: rchar excludes "/" (a separator) and "]" but not "[".
        check(r->code.find_first_of(" ]") == std::string_view::npos, "malformed code accepted");
        check(line.size() >= 1 && (line[0] == '+' || line[0] == '-'), "status without a sign");
    }

    const std::string p = printable(line, max);
    check(p.size() <= max + 3, "printable longer than max + \"...\"");
    for (const char c : p) {
        const auto u = static_cast<unsigned char>(c);
        check(u >= 0x20 && u < 0x7f, "printable let a control or non-ASCII octet through");
    }
    return 0;
}
