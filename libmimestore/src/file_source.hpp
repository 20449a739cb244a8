#pragma once
// A stored message file read for a POP3 session or a caller of open_item: it must be the
// item the snapshot described, or the read fails. The size is checked when the file is
// opened and again at its end (a file that shrank or grew while being read is an error,
// never a shorter or longer message), and when the store knows the item's SHA-256 the
// octets read are hashed and compared before the end is reported.

#include <izypop3/core/maildrop.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace izypop3::store::detail {

/// Opens `path` without following a symbolic link. Errors: not_found (no such file),
/// corrupt (its size is not `size`), read_only (no permission), io_error.
/// `fingerprint`: lower-case hex SHA-256 to verify, or empty.
boost::system::result<std::unique_ptr<core::message_source>> open_file_source(
    const std::string& path, std::uint64_t size, std::string fingerprint);

}  // namespace izypop3::store::detail
