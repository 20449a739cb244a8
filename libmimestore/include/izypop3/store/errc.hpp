#pragma once
// Error codes of the message stores, in their own error category ("izypop3.store").
// Each message says what failed and what the user can do about it; details that name a
// file, key or value travel separately (an error_text out-parameter), never in the code.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace izypop3::store {

enum class errc {
    not_found = 1,       ///< the item is gone (removed by another session or process)
    in_use,              ///< the maildrop is locked by another session (RFC 2449 [IN-USE])
    no_such_mailbox,     ///< the store has no mailbox of that name
    bad_config,          ///< a mimestore.* setting is missing or malformed
    unknown_modhandler,  ///< mimestore.modhandler names no store this program knows
    not_built,           ///< the store is known but not part of this build yet
    unknown_setting,     ///< a mimestore.* key the chosen store does not have
    bad_setting_value,   ///< a mimestore.* value that does not parse or is out of range
    invalid_item,        ///< item metadata the store cannot accept (e.g. an empty guid)
    io_error,            ///< reading or writing the underlying storage failed
    disk_full,           ///< no space left to store the item
    corrupt,             ///< stored octets do not match their recorded size or fingerprint
    read_only,           ///< the store or item cannot be changed
    unsupported,         ///< the store does not implement this operation
    writer_finished,     ///< write/commit called on an item_writer after commit or abort
};

const boost::system::error_category& store_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), store_category()};
}

}  // namespace izypop3::store

template <>
struct boost::system::is_error_code_enum<izypop3::store::errc> : std::true_type {};
