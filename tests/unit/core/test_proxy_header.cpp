// core::proxy_header_reader: the PROXY protocol v1 and v2 headers HAProxy sends in front of a
// connection (SECURITY: trusted proxies give the real client address). Byte-exact inputs,
// fed whole, one octet at a time and with the connection's own bytes right behind them:
// the reader must take exactly the header and refuse anything malformed, truncated or too
// long with a one-line reason.

#include <izypop3/core/proxy_header.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::test {
namespace {

using core::proxy_header_reader;
using namespace std::string_literals;

const std::string v2_signature = "\r\n\r\n\0\r\nQUIT\n"s;

// A v2 header: signature, version/command, family/protocol, length, then `block`.
std::string v2(std::uint8_t ver_cmd, std::uint8_t fam, const std::string& block) {
    std::string h = v2_signature;
    h += static_cast<char>(ver_cmd);
    h += static_cast<char>(fam);
    h += static_cast<char>((block.size() >> 8) & 0xff);
    h += static_cast<char>(block.size() & 0xff);
    return h + block;
}

std::string octets(std::initializer_list<int> v) {
    std::string s;
    for (int b : v) s += static_cast<char>(b);
    return s;
}

std::string tlv(std::uint8_t type, const std::string& value) {
    std::string s(1, static_cast<char>(type));
    s += static_cast<char>((value.size() >> 8) & 0xff);
    s += static_cast<char>(value.size() & 0xff);
    return s + value;
}

// 192.0.2.10:56324 -> 203.0.113.5:110
const std::string tcp4_block = octets({192, 0, 2, 10, 203, 0, 113, 5, 0xdc, 0x04, 0, 110});
// 2001:db8::1:4000 -> 2001:db8::2:995
const std::string tcp6_block =
    octets({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    1,    0x20, 0x01,
            0x0d, 0xb8, 0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x0f, 0xa0, 0x03, 0xe3});

// Feeds `input` the way a transport does: at most bytes_needed() at a time, in slices of
// `slice` octets. Returns how many octets the reader took.
std::size_t read_header(proxy_header_reader& r, std::string_view input, std::size_t slice) {
    std::size_t taken = 0;
    while (r.bytes_needed() > 0 && taken < input.size()) {
        const std::size_t n = std::min({slice, r.bytes_needed(), input.size() - taken});
        const std::size_t used = r.feed(input.substr(taken, n));
        EXPECT_EQ(used, n) << "the reader must take all it asked for";
        taken += used;
    }
    return taken;
}

struct outcome {
    bool done = false;
    std::string error;
    core::proxy_header header;
    std::size_t taken = 0;
};

// Runs the input whole and octet by octet; both must agree.
outcome run(std::string_view input, std::size_t max_v2 = proxy_header_reader::default_max_v2_size) {
    outcome whole, single;
    for (std::size_t slice : {input.size() + 1, std::size_t{1}}) {
        proxy_header_reader r(max_v2);
        outcome& o = slice == 1 ? single : whole;
        o.taken = read_header(r, input, std::max<std::size_t>(slice, 1));
        o.done = r.done();
        if (r.done()) o.header = r.header();
        if (r.failed()) o.error = r.error();
        EXPECT_TRUE(r.done() || r.failed() || r.bytes_needed() > 0);
    }
    EXPECT_EQ(whole.done, single.done) << input;
    EXPECT_EQ(whole.error, single.error) << input;
    EXPECT_EQ(whole.taken, single.taken) << input;
    return whole;
}

// -------------------------------------------------------------------------------------
// Version 1

TEST(ProxyHeaderV1, Tcp4GivesTheClientAndStopsAtTheHeader) {
    const std::string header = "PROXY TCP4 192.0.2.10 203.0.113.5 56324 110\r\n";
    const auto o = run(header + "USER alice\r\n");
    ASSERT_TRUE(o.done) << o.error;
    EXPECT_EQ(o.taken, header.size());
    EXPECT_EQ(o.header.version, 1u);
    ASSERT_TRUE(o.header.has_addresses);
    EXPECT_FALSE(o.header.source.v6);
    EXPECT_EQ(o.header.source.address_text(), "192.0.2.10");
    EXPECT_EQ(o.header.source.port, 56324);
    EXPECT_EQ(o.header.destination.address_text(), "203.0.113.5");
    EXPECT_EQ(o.header.destination.port, 110);
}

TEST(ProxyHeaderV1, Tcp6) {
    const std::string header = "PROXY TCP6 2001:db8::1 2001:db8::2 4000 995\r\n";
    const auto o = run(header + "\x16\x03\x01");
    ASSERT_TRUE(o.done) << o.error;
    EXPECT_EQ(o.taken, header.size());
    EXPECT_TRUE(o.header.source.v6);
    EXPECT_EQ(o.header.source.address_text(), "2001:db8::1");
    EXPECT_EQ(o.header.source.port, 4000);
    EXPECT_EQ(o.header.destination.address_text(), "2001:db8::2");
    EXPECT_EQ(o.header.destination.port, 995);
}

TEST(ProxyHeaderV1, UnknownHasNoAddresses) {
    for (const std::string& header :
         {"PROXY UNKNOWN\r\n"s, "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n"s}) {
        const auto o = run(header + "CAPA\r\n");
        ASSERT_TRUE(o.done) << header << ": " << o.error;
        EXPECT_EQ(o.taken, header.size());
        EXPECT_EQ(o.header.version, 1u);
        EXPECT_FALSE(o.header.has_addresses);
    }
}

TEST(ProxyHeaderV1, LongestLegalLineIsAccepted) {
    // The specification's own worst case: 107 octets.
    const std::string header =
        "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
        "ffff 65535 65535\r\n";
    ASSERT_EQ(header.size(), 104u);
    EXPECT_TRUE(run(header).done);
    const std::string unknown = "PROXY UNKNOWN " + std::string(107 - 16, 'x') + "\r\n";
    ASSERT_EQ(unknown.size(), 107u);
    EXPECT_TRUE(run(unknown).done);
}

TEST(ProxyHeaderV1, RefusesWhatIsNotExactlyTheGrammar) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"PROXY TCP4 192.0.2.10 203.0.113.5 56324 110\n", "bare LF"},
        {"PROXY TCP4 192.0.2.10 203.0.113.5 56324 110\rX", "CR without LF"},
        {"PROXY TCP5 192.0.2.10 203.0.113.5 56324 110\r\n", "unknown protocol"},
        {"proxy TCP4 192.0.2.10 203.0.113.5 56324 110\r\n", "lower case"},
        {"PROXY TCP4 2001:db8::1 203.0.113.5 56324 110\r\n", "IPv6 source in TCP4"},
        {"PROXY TCP6 192.0.2.10 2001:db8::2 56324 110\r\n", "IPv4 source in TCP6"},
        {"PROXY TCP4 192.0.2.010 203.0.113.5 56324 110\r\n", "leading zero"},
        {"PROXY TCP4 192.0.2 203.0.113.5 56324 110\r\n", "three parts"},
        {"PROXY TCP4 192.0.2.256 203.0.113.5 56324 110\r\n", "octet out of range"},
        {"PROXY TCP4 192.0.2.10 203.0.113.5 65536 110\r\n", "port out of range"},
        {"PROXY TCP4 192.0.2.10 203.0.113.5 +1 110\r\n", "signed port"},
        {"PROXY TCP4 192.0.2.10 203.0.113.5 056324 110\r\n", "port leading zero"},
        {"PROXY TCP4 192.0.2.10  203.0.113.5 56324 110\r\n", "two spaces"},
        {"PROXY TCP4 192.0.2.10 203.0.113.5 56324 110 \r\n", "trailing space"},
        {"PROXY TCP4 192.0.2.10 203.0.113.5 56324\r\n", "missing port"},
        {"PROXY TCP4 192.0.2.10 203.0.113.5 56324 110 7\r\n", "extra field"},
        {"PROXY TCP4 192.0.2.10\0 203.0.113.5 56324 110\r\n"s, "NUL"},
        {"PROXY\r\n\r\n\r\n\r\n\r\n", "no protocol"},
        {"PROXY UNKNOWN" + std::string(200, ' ') + "\r\n", "longer than 107"},
    };
    for (const auto& [input, what] : cases) {
        const auto o = run(input);
        EXPECT_FALSE(o.done) << what;
        EXPECT_FALSE(o.error.empty()) << what;
        EXPECT_EQ(o.error.find('\n'), std::string::npos) << what;
        EXPECT_LE(o.taken, proxy_header_reader::max_v1_size) << what;
    }
}

