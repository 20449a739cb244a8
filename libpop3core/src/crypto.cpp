#include <izypop3/core/crypto.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <climits>
#include <stdexcept>

namespace izypop3::core {
namespace {

const EVP_MD* md_of(hash_algorithm alg) {
    switch (alg) {
        case hash_algorithm::md5:
            return EVP_md5();
        case hash_algorithm::sha1:
            return EVP_sha1();
        case hash_algorithm::sha256:
            return EVP_sha256();
        case hash_algorithm::sha512:
            return EVP_sha512();
    }
    throw std::invalid_argument("unknown hash algorithm");
}

// OpenSSL wants a valid pointer even for zero-length input on some code paths.
const unsigned char* bytes(std::string_view s) noexcept {
    static const unsigned char empty = 0;
    return s.empty() ? &empty : reinterpret_cast<const unsigned char*>(s.data());
}

[[noreturn]] void openssl_failed(const char* what) {
    // Only allocation failure or a provider without the algorithm (e.g. MD5 under a
    // FIPS-only configuration) gets here: an environment problem, not a peer's doing.
    throw std::runtime_error(std::string("OpenSSL ") + what + " failed");
}

}  // namespace

std::string digest(hash_algorithm alg, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(bytes(data), data.size(), out, &len, md_of(alg), nullptr) != 1)
        openssl_failed("EVP_Digest");
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hmac(hash_algorithm alg, std::string_view key, std::string_view data) {
    if (key.size() > static_cast<std::size_t>(INT_MAX))
        throw std::invalid_argument("HMAC key too long");
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(md_of(alg), bytes(key), static_cast<int>(key.size()), bytes(data), data.size(), out,
             &len) == nullptr)
        openssl_failed("HMAC");
    return std::string(reinterpret_cast<const char*>(out), len);
}

std::string pbkdf2(hash_algorithm alg, std::string_view password, std::string_view salt,
                   std::uint32_t iterations) {
    // Callers bound the iteration count (the SCRAM client refuses more than 10^7); a count
    // that does not fit OpenSSL's int is a programming error.
    if (iterations == 0 || iterations > static_cast<std::uint32_t>(INT_MAX) ||
        password.size() > static_cast<std::size_t>(INT_MAX) ||
        salt.size() > static_cast<std::size_t>(INT_MAX))
        throw std::invalid_argument("pbkdf2: parameter out of range");
    const EVP_MD* md = md_of(alg);
    const int len = EVP_MD_get_size(md);
    if (len <= 0) openssl_failed("EVP_MD_get_size");
    std::string out(static_cast<std::size_t>(len), '\0');
    if (PKCS5_PBKDF2_HMAC(password.empty() ? "" : password.data(),
                          static_cast<int>(password.size()), bytes(salt),
                          static_cast<int>(salt.size()), static_cast<int>(iterations), md, len,
                          reinterpret_cast<unsigned char*>(out.data())) != 1)
        openssl_failed("PKCS5_PBKDF2_HMAC");
    return out;
}

std::string to_hex(std::string_view octets) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(octets.size() * 2);
    for (const char c : octets) {
        const auto b = static_cast<unsigned char>(c);
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
    return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) noexcept {
    // The lengths are not secret (digest and proof sizes are fixed by the mechanism); only
    // the position of the first difference must not leak.
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace izypop3::core
