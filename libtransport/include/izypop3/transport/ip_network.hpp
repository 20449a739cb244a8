#pragma once
// An IPv4 or IPv6 network written ADDRESS/PREFIX, for lists of trusted peers such as the
// proxies allowed to send a PROXY protocol header. No Asio here.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::transport {

struct ip_network {
    std::array<std::uint8_t, 16> address{};  ///< network order, host bits cleared; IPv4 in
                                             ///< the first 4 octets
    bool v6 = false;
    unsigned prefix_length = 0;  ///< 0-32 or 0-128

    /// "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128). Host bits after
    /// the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8). nullopt for anything else.
    static std::optional<ip_network> parse(std::string_view text);

    /// Whether the address (IPv4 in the first 4 octets when !is_v6) lies in the network. An
    /// IPv4-mapped IPv6 address must be passed as IPv4.
    bool contains(bool is_v6, const std::array<std::uint8_t, 16>& bytes) const noexcept;

    /// "192.0.2.0/24".
    std::string to_string() const;
    bool operator==(const ip_network&) const = default;
};

}  // namespace izypop3::transport
