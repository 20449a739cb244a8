#pragma once
// Incremental SHA-256 for item fingerprints and derived UIDs, on OpenSSL's EVP interface
// (the store links libcrypto itself; it does not need the core's one-shot helpers).

#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace izypop3::store::detail {

class sha256 {
public:
    sha256();
    ~sha256();
    sha256(const sha256&) = delete;
    sha256& operator=(const sha256&) = delete;

    void update(std::string_view data);
    /// Lower-case hex of the digest; the object is spent afterwards.
    std::string hex_digest();

private:
    evp_md_ctx_st* ctx_;
};

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace izypop3::store::detail
