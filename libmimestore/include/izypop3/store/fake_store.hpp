#pragma once
// The "fake" store: an in-memory store pre-filled with generated, deterministic RFC 5322
// messages (the original's demo store: guid_1 .. guid_99), size-exact and full of the edge
// cases a POP3 implementation gets wrong. Mutable: adds, marks and removals change its
// in-memory state (lost when it is destroyed), so backups into it and server deletions can
// be tested. "Durable" here means for the life of the process only: a backup into the fake
// store is a test, not a backup.
//
// Every mailbox holds its own copy of the generated messages: the default mailbox "" (what
// querystore shows) and the mailbox of each user name, which is that user's POP3 maildrop.
// Copies are kept as their differences (removed messages, changed tags), so a user costs
// nothing until they change something, and one user's deletions never reach another's
// maildrop; the maildrop lock is per user, like the mailbox. A query without a mailbox lists
// the mailboxes in use, each where it was first used, with the items added to them.
//
// Generation rule for message i (1-based) and seed s:
// - guid "guid_<i>", source_id "fake", tags {"unread"}, mailbox: the copy's;
// - headers Date, From, To, Subject, Message-ID, MIME-Version, Content-Type,
//   Content-Transfer-Encoding; a blank line; a text/plain body; CRLF line ends;
// - size = 300 + (h(s, i) mod 3797) octets, i.e. 300 to 4096, raised to what the message's
//   fixed content needs (only the edge cases below need more); the body is padded with
//   generated word lines to hit the size exactly;
// - the edge cases sit at the fixed indices of fake_edge (when count allows; lowest first).
// Everything depends only on (seed, index), so two stores with the same seed serve the same
// octets.

#include <izypop3/store/store.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace izypop3::store {

/// Indices (1-based, guid_<n>) of the generated edge-case messages.
namespace fake_edge {
/// Body lines starting with "." and with "..": a server must dot-stuff them (RFC 1939 3).
inline constexpr std::uint64_t leading_dots = 1;
/// A body line that is just ".": unstuffed, it would end the response early.
inline constexpr std::uint64_t lone_dot = 2;
/// charset=utf-8, 8bit: UTF-8 text plus raw Latin-1 octets (0xA0-0xFF, invalid UTF-8).
inline constexpr std::uint64_t eight_bit = 3;
/// One body line of 1,200 octets, beyond RFC 5322's 998 (seen in the wild).
inline constexpr std::uint64_t long_line = 4;
/// The last line has no CRLF: item.size counts the octets as stored, item.wire_size is
/// size + 2 (the server adds the CRLF before the terminator).
inline constexpr std::uint64_t no_final_crlf = 5;
/// Exactly `bigsize` octets, generated chunk by chunk on read (never held in memory).
inline constexpr std::uint64_t big = 6;
}  // namespace fake_edge

struct fake_store_options {
    static constexpr std::uint64_t max_count = 100000;
    static constexpr std::uint64_t min_bigsize = 4096;
    static constexpr std::uint64_t max_bigsize = std::uint64_t{1} << 40;

    std::uint64_t count = 99;                      ///< generated messages, 0..max_count
    std::uint64_t seed = 1;                        ///< any value; same seed, same octets
    std::uint64_t bigsize = 5 * 1024 * 1024;       ///< octets of message fake_edge::big
    commit_mode commitmode = commit_mode::remove;  ///< what QUIT does with deleted messages
};

class fake_store final : public mime_store {
  public:
    /// Options out of range are a programmer error (make_store validates user input).
    explicit fake_store(const fake_store_options& opts = {});
    ~fake_store() override;
    fake_store(const fake_store&) = delete;
    fake_store& operator=(const fake_store&) = delete;

    result<query_result> query(const query_options& opts) override;
    result<std::unique_ptr<core::message_source>> open_item(const item& it) override;
    result<std::unique_ptr<item_writer>> begin_add(item meta) override;
    error_code mark(const item& it, std::string_view t) override;
    error_code unmark(const item& it, std::string_view t) override;
    error_code remove(const item& it) override;
    result<std::unique_ptr<core::maildrop>> open_maildrop(std::string_view user) override;
    std::string_view kind() const noexcept override { return "fake"; }
    /// Memory only.
    bool reads_locally() const noexcept override { return true; }

    struct state;  // private, in fake_store.cpp; public only so its helpers can name it

private:
    error_code change_tags(
        const item& it,
        const std::function<std::vector<std::string>(std::vector<std::string>)>& rule);

    std::shared_ptr<state> state_;
};

}  // namespace izypop3::store
