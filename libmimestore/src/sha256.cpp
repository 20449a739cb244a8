#include "sha256.hpp"

#include <openssl/evp.h>

#include <new>
#include <stdexcept>

namespace izypop3::store::detail {

sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) throw std::bad_alloc();
    if (EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(ctx_);
        throw std::runtime_error("EVP_DigestInit_ex(SHA-256) failed");
    }
}

sha256::~sha256() { EVP_MD_CTX_free(ctx_); }

void sha256::update(std::string_view data) {
    // Cannot fail for an initialised software digest; checked anyway so a broken libcrypto
    // is loud rather than a wrong fingerprint.
    if (EVP_DigestUpdate(ctx_, data.data(), data.size()) != 1)
        throw std::runtime_error("EVP_DigestUpdate(SHA-256) failed");
}

std::string sha256::hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_, md, &len) != 1)
        throw std::runtime_error("EVP_DigestFinal_ex(SHA-256) failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out.push_back(digits[md[i] >> 4]);
        out.push_back(digits[md[i] & 0x0f]);
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    sha256 h;
    h.update(data);
    return h.hex_digest();
}

}  // namespace izypop3::store::detail
