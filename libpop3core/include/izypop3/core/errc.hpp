#pragma once
// Error codes of the protocol core, in their own error category ("izypop3.core").

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace izypop3::core {

enum class errc {
    // Framing
    line_too_long = 1,  ///< a peer line exceeded the configured maximum
    nul_in_line,        ///< a NUL octet inside a command or status line
    // Commands (server side)
    empty_command,
    unknown_command,
    missing_argument,
    too_many_arguments,
    bad_message_number,  ///< not a strict positive decimal that fits
    bad_line_count,      ///< TOP's second argument is not a strict decimal >= 0
    argument_too_long,   ///< RFC 1939: an argument is at most 40 octets (we allow more, bounded)
    // Responses (client side)
    malformed_status,   ///< neither +OK, -ERR nor a "+ " continuation
    malformed_listing,  ///< a LIST/UIDL/STAT line that is not "n size" / "n uid"
    bad_uid,            ///< a UID outside RFC 1939's 1-70 printable octets
    body_too_large,
    body_incomplete,  ///< the connection ended before the ".CRLF" terminator
    unexpected_data,  ///< the server sent bytes nobody asked for
    // SASL
    bad_base64,
    sasl_bad_message,  ///< a SASL message that does not follow the mechanism's grammar
    sasl_cancelled,
    sasl_server_not_verified,  ///< SCRAM server signature missing or wrong
    mechanism_unavailable,
    authentication_failed,
    // Session
    tls_required,  ///< the policy demands TLS and the peer cannot give it
    protocol_violation,
    // Added later; kept at the end so that the values above stay as they were.
    cleartext_refused,  ///< a password would have gone in clear without the user's consent
    listing_rejected,   ///< LIST/UIDL contradict STAT or themselves, or are too long
    /// The login was refused for now ([IN-USE], [LOGIN-DELAY], [SYS/TEMP], RFC 2449/3206):
    /// the credentials may well be right, a later attempt can succeed.
    login_deferred,
};

const boost::system::error_category& core_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), core_category()};
}

}  // namespace izypop3::core

template <>
struct boost::system::is_error_code_enum<izypop3::core::errc> : std::true_type {};
