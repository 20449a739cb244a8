#pragma once
// What a store holds, read directly (not through the server), for the self-test to judge
// the server and the backup client by: the snapshot's sizes and UIDLs, and each message's
// octets as they must appear on the wire.

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/store.hpp>

#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

class maildrop_reference {
public:
    /// Reads `data`'s maildrop for `user` into memory and closes it again, so that the
    /// server under test can lock it (a self-test store is small; the fake one is 5 MB).
    static boost::system::result<maildrop_reference> open(std::shared_ptr<store::mime_store> data,
                                                          std::string_view user);

    const std::vector<core::message_info>& messages() const noexcept { return messages_; }
    std::uint64_t total_size() const noexcept;
    /// Message `index` (0-based) with line ends as RFC 1939 puts them on the wire: every
    /// line ending in CRLF, the last one included.
    const std::string& wire_octets(std::size_t index) const { return octets_.at(index); }
    /// The bodies of LIST and UIDL ("1 664\r\n2 742\r\n...").
    std::string list_text() const;
    std::string uidl_text() const;

private:
    std::vector<core::message_info> messages_;
    std::vector<std::string> octets_;
};

/// CR, LF and CRLF line ends become CRLF, and a final line end is added when missing.
std::string wire_normalised(std::string_view raw);

}  // namespace izypop3::app
