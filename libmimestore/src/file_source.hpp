#pragma once
// A stored message file read for a POP3 session or a caller of open_item: it must be the
// item the snapshot described, or the read fails. The size is checked when the file is
// opened and again at its end (a file that shrank or grew while being read is an error,
// never a shorter or longer message), and when the store knows the item's SHA-256 the
// octets read are hashed and compared before the end is reported.
//
// A file whose octets are known to be their own POP3 wire body may instead be handed to
// the transport whole (core::message_source::wire_file, for sendfile). The hash cannot be
// checked then; the file's identity is: it must have the size and modification time it
// had when its octets were examined, when it is opened and again after it was sent.

#include <izypop3/core/maildrop.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace izypop3::store::detail {

/// What the caller knows about the file it opens.
struct file_expectation {
    std::uint64_t size = 0;
    /// Lower-case hex SHA-256 to verify on the read path, or empty.
    std::string fingerprint;
    /// The file's octets are their own wire body as long as it has this modification time
    /// (and `size`); nullopt when that is not known.
    std::optional<std::int64_t> wire_form_mtime_ns;
};

/// Opens `path` without following a symbolic link. Errors: not_found (no such file),
/// corrupt (its size is not the expected one), read_only (no permission), io_error.
boost::system::result<std::unique_ptr<core::message_source>> open_file_source(
    const std::string& path, file_expectation expect);

/// The same, for callers that only know size and fingerprint.
inline boost::system::result<std::unique_ptr<core::message_source>> open_file_source(
    const std::string& path, std::uint64_t size, std::string fingerprint) {
    return open_file_source(path, file_expectation{size, std::move(fingerprint), std::nullopt});
}

}  // namespace izypop3::store::detail
