#pragma once
// What a person needs to recognise a stored message in a listing: From, Subject and Date
// from its header, RFC 2047 words decoded.

#include <izypop3/store/store.hpp>

#include <string>

namespace izypop3::app {

struct item_headline {
    std::string from;     ///< decoded, may be empty
    std::string subject;  ///< decoded, may be empty
    std::string date;     ///< the Date: field as written, may be empty
    std::string problem;  ///< why the header could not be read; empty when it could
};

/// Reads at most the first `max_header` octets of the item (a header longer than that is cut
/// there) and extracts the three fields.
item_headline read_headline(store::mime_store& s, const store::item& it,
                            std::size_t max_header = 64 * 1024);

}  // namespace izypop3::app
