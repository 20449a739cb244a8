// libFuzzer target: client-side SASL mechanisms fed hostile server challenges (F02, C13).
//
// Byte 0: mechanism (low 3 bits) and two-step form (bit 3); byte 1: separator; the rest,
// split on the separator, is the sequence of decoded server challenges.

#include <izypop3/core/sasl/client_mechanism.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sasl = izypop3::core::sasl;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static constexpr std::array<std::string_view, 7> names = {
        "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "XOAUTH2", "OAUTHBEARER"};
    const unsigned control = data[0];
    const char sep = static_cast<char>(data[1]);
    std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

    sasl::client_credentials creds{"user", "", "pencil", "pop.example", 995};
    // A fixed "random" source: the SCRAM nonce is base64 of 24 'A's, which the fuzzer can
    // learn from comparisons and echo back to reach the proof and signature code.
    auto m = sasl::make_client_mechanism(
        names[control % names.size()], creds, [](std::size_t n) { return std::string(n, 'A'); },
        (control & 0x08) != 0);
    if (!m) __builtin_trap();
    (void)m->initial_response();
    while (true) {
        const std::size_t p = rest.find(sep);
        const std::string_view challenge = rest.substr(0, p);
        auto r = m->respond(challenge);
        if (!r) break;  // the session would cancel with "*"
        if (p == std::string_view::npos) break;
        rest.remove_prefix(p + 1);
    }
    (void)m->on_success();
    return 0;
}
