// What makes the directory stores tag a message conversionerror: NUL octets anywhere, or a
// header section that ends in the middle of a line; however the octets are split into
// chunks.

#include "../../../libmimestore/src/conversion_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using izypop3::store::detail::conversion_check;

// The verdict on `message` fed in chunks of `size` octets.
std::string verdict(std::string_view message, std::size_t size) {
    conversion_check c;
    for (std::size_t at = 0; at < message.size(); at += size) c.add(message.substr(at, size));
    return std::string(c.problem());
}

void expect_verdict(std::string_view message, std::string_view want) {
    for (std::size_t size : {1u, 2u, 3u, 7u, 4096u}) {
        EXPECT_EQ(verdict(message, size), want)
            << "chunks of " << size << ": " << ::testing::PrintToString(std::string(message));
    }
}

TEST(ConversionCheck, OrdinaryMessagesPass) {
    expect_verdict("Subject: a\r\n\r\nbody\r\n", "");
    expect_verdict("Subject: a\n\nbody without a final line end", "");
    expect_verdict("Subject: headers only\r\n", "");
    expect_verdict("\r\nno header section at all", "");
    expect_verdict("", "");
    expect_verdict("Subject: a\r\n\r\n8-bit \xff\xfe and a lone \r in the body", "");
}

TEST(ConversionCheck, NulOctetsAnywhereFail) {
    const std::string in_body("Subject: a\r\n\r\nb\0dy\r\n", 20);
    const std::string in_header("Subj\0ct: a\r\n\r\nbody\r\n", 20);
    const std::string last(std::string("Subject: a\r\n\r\nbody\r\n") + '\0');
    expect_verdict(in_body, "NUL octets");
    expect_verdict(in_header, "NUL octets");
    expect_verdict(last, "NUL octets");
}

TEST(ConversionCheck, AHeaderSectionCutOffMidLineFails) {
    expect_verdict("Subject: a\r\nFrom: b", "the header section ends in the middle of a line");
    expect_verdict("Subject", "the header section ends in the middle of a line");
    // A lone CR is not an empty line's end: the header section is still open.
    expect_verdict("Subject: a\r\n\r", "the header section ends in the middle of a line");
}

}  // namespace
