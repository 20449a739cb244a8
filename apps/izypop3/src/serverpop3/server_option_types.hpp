#pragma once
// Value types of serverpop3's own keys, with their Boost.Program_options validate()
// overloads (see cli/option_types.hpp for the shared ones).

#include <izypop3/transport/ip_network.hpp>
#include <izypop3/transport/server.hpp>

#include <boost/any.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace izypop3::app {

/// allowplaintext: "loopback", or a flag word (true = everyone, false = no one).
struct plaintext_policy {
    transport::cleartext_policy value = transport::cleartext_policy::loopback;
};

/// trustedproxies: ADDRESS/PREFIX[,ADDRESS/PREFIX...]; the key may be repeated.
struct network_list {
    std::vector<transport::ip_network> networks;
};

/// expire: "never" or a number of days (RFC 2449 EXPIRE); core::sasl::expire_never for never.
struct expire_setting {
    std::uint32_t days = 0xffffffffu;
};

void validate(boost::any& v, const std::vector<std::string>& values, plaintext_policy*, int);
void validate(boost::any& v, const std::vector<std::string>& values, expire_setting*, int);
void validate(boost::any& v, const std::vector<std::string>& values, network_list*, int);
std::ostream& operator<<(std::ostream& os, const plaintext_policy& p);
std::ostream& operator<<(std::ostream& os, const network_list& n);
std::ostream& operator<<(std::ostream& os, const expire_setting& e);

}  // namespace izypop3::app
