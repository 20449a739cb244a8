#pragma once
// The body of an RFC 7662 introspection response, read into the three facts the server
// uses. Peer input: fuzzed (tests/fuzz/introspection_response.cpp).

#include <izypop3/transport/oauth2_options.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::transport::detail {

struct introspection_verdict {
    bool active = false;
    std::string user;                 ///< the configured claim; empty when inactive
    std::optional<std::int64_t> exp;  ///< seconds since the epoch (RFC 7519 NumericDate)
    std::string problem;              ///< why an answer that is not usable was refused
};

/// `now` is seconds since the epoch: a token past its "exp" is inactive whatever "active"
/// says. A body that is not a JSON object, lacks a boolean "active", or is active without a
/// non-empty string claim, comes back inactive with `problem` set.
introspection_verdict read_introspection_response(std::string_view body, token_user_claim claim,
                                                  std::int64_t now);

}  // namespace izypop3::transport::detail
