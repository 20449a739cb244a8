// transport::ip_network, the ADDRESS/PREFIX entries of `trustedproxies`.

#include <izypop3/transport/ip_network.hpp>

#include <gtest/gtest.h>

namespace izypop3::transport {
namespace {

std::array<std::uint8_t, 16> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return {a, b, c, d};
}

TEST(IpNetwork, ParsesAddressesAndPrefixes) {
    EXPECT_EQ(ip_network::parse("192.0.2.0/24")->to_string(), "192.0.2.0/24");
    EXPECT_EQ(ip_network::parse("10.1.2.3/8")->to_string(), "10.0.0.0/8");
    EXPECT_EQ(ip_network::parse("127.0.0.1")->to_string(), "127.0.0.1/32");
    EXPECT_EQ(ip_network::parse("2001:db8::1/32")->to_string(), "2001:db8::/32");
    EXPECT_EQ(ip_network::parse("::1")->to_string(), "::1/128");
    EXPECT_EQ(ip_network::parse("0.0.0.0/0")->to_string(), "0.0.0.0/0");
    EXPECT_EQ(ip_network::parse("2001:db8::/61")->to_string(), "2001:db8::/61");
}

TEST(IpNetwork, RefusesWhatIsNotAddressSlashPrefix) {
    for (const char* bad :
         {"", "/24", "192.0.2.0/", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/024",
          "192.0.2.0/-1", "192.0.2.0/8x", "localhost", "192.0.2.0/24/8", "192.0.2", "10.0.0.0 /8"})
        EXPECT_FALSE(ip_network::parse(bad)) << bad;
}

TEST(IpNetwork, Contains) {
    const auto n = *ip_network::parse("192.0.2.0/24");
    EXPECT_TRUE(n.contains(false, v4(192, 0, 2, 0)));
    EXPECT_TRUE(n.contains(false, v4(192, 0, 2, 255)));
    EXPECT_FALSE(n.contains(false, v4(192, 0, 3, 1)));
    EXPECT_FALSE(n.contains(true, v4(192, 0, 2, 1)));  // an IPv6 address is never in it
    const auto odd = *ip_network::parse("10.0.0.0/13");
    EXPECT_TRUE(odd.contains(false, v4(10, 7, 255, 255)));
    EXPECT_FALSE(odd.contains(false, v4(10, 8, 0, 0)));
    const auto six = *ip_network::parse("2001:db8::/32");
    std::array<std::uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0xff};
    EXPECT_TRUE(six.contains(true, a));
    a[3] = 0xb9;
    EXPECT_FALSE(six.contains(true, a));
    EXPECT_TRUE(ip_network::parse("0.0.0.0/0")->contains(false, v4(8, 8, 8, 8)));
}

}  // namespace
}  // namespace izypop3::transport
