#pragma once
// The view of a mailbox that a POP3 server session works on (RFC 1939 section 8).
// Pure interfaces: stores implement them (libmimestore); the transport calls them, on its
// I/O thread when the maildrop says it is served locally, else on a worker thread. The
// protocol core itself never calls them.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace izypop3::core {

struct message_info {
    std::uint64_t size = 0;  ///< octets as sent (CRLF line ends, before dot-stuffing)
    std::string uid;         ///< RFC 1939 unique-id: 1-70 octets in 0x21-0x7E, stable
};

/// Part of an open file that holds a message's wire body exactly (see wire_file()).
struct file_region {
    int fd = -1;  ///< owned by the source; valid until it is destroyed
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

/// A message's octets, read in bounded chunks.
class message_source {
  public:
    virtual ~message_source() = default;
    /// Reads up to buf.size() octets into buf; 0 means the end of the message. An error
    /// means the message could not be read (gone, changed, I/O failure).
    virtual boost::system::result<std::size_t> read(std::span<char> buf) = 0;

    /// Octets the next read() hands over without waiting on anything (already fetched from
    /// a remote store). Sources of a maildrop served locally never wait and may say 0.
    virtual std::size_t buffered() const noexcept { return 0; }
    /// Whether the next read() returns without waiting on another process: octets in hand,
    /// or the end of the message already known (its last octets were handed over). The
    /// server then reads on its I/O thread instead of handing the read to a worker.
    virtual bool reads_at_once() const noexcept { return buffered() > 0; }

    /// When the stored octets are already the message's whole POP3 wire body (every line
    /// end CRLF, the last line too, no line starting with "."), before any read(): the file
    /// and the region to send as they are (sendfile), after which only ".\r\n" is missing.
    /// The caller then sends the region and calls check_sent_file() instead of read().
    virtual std::optional<file_region> wire_file() { return std::nullopt; }
    /// After the region of wire_file() went out: an error when the file changed meanwhile
    /// (what was sent may not be the message that was listed; the connection must close).
    virtual boost::system::error_code check_sent_file() { return {}; }
};

/// A locked snapshot of one user's mailbox for one POP3 session: message numbers and sizes
/// are fixed at open (RFC 1939). Destroying it releases the lock and deletes nothing.
class maildrop {
  public:
    virtual ~maildrop() = default;
    /// True when open() and the reads of its sources touch only local files (served by
    /// the page cache) or memory, so that the transport calls them on its I/O thread: a
    /// hand-off to another thread costs more than such a read. False (the default) when
    /// they may wait on another machine or process (a database): then they run on a
    /// worker thread, once per operation. commit_deletions() (which fsyncs or talks to a
    /// database) always runs on a worker thread; the destructor runs where open() does.
    virtual bool served_locally() const noexcept { return false; }
    /// Whether open(index) returns without waiting on another process, and the source it
    /// returns reads the same way to its end: always for a maildrop served locally; for a
    /// remote one, a message it fetched ahead. The server then opens it on its I/O thread.
    virtual bool opens_at_once(std::size_t index) const noexcept {
        (void)index;
        return served_locally();
    }
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
    /// RFC 2449 EXPIRE DAYS: the session that retrieved these messages (RETR to the end)
    /// reached UPDATE at `now`; a store that keeps retrieval times records `now` for those
    /// that have none yet (the first retrieval counts). Runs on a worker thread, before
    /// commit_deletions. The default keeps nothing.
    virtual boost::system::error_code record_retrieval(std::span<const std::size_t> indices,
                                                       std::chrono::system_clock::time_point now) {
        (void)indices, (void)now;
        return {};
    }
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
