#include "postgres_lock_key.hpp"

#include "sha256.hpp"

#include <string>

namespace izypop3::store::detail {

std::int64_t pg_lock_key(std::string_view purpose, std::string_view name) {
    std::string material("izypop3");
    material.push_back('\0');
    material.append(purpose);
    material.push_back('\0');
    material.append(name);
    const std::string hex = sha256_hex(material);
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        char c = hex[i];
        v = (v << 4) | static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return static_cast<std::int64_t>(v);
}

}  // namespace izypop3::store::detail
