// Fuzz target for the directory stores' conversion_check: a message's octets from a POP3
// server, cut into pieces at fuzzer-chosen offsets, must get the same verdict as in one
// piece, and the verdict must agree with a direct reading of the rule.

#include "../../libmimestore/src/conversion_check.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "conversion_check invariant broken: %s\n", what);
        std::abort();
    }
}

std::string_view verdict_of(std::string_view message, std::size_t step) {
    izypop3::store::detail::conversion_check c;
    for (std::size_t at = 0; at < message.size(); at += step) c.add(message.substr(at, step));
    return c.problem();
}

// The rule, read off the whole message at once.
bool header_ends(std::string_view m) {
    return m.starts_with("\n") || m.starts_with("\r\n") || m.find("\n\n") != m.npos ||
           m.find("\n\r\n") != m.npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t step = 1 + data[0] % 16;
    const std::string_view message(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::string_view whole = verdict_of(message, message.size() + 1);
    check(verdict_of(message, step) == whole, "the verdict depends on how the octets are split");
    const bool nul = message.find('\0') != message.npos;
    const bool cut = !message.empty() && !header_ends(message) && message.back() != '\n';
    check(whole.empty() == !(nul || cut), "the verdict disagrees with the rule");
    return 0;
}
