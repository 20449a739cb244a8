#pragma once
// The view of a mailbox that a POP3 server session works on (RFC 1939 section 8).
// Pure interfaces: stores implement them (libmimestore); the transport calls them off the
// I/O threads. The protocol core itself never calls them.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace izypop3::core {

struct message_info {
    std::uint64_t size = 0;  ///< octets as sent (CRLF line ends, before dot-stuffing)
    std::string uid;         ///< RFC 1939 unique-id: 1-70 octets in 0x21-0x7E, stable
};

/// A message's octets, read in bounded chunks.
class message_source {
  public:
    virtual ~message_source() = default;
    /// Reads up to buf.size() octets into buf; 0 means the end of the message. An error
    /// means the message could not be read (gone, changed, I/O failure).
    virtual boost::system::result<std::size_t> read(std::span<char> buf) = 0;
};

/// A locked snapshot of one user's mailbox for one POP3 session: message numbers and sizes
/// are fixed at open (RFC 1939). Destroying it releases the lock and deletes nothing.
class maildrop {
  public:
    virtual ~maildrop() = default;
    virtual const std::vector<message_info>& messages() const noexcept = 0;
    /// Whether each message's uid is the same in every session (RFC 1939 UIDL). Without that
    /// promise the server neither advertises UIDL after login nor answers it: a client that
    /// keeps mail on the server would fetch or delete the wrong messages.
    virtual bool stable_uids() const noexcept = 0;
    /// Opens message `index` (0-based) of the snapshot for reading. An error equal to
    /// boost::system::errc::no_such_file_or_directory means the message is gone (removed by
    /// another process); any other error is taken as temporary ([SYS/TEMP]).
    virtual boost::system::result<std::unique_ptr<message_source>> open(std::size_t index) = 0;
    /// The UPDATE state: removes (or archives, per the store's policy) the messages marked
    /// deleted. Either all of them are gone afterwards or an error is returned; messages
    /// not listed are never touched.
    virtual boost::system::error_code commit_deletions(std::span<const std::size_t> indices) = 0;
};

/// Why a maildrop could not be opened, as the session reports it (RFC 2449, RFC 3206).
enum class maildrop_failure {
    in_use,     ///< -ERR [IN-USE]: another session holds the lock
    temporary,  ///< -ERR [SYS/TEMP]: try again later
    permanent,  ///< -ERR [SYS/PERM]: the mailbox is unusable
};

/// Why RETR/TOP could not open a message of the snapshot.
enum class message_open_failure {
    gone,       ///< -ERR: someone else removed it since the maildrop was opened
    temporary,  ///< -ERR [SYS/TEMP]: the store could not read it now
};

}  // namespace izypop3::core
