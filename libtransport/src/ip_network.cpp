#include <izypop3/transport/ip_network.hpp>

#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace izypop3::transport {

namespace ip = boost::asio::ip;

namespace {

void clear_host_bits(std::array<std::uint8_t, 16>& a, unsigned prefix, std::size_t octets) {
    for (std::size_t i = 0; i < octets; ++i) {
        const unsigned first_bit = static_cast<unsigned>(i) * 8;
        if (prefix >= first_bit + 8) continue;
        const unsigned keep = prefix > first_bit ? prefix - first_bit : 0;
        a[i] &= static_cast<std::uint8_t>(0xff00u >> keep);
    }
    for (std::size_t i = octets; i < a.size(); ++i) a[i] = 0;
}

}  // namespace

std::optional<ip_network> ip_network::parse(std::string_view text) {
    const auto slash = text.find('/');
    boost::system::error_code ec;
    const auto addr = ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) return std::nullopt;
    ip_network n;
    n.v6 = addr.is_v6();
    const unsigned bits = n.v6 ? 128 : 32;
    n.prefix_length = bits;
    if (slash != std::string_view::npos) {
        const auto p = text.substr(slash + 1);
        unsigned v = 0;
        const auto r = std::from_chars(p.data(), p.data() + p.size(), v);
        if (p.empty() || p.size() > 3 || r.ec != std::errc() || r.ptr != p.data() + p.size() ||
            v > bits || (p.size() > 1 && p[0] == '0'))
            return std::nullopt;
        n.prefix_length = v;
    }
    if (n.v6) {
        n.address = addr.to_v6().to_bytes();
    } else {
        const auto b = addr.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), n.address.begin());
    }
    clear_host_bits(n.address, n.prefix_length, n.v6 ? 16 : 4);
    return n;
}

bool ip_network::contains(bool is_v6, const std::array<std::uint8_t, 16>& bytes) const noexcept {
    if (is_v6 != v6) return false;
    auto masked = bytes;
    clear_host_bits(masked, prefix_length, v6 ? 16 : 4);
    return masked == address;
}

std::string ip_network::to_string() const {
    std::string a;
    if (v6) {
        a = ip::address_v6(address).to_string();
    } else {
        a = ip::address_v4(
                ip::address_v4::bytes_type{address[0], address[1], address[2], address[3]})
                .to_string();
    }
    return a + "/" + std::to_string(prefix_length);
}

}  // namespace izypop3::transport