TEST(ProxyHeaderV1, A108OctetLineIsRefusedAfter107) {
    const std::string header = "PROXY UNKNOWN " + std::string(108 - 16, 'x') + "\r\n";
    proxy_header_reader r;
    const std::size_t taken = read_header(r, header, 1000);
    EXPECT_TRUE(r.failed());
    EXPECT_EQ(taken, 107u);
    EXPECT_EQ(r.error(), "PROXY v1 header: no CRLF within 107 octets");
}

// -------------------------------------------------------------------------------------
// Version 2

TEST(ProxyHeaderV2, ProxyTcp4) {
    const std::string header = v2(0x21, 0x11, tcp4_block);
    const auto o = run(header + "USER alice\r\n");
    ASSERT_TRUE(o.done) << o.error;
    EXPECT_EQ(o.taken, header.size());
    EXPECT_EQ(o.header.version, 2u);
    ASSERT_TRUE(o.header.has_addresses);
    EXPECT_EQ(o.header.source.address_text(), "192.0.2.10");
    EXPECT_EQ(o.header.source.port, 56324);
    EXPECT_EQ(o.header.destination.address_text(), "203.0.113.5");
    EXPECT_EQ(o.header.destination.port, 110);
}

TEST(ProxyHeaderV2, ProxyTcp6) {
    const std::string header = v2(0x21, 0x21, tcp6_block);
    const auto o = run(header + "\x16\x03\x01\x02\x00");
    ASSERT_TRUE(o.done) << o.error;
    EXPECT_EQ(o.taken, header.size());
    EXPECT_TRUE(o.header.source.v6);
    EXPECT_EQ(o.header.source.address_text(), "2001:db8::1");
    EXPECT_EQ(o.header.source.port, 4000);
    EXPECT_EQ(o.header.destination.port, 995);
}

