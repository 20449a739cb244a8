// libFuzzer target: whole server-side SASL exchanges (SECURITY.md F02).
//
// Input layout: byte 0 picks the mechanism (low bits), whether there is an initial
// response (bit 3) and which secret the credential source returns when asked (bits 4-5);
// byte 1 is the separator; the rest, split on the separator, is the sequence of decoded
// client messages (the first is the initial response when bit 3 is set). A bearer token
// (XOAUTH2, OAUTHBEARER) is judged by bits 6-7: not valid, owned by the named user, by
// someone else.

#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/sasl/server_mechanism.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sasl = izypop3::core::sasl;

namespace {

const sasl::stored_secret& scram_secret() {
    // Derived once: PBKDF2 at 4096 iterations per input would slow the fuzzer to a crawl.
    static const sasl::stored_secret s = [] {
        sasl::stored_secret r;
        r.scram_sha1 = sasl::derive_scram_secret("SHA-1", "pencil", "salt", 4096);
        r.scram_sha256 = sasl::derive_scram_secret("SHA-256", "pencil", "salt", 4096);
        return r;
    }();
    return s;
}

std::optional<sasl::stored_secret> secret_for(unsigned choice) {
    switch (choice) {
        case 0:
            return std::nullopt;  // unknown user
        case 1: {
            sasl::stored_secret s;
            s.plaintext = "pencil";
            return s;
        }
        case 2:
            return scram_secret();
        default:
            return sasl::stored_secret{};  // known, but no usable form
    }
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (true) {
        const std::size_t p = s.find(sep, pos);
        out.push_back(
            s.substr(pos, p == std::string_view::npos ? std::string_view::npos : p - pos));
        if (p == std::string_view::npos) break;
        pos = p + 1;
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    static const auto registry = sasl::server_registry::with_builtins();
    const auto mechanisms = registry.all();
    const unsigned control = data[0];
    const char sep = static_cast<char>(data[1]);
    const std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);

    const sasl::server_context ctx{"fuzz.example",
                                   [](std::size_t n) { return std::string(n, 'r'); }};
    auto m = registry.create(mechanisms[control % mechanisms.size()]->name, ctx);
    if (!m) __builtin_trap();

    auto messages = split(rest, sep);
    std::size_t next = 0;
    sasl::step_result r = (control & 0x08) ? m->start(messages[next++]) : m->start(std::nullopt);
    // Each step consumes at most one message, and need_secret is never answered twice in a
    // row by a correct mechanism; the bound only guards against a looping bug.
    for (int steps = 0; steps < 64; ++steps) {
        if (std::holds_alternative<sasl::step::challenge>(r)) {
            if (next >= messages.size()) return 0;
            r = m->next(messages[next++]);
        } else if (std::holds_alternative<sasl::step::need_secret>(r)) {
            r = m->resume(secret_for((control >> 4) & 3));
        } else if (auto* v = std::get_if<sasl::step::verify_token>(&r)) {
            const unsigned verdict = (control >> 6) & 3;
            if (verdict == 0) {
                r = m->resume_token(std::nullopt);
            } else {
                r = m->resume_token(verdict == 1 ? v->user : std::string("someone-else"));
            }
        } else if (std::holds_alternative<sasl::step::error_challenge>(r)) {
            // The session ends the exchange at the client's next line; the mechanism must
            // not be asked anything more.
            return 0;
        } else if (auto* d = std::get_if<sasl::step::derive_secret>(&r)) {
            // The keys of "pencil" stand in for PBKDF2 at the requested cost.
            const auto& s = scram_secret();
            r = m->resume_derived(d->hash_name == "SHA-1" ? *s.scram_sha1 : *s.scram_sha256);
        } else {
            return 0;  // verify_password, success or failure end the exchange
        }
    }
    __builtin_trap();  // a mechanism that never ends
}
