#pragma once
// Token introspection (RFC 7662) over HTTPS with Boost.Beast: one POST per token, on the
// calling coroutine's executor, every step (name lookup, connect, TLS, request, response)
// within one deadline. Beast itself stays inside token_introspection.cpp.

#include "introspection_response.hpp"

#include <izypop3/transport/oauth2_options.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace izypop3::transport::detail {

struct introspection_endpoint {
    https_url url;
    std::string authorization;  ///< the Authorization header's value, empty for none
    std::chrono::seconds timeout{10};
    token_user_claim claim = token_user_claim::username;
};

/// The endpoint from the options: the URL checked, the client credentials encoded.
bool make_introspection_endpoint(const oauth2_options& opt, introspection_endpoint& out,
                                 std::string& why);

struct introspection_outcome {
    bool answered = false;  ///< false: no usable answer (network, TLS, HTTP status)
    introspection_verdict verdict;
    std::string problem;  ///< why not answered
};

/// Asks the endpoint about `token`; `tls` verifies the endpoint's certificate. `now` is
/// seconds since the epoch.
boost::asio::awaitable<introspection_outcome> introspect(boost::asio::ssl::context& tls,
                                                         const introspection_endpoint& endpoint,
                                                         std::string token, std::int64_t now);

}  // namespace izypop3::transport::detail