TEST(ProxyHeaderV2, TlvsAfterTheAddressesAreSkipped) {
    // ALPN, authority, a unique id, an SSL TLV with a sub-TLV, and NOOP padding: HAProxy's
    // proxy-v2-options, none of which the server uses.
    const std::string tlvs = tlv(0x01, "pop3") + tlv(0x02, "mail.example.org") +
                             tlv(0x05, std::string(64, 'u')) +
                             tlv(0x20, "\x01\0\0\0\0"s + tlv(0x21, "TLSv1.3")) + tlv(0x04, "");
    const std::string header = v2(0x21, 0x11, tcp4_block + tlvs);
    const auto o = run(header + "CAPA\r\n");
    ASSERT_TRUE(o.done) << o.error;
    EXPECT_EQ(o.taken, header.size());
    EXPECT_EQ(o.header.source.address_text(), "192.0.2.10");
}

TEST(ProxyHeaderV2, LocalIsTheProxyItself) {
    // HAProxy's health checks: LOCAL with an unspecified family and nothing after it, or
    // with a block that must be ignored.
    for (const std::string& header :
         {v2(0x20, 0x00, ""), v2(0x20, 0x11, tcp4_block), v2(0x20, 0x00, "garbage")}) {
        const auto o = run(header);
        ASSERT_TRUE(o.done) << o.error;
        EXPECT_EQ(o.taken, header.size());
        EXPECT_FALSE(o.header.has_addresses);
    }
}

TEST(ProxyHeaderV2, UnspecifiedAndUnixFamiliesHaveNoAddresses) {
    for (const std::string& header : {v2(0x21, 0x00, ""), v2(0x21, 0x31, std::string(216, '\0'))}) {
        const auto o = run(header);
        ASSERT_TRUE(o.done) << o.error;
        EXPECT_FALSE(o.header.has_addresses);
    }
}

