#pragma once
// Keys of the PostgreSQL advisory locks the postgres store takes. Every izypop3 process on
// any host must derive the same key for the same lock, so the key is a documented hash of
// names, not anything the server assigns: the first 8 octets of
// SHA-256("izypop3\0" purpose "\0" name), read big-endian as a signed 64-bit number.

#include <cstdint>
#include <string_view>

namespace izypop3::store::detail {

/// `purpose` is "maildrop" (name = schema.table "\0" mailbox) or "migrate" (name = the
/// schema).
std::int64_t pg_lock_key(std::string_view purpose, std::string_view name);

}  // namespace izypop3::store::detail
