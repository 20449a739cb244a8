#include <izypop3/core/base64.hpp>
#include <izypop3/core/errc.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace core = izypop3::core;
using namespace std::string_literals;

namespace {

// RFC 4648 section 10.
const std::vector<std::pair<std::string, std::string>> rfc4648_vectors = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

}  // namespace

TEST(Base64, EncodesRfc4648Vectors) {
    for (const auto& [plain, encoded] : rfc4648_vectors)
        EXPECT_EQ(core::base64_encode(plain), encoded) << plain;
}

TEST(Base64, DecodesRfc4648Vectors) {
    for (const auto& [plain, encoded] : rfc4648_vectors) {
        auto r = core::base64_decode(encoded);
        ASSERT_TRUE(r) << encoded;
        EXPECT_EQ(*r, plain);
    }
}

TEST(Base64, RoundTripsEveryOctetValue) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t len = 0; len <= all.size(); len += 37) {
        const std::string in = all.substr(0, len) + "\0\xff"s.substr(0, len % 3);
        auto r = core::base64_decode(core::base64_encode(in));
        ASSERT_TRUE(r);
        EXPECT_EQ(*r, in);
    }
    EXPECT_EQ(core::base64_encode("\0\0\0"s), "AAAA");
    EXPECT_EQ(core::base64_encode("\xff\xff\xff"s), "////");
    EXPECT_EQ(core::base64_encode("\xfb\xef"s), "++8=");
}

TEST(Base64, RejectsMalformedInput) {
    const std::vector<std::string> bad = {
        "=",         // RFC 5034's empty response is the caller's business
        "Zg",        // missing padding
        "Zg=",       // short padding
        "Zg===",     // too much padding
        "====",      // padding only
        "Z===",      // three pad characters
        "Zm9v\r\n",  // whitespace
        "Zm 9v",     // inner space
        " Zm9v",     // leading space
        "Zg==Zg==",  // padding in the middle
        "Zg=a",      // '=' before a data character
        "Zm9v=",     // padding after a full quantum
        "Zh==",      // non-zero pad bits (RFC 4648 section 3.5)
        "Zm9=",      // non-zero pad bits, one '='
        "-_-_",      // URL-safe alphabet is not accepted
        "Zm9\0"s,    // NUL
        "Zm9\xc3"s,  // non-ASCII
    };
    for (const auto& b : bad) {
        auto r = core::base64_decode(b);
        ASSERT_FALSE(r) << "accepted: " << b;
        EXPECT_EQ(r.error(), core::errc::bad_base64);
    }
}
