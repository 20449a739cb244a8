// The size a message will have on the wire (core::wire_size_counter over all of its octets),
// for stores that did not record it when the message was added: LIST must match RETR octet
// for octet (RFC 1939 section 11).
#pragma once

#include <izypop3/core/maildrop.hpp>

#include <boost/system/result.hpp>

#include <cstdint>

namespace izypop3::store::detail {

/// Reads `src` to its end.
boost::system::result<std::uint64_t> count_wire_size(core::message_source& src);

}  // namespace izypop3::store::detail
