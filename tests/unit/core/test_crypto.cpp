#include <izypop3/core/crypto.hpp>
#include <izypop3/core/random_source.hpp>

#include <gtest/gtest.h>

#include <string>

namespace core = izypop3::core;
using core::hash_algorithm;
using namespace std::string_literals;

namespace {

std::string hex_digest(hash_algorithm a, std::string_view s) {
    return core::to_hex(core::digest(a, s));
}

std::string hex_hmac(hash_algorithm a, std::string_view k, std::string_view s) {
    return core::to_hex(core::hmac(a, k, s));
}

}  // namespace

TEST(Crypto, ToHexIsLowerCase) {
    EXPECT_EQ(core::to_hex(""), "");
    EXPECT_EQ(core::to_hex("\x00\x0f\xa0\xff"s), "000fa0ff");
}

TEST(Crypto, DigestVectors) {
    // RFC 1321 appendix A.5; FIPS 180-2 appendix examples ("abc").
    EXPECT_EQ(hex_digest(hash_algorithm::md5, ""), "d41d8cd98f00b204e9800998ecf8427e");
    EXPECT_EQ(hex_digest(hash_algorithm::md5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
    EXPECT_EQ(hex_digest(hash_algorithm::sha1, "abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    EXPECT_EQ(hex_digest(hash_algorithm::sha1, ""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(hex_digest(hash_algorithm::sha256, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex_digest(hash_algorithm::sha512, "abc"),
              "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
              "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(Crypto, HmacRfc2202AndRfc4231) {
    // RFC 2202 test case 1 (MD5) and 2 (MD5, SHA-1); RFC 4231 test case 2 (SHA-256/512).
    EXPECT_EQ(hex_hmac(hash_algorithm::md5, std::string(16, '\x0b'), "Hi There"),
              "9294727a3638bb1c13f48ef8158bfc9d");
    EXPECT_EQ(hex_hmac(hash_algorithm::md5, "Jefe", "what do ya want for nothing?"),
              "750c783e6ab0b503eaa86e310a5db738");
    EXPECT_EQ(hex_hmac(hash_algorithm::sha1, "Jefe", "what do ya want for nothing?"),
              "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    EXPECT_EQ(hex_hmac(hash_algorithm::sha256, "Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hex_hmac(hash_algorithm::sha256, std::string(20, '\x0b'), "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(hex_hmac(hash_algorithm::sha512, "Jefe", "what do ya want for nothing?"),
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737");
}

TEST(Crypto, Pbkdf2Rfc6070) {
    EXPECT_EQ(core::to_hex(core::pbkdf2(hash_algorithm::sha1, "password", "salt", 1)),
              "0c60c80f961f0e71f3a9b524af6012062fe037a6");
    EXPECT_EQ(core::to_hex(core::pbkdf2(hash_algorithm::sha1, "password", "salt", 2)),
              "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    EXPECT_EQ(core::to_hex(core::pbkdf2(hash_algorithm::sha1, "password", "salt", 4096)),
              "4b007901b765489abead49d926f721d065a429c1");
    // The output is one hash long, whatever the hash.
    EXPECT_EQ(core::to_hex(core::pbkdf2(hash_algorithm::sha256, "password", "salt", 1)),
              "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
    EXPECT_THROW((void)core::pbkdf2(hash_algorithm::sha1, "p", "s", 0), std::invalid_argument);
}

TEST(Crypto, EqualConstantTime) {
    EXPECT_TRUE(core::equal_constant_time("", ""));
    EXPECT_TRUE(core::equal_constant_time("abc\0d"s, "abc\0d"s));
    EXPECT_FALSE(core::equal_constant_time("abc", "abd"));
    EXPECT_FALSE(core::equal_constant_time("abc", "ab"));
    EXPECT_FALSE(core::equal_constant_time("", "a"));
    EXPECT_FALSE(core::equal_constant_time("xbc", "abc"));
}

TEST(Crypto, SystemRandomGivesTheAskedLengthAndVaries) {
    auto r = core::system_random();
    EXPECT_EQ(r(0).size(), 0u);
    const std::string a = r(32), b = r(32);
    EXPECT_EQ(a.size(), 32u);
    EXPECT_EQ(b.size(), 32u);
    EXPECT_NE(a, b);  // 2^-256 chance of a false failure
}
