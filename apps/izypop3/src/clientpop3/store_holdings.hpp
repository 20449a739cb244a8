#pragma once
// What the store already holds from one POP3 account, read once before a backup chooses its
// messages: the UIDs it has and the sizes of their copies. A record of a failed fetch
// (pop3failed) is no copy. A store that cannot be read is an error, never an empty store:
// a backup that took it for one would fetch everything again, or delete on a guess.

#include <izypop3/store/store.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace izypop3::app {

struct store_holdings {
    /// UID -> the sizes of the stored copies under that UID from this source.
    std::map<std::string, std::vector<std::uint64_t>> copies;
    /// UIDs with a pop3failed record and no copy: the next fetch retries them.
    std::set<std::string> failed;

    bool holds(const std::string& uid) const { return copies.contains(uid); }
    /// A copy of exactly `size` octets: the message the server lists is the one stored.
    bool holds(const std::string& uid, std::uint64_t size) const;
};

/// Reads the holdings of `source_id` in `mailbox`; nullopt with `problem` set when the store
/// cannot be queried.
std::optional<store_holdings> read_holdings(store::mime_store& store, const std::string& mailbox,
                                            const std::string& source_id, std::string& problem);

}  // namespace izypop3::app
