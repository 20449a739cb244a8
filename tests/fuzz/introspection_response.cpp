// libFuzzer target: the body of a token introspection answer (RFC 7662), which comes from
// another machine. Byte 0 picks the claim and the clock; the rest is the body.

#include "introspection_response.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace transport = izypop3::transport;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto claim =
        (data[0] & 1) ? transport::token_user_claim::sub : transport::token_user_claim::username;
    const std::int64_t now = (data[0] & 2) ? 1'700'000'000 : 0;
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto v = transport::detail::read_introspection_response(body, claim, now);
    // An active verdict always names a user and never has a problem.
    if (v.active && (v.user.empty() || !v.problem.empty())) __builtin_trap();
    if (v.active && v.exp && *v.exp <= now) __builtin_trap();
    return 0;
}