TEST(ProxyHeaderV2, HeaderAtTheSizeLimitIsAcceptedOneMoreIsNot) {
    const std::string filler = tlv(0x04, std::string(4096 - 16 - 12 - 3, '\0'));
    const std::string at_limit = v2(0x21, 0x11, tcp4_block + filler);
    ASSERT_EQ(at_limit.size(), 4096u);
    EXPECT_TRUE(run(at_limit).done);
    const std::string over = v2(0x21, 0x11, tcp4_block + filler + "\x04\0\0"s);
    const auto o = run(over);
    EXPECT_FALSE(o.done);
    EXPECT_EQ(o.error, "PROXY v2 header: 4099 octets, more than the 4096 accepted");
    // Refused as soon as the length is known: nothing of the block is read.
    EXPECT_EQ(o.taken, 16u);
}

TEST(ProxyHeaderV2, RefusesMalformedHeaders) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {v2(0x11, 0x11, tcp4_block), "version 1 in the binary form"},
        {v2(0x22, 0x11, tcp4_block), "command 2"},
        {v2(0x21, 0x12, tcp4_block), "UDP over IPv4"},
        {v2(0x21, 0x22, tcp6_block), "UDP over IPv6"},
        {v2(0x21, 0x41, tcp4_block), "family 4"},
        {v2(0x21, 0x13, tcp4_block), "protocol 3"},
        {v2(0x21, 0x11, tcp4_block.substr(0, 11)), "TCP4 block too short"},
        {v2(0x21, 0x21, tcp6_block.substr(0, 35)), "TCP6 block too short"},
        {v2(0x21, 0x11, tcp4_block + "\x01\x00"), "TLV header cut"},
        {v2(0x21, 0x11, tcp4_block + "\x01\x00\x05" + "abc"), "TLV longer than the block"},
        {"\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c"s + tcp4_block, "bad signature"},
    };
    for (const auto& [input, what] : cases) {
        const auto o = run(input);
        EXPECT_FALSE(o.done) << what;
        EXPECT_FALSE(o.error.empty()) << what;
        EXPECT_LE(o.taken, input.size()) << what;
    }
}

TEST(ProxyHeaderV2, TruncatedHeaderKeepsAskingForItsRest) {
    const std::string header = v2(0x21, 0x11, tcp4_block);
    for (std::size_t cut = 0; cut < header.size(); ++cut) {
        proxy_header_reader r;
        read_header(r, std::string_view(header).substr(0, cut), 1);
        EXPECT_FALSE(r.done()) << cut;
        EXPECT_FALSE(r.failed()) << cut;
        EXPECT_GT(r.bytes_needed(), 0u) << cut;
        EXPECT_LE(r.bytes_needed(), header.size() - cut) << cut;
    }
}

// -------------------------------------------------------------------------------------
// Neither version

TEST(ProxyHeader, GarbageAndPop3CommandsAreRefused) {
    for (const std::string& input :
         {"USER alice\r\nPASS x\r\n"s, "GET / HTTP/1.0\r\n\r\n"s,
          "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00\x00\x00\x00"s,
          std::string(64, '\0'), "PROXY"s + std::string(20, '\r')}) {
        const auto o = run(input);
        EXPECT_FALSE(o.done);
        EXPECT_FALSE(o.error.empty());
    }
    proxy_header_reader r;
    read_header(r, "USER alice\r\nPASS x\r\n", 100);
    EXPECT_EQ(r.error(),
              "not a PROXY protocol header (neither v1 \"PROXY \" nor the v2 signature)");
}

TEST(ProxyHeader, AsksForNoMoreThanTheShortestHeaderFirst) {
    // A v1 "PROXY UNKNOWN\r\n" is 15 octets: reading more at first could swallow POP3 bytes.
    proxy_header_reader r;
    EXPECT_EQ(r.bytes_needed(), 15u);
    const std::string header = "PROXY UNKNOWN\r\n";
    EXPECT_EQ(r.feed(header + "CAPA\r\n"), 15u);
    EXPECT_TRUE(r.done());
    EXPECT_EQ(r.bytes_needed(), 0u);
    EXPECT_EQ(r.feed("more"), 0u);
}

}  // namespace
}  // namespace izypop3::test
