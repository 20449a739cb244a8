#pragma once
// SCRAM pieces shared by the client and the server (RFC 5802, RFC 7677): the attribute
// grammar, saslname escaping and the key arithmetic of RFC 5802 section 3.

#include <izypop3/core/crypto.hpp>
#include <izypop3/core/sasl/credentials.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::core::sasl::detail {

/// SCRAM-SHA-1 (RFC 5802) or SCRAM-SHA-256 (RFC 7677): the same protocol over another hash.
struct scram_variant {
    hash_algorithm alg;
    std::string_view mechanism;  ///< "SCRAM-SHA-1"
    std::string_view hash_name;  ///< "SHA-1", as derive_scram_secret() takes it
};

inline constexpr scram_variant scram_sha1{hash_algorithm::sha1, "SCRAM-SHA-1", "SHA-1"};
inline constexpr scram_variant scram_sha256{hash_algorithm::sha256, "SCRAM-SHA-256", "SHA-256"};

/// RFC 5802 section 5.1 asks for an iteration count of at least 4096.
inline constexpr std::uint32_t scram_min_iterations = 4096;

inline std::size_t hash_size(hash_algorithm alg) noexcept {
    switch (alg) {
        case hash_algorithm::md5:
            return 16;
        case hash_algorithm::sha1:
            return 20;
        case hash_algorithm::sha256:
            return 32;
        case hash_algorithm::sha512:
            return 64;
    }
    return 0;
}

struct scram_attribute {
    char name;
    std::string_view value;
};

/// Splits "a=v,b=w" into attributes (RFC 5802 section 7: attr-val pairs joined by ",",
/// each a single ALPHA, "=", then a value without "," or NUL). nullopt when any part
/// breaks that grammar, including an empty input or an empty part.
inline std::optional<std::vector<scram_attribute>> parse_scram_attributes(std::string_view s) {
    std::vector<scram_attribute> out;
    if (s.empty()) return std::nullopt;
    std::size_t pos = 0;
    while (true) {
        const std::size_t comma = s.find(',', pos);
        const std::string_view part =
            s.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
        if (part.size() < 2 || part[1] != '=') return std::nullopt;
        const char n = part[0];
        if (!((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z'))) return std::nullopt;
        const std::string_view value = part.substr(2);
        if (value.find('\0') != std::string_view::npos) return std::nullopt;
        out.push_back({n, value});
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
    }
    return out;
}

/// RFC 5802 section 7: printable = %x21-2B / %x2D-7E (no comma). Non-empty.
inline bool valid_scram_nonce(std::string_view n) noexcept {
    if (n.empty()) return false;
    for (const char c : n) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x21 || b > 0x7e || c == ',') return false;
    }
    return true;
}

/// RFC 5802 section 5.1: "," and "=" in a user name travel as "=2C" and "=3D".
inline std::string scram_escape_name(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (const char c : name) {
        if (c == ',')
            out += "=2C";
        else if (c == '=')
            out += "=3D";
        else
            out += c;
    }
    return out;
}

/// The inverse of scram_escape_name(); nullopt for any other "=" sequence (the RFC says
/// the server MUST fail then) or an empty result.
inline std::optional<std::string> scram_unescape_name(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '=') {
            out += s[i];
            continue;
        }
        const std::string_view esc = s.substr(i + 1, 2);
        if (esc == "2C")
            out += ',';
        else if (esc == "3D")
            out += '=';
        else
            return std::nullopt;
        i += 2;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

inline std::string xor_octets(std::string_view a, std::string_view b) {
    std::string out(a.size(), '\0');
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        out[i] =
            static_cast<char>(static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]));
    return out;
}

/// StoredKey and ServerKey from SaltedPassword (RFC 5802 section 3).
inline scram_secret scram_secret_from_salted(hash_algorithm alg, std::string_view salted,
                                             std::string salt, std::uint32_t iterations) {
    scram_secret s;
    s.salt = std::move(salt);
    s.iterations = iterations;
    s.stored_key = digest(alg, hmac(alg, salted, "Client Key"));
    s.server_key = hmac(alg, salted, "Server Key");
    return s;
}

/// ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage).
inline std::string scram_client_proof(hash_algorithm alg, std::string_view salted,
                                      std::string_view auth_message) {
    const std::string client_key = hmac(alg, salted, "Client Key");
    const std::string stored_key = digest(alg, client_key);
    return xor_octets(client_key, hmac(alg, stored_key, auth_message));
}

/// ServerSignature = HMAC(ServerKey, AuthMessage).
inline std::string scram_server_signature(hash_algorithm alg, std::string_view server_key,
                                          std::string_view auth_message) {
    return hmac(alg, server_key, auth_message);
}

}  // namespace izypop3::core::sasl::detail
