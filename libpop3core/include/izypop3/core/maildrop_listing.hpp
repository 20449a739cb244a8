#pragma once
// What a server says about its maildrop at the start of a session (STAT, LIST, UIDL), checked
// for consistency before a client retrieves or deletes anything (SECURITY C11, C12): a server
// that lists a message twice, more messages than STAT counted, numbers out of range, sizes
// larger than the maildrop or invalid UIDs is not believed at all.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace izypop3::core {

/// RFC 1939 section 7: a unique-id is 1 to 70 octets in 0x21-0x7E.
bool is_rfc1939_uid(std::string_view uid) noexcept;

/// The most octets worth accepting for a message announced as `listed` octets: the size plus
/// a margin for servers that count LF instead of CRLF or add a line (size/50 + 64 KiB),
/// never above `max_size` when that is not 0. Saturates instead of wrapping.
std::uint64_t retr_cap(std::uint64_t listed, std::uint64_t max_size = 0) noexcept;

/// One message of an accepted listing.
struct listed_message {
    std::uint32_t number = 0;
    std::uint64_t size = 0;
    std::string uid;  ///< empty when the listing was made without UIDL
};

/// Collects STAT, then the LIST and (optionally) UIDL entries in any order, and accepts them
/// only when they agree. Memory is bounded by `max_entries`: STAT may not count more, and no
/// listing may have more entries than STAT counted. Every call returns false once something
/// is wrong; problem() then says what, in one printable line.
class maildrop_listing {
  public:
    maildrop_listing(std::size_t max_entries, bool with_uids);

    bool stat(std::uint64_t count, std::uint64_t octets);
    bool size(std::uint32_t number, std::uint64_t size);
    bool uid(std::uint32_t number, std::string_view uid);
    /// Both listings are complete: every listed message must have a size and (with UIDs) a
    /// UID. On success messages() holds them ordered by number.
    bool finish();
    /// For a listing the server refused or did not send.
    bool reject(std::string why);
    /// The server refused UIDL: the listing goes on without UIDs (the caller finds ids
    /// another way). False when UIDL entries came already.
    bool drop_uids();

    bool ok() const noexcept { return problem_.empty(); }
    const std::string& problem() const noexcept { return problem_; }
    const std::vector<listed_message>& messages() const noexcept { return messages_; }

  private:
    struct slot {
        std::uint64_t size = 0;
        bool sized = false;
        bool has_uid = false;
    };
    bool entry_ok(std::uint32_t number, std::size_t& entries, std::string_view listing);

    std::size_t max_entries_;
    bool with_uids_;
    bool have_stat_ = false;
    std::uint64_t count_ = 0;
    std::uint64_t octets_ = 0;
    std::size_t list_entries_ = 0;
    std::size_t uid_entries_ = 0;
    std::vector<slot> slots_;        // by number - 1, STAT's count of them
    std::vector<std::string> uids_;  // by number - 1, filled as UIDL entries come
    std::unordered_set<std::string_view> seen_uids_;
    std::vector<listed_message> messages_;
    std::string problem_;
};

}  // namespace izypop3::core
