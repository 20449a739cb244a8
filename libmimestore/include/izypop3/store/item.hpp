#pragma once
// The unit a mime store holds: one message's octets plus metadata (the original N3 model:
// guid, size, source id, status tags, timestamps).

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store {

/// Status tags of an item's life, as in the original. They are mutually exclusive:
/// mime_store::mark() with one of them replaces whichever status tag the item had.
namespace tag {
inline constexpr std::string_view unread = "unread";
inline constexpr std::string_view archive = "archive";
inline constexpr std::string_view staged = "staged";
inline constexpr std::string_view dup = "dup";
/// A message a backup could not fetch: a record of the failure, never the message (see
/// mime_store::begin_add).
inline constexpr std::string_view pop3failed = "pop3failed";
inline constexpr std::string_view conversionerror = "conversionerror";
}  // namespace tag

/// All six status tags, in the order above.
std::span<const std::string_view> status_tags() noexcept;
bool is_status_tag(std::string_view t) noexcept;

struct item {
    /// The store's identifier, unique within a mailbox; becomes the UIDL (made RFC 1939-safe
    /// by the maildrop if it is not already: see make_uid in store_maildrop.hpp).
    std::string guid;
    /// Octets of the payload exactly as stored.
    std::uint64_t size = 0;
    /// The size on the POP3 wire before dot-stuffing (core::wire_size_counter: line ends
    /// normalised to CRLF, a final CRLF added if missing), when the store knows it. Equal to
    /// `size` for CRLF-clean messages; a maildrop computes it by reading when absent.
    std::optional<std::uint64_t> wire_size;
    /// Where the item came from (the original's source id, e.g. a POP3 account name).
    std::string source_id;
    std::vector<std::string> tags;
    /// When the store received the item.
    std::chrono::system_clock::time_point created{};
    /// The message's own date (its Date: header), when known.
    std::optional<std::chrono::system_clock::time_point> message_time;
    /// Lower-case hex SHA-256 of the payload octets; may be empty when not computed.
    std::string fingerprint;
    /// Which mailbox (user) the item belongs to; empty = the store's default mailbox.
    std::string mailbox;
};

/// The tags after mime_store::mark(t): a status tag replaces the status tags, any other tag
/// is added once (at the end).
std::vector<std::string> tags_after_mark(std::vector<std::string> tags, std::string_view t);
/// The tags after mime_store::unmark(t): `t` is removed; when it was the status, the item is
/// unread again (an item always has a status). `t` must not be "unread".
std::vector<std::string> tags_after_unmark(std::vector<std::string> tags, std::string_view t);

bool has_tag(const item& it, std::string_view t) noexcept;
/// True when `it` carries every tag of `wanted` (an empty `wanted` matches everything).
bool has_all_tags(const item& it, std::span<const std::string> wanted) noexcept;
/// True when `it` carries at least one tag of `unwanted`.
bool has_any_tag(const item& it, std::span<const std::string> unwanted) noexcept;

}  // namespace izypop3::store
