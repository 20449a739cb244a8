#pragma once
// The UIDs of one maildrop snapshot (RFC 1939 section 7: unique within the maildrop,
// 1-70 octets in 0x21-0x7E, stable across sessions): an item's guid when it is a valid
// UID, else "x" and 40 hex digits of its SHA-256. Guids are unique per mailbox only, and a
// derived UID could in theory equal a real guid, so a repeat gets a UID derived from the
// mailbox, the guid and how many times it was seen, which is stable while the mailbox
// does not change.

#include <string>
#include <string_view>
#include <unordered_set>

namespace izypop3::store::detail {

class maildrop_uids {
  public:
    /// The UID for the next item of the snapshot, in the store's order.
    std::string next(std::string_view mailbox, std::string_view guid);

  private:
    std::unordered_set<std::string> seen_;
};

/// "x" followed by the first 40 hex digits of SHA-256(material).
std::string derived_uid(std::string_view material);

}  // namespace izypop3::store::detail
