// Header fields and RFC 2047 encoded-words, as querystore shows From and Subject.

#include <izypop3/core/encoded_words.hpp>
#include <izypop3/core/header_field.hpp>

#include <gtest/gtest.h>

#include <string>

using izypop3::core::decode_encoded_words;
using izypop3::core::find_header_field;
using izypop3::core::header_section;

TEST(HeaderSection, EndsAtTheFirstEmptyLine) {
    EXPECT_EQ(header_section("A: 1\r\nB: 2\r\n\r\nbody\r\n"), "A: 1\r\nB: 2\r\n");
    EXPECT_EQ(header_section("A: 1\nB: 2\n\nbody\n"), "A: 1\nB: 2\n");
    EXPECT_EQ(header_section("A: 1\r\n"), "A: 1\r\n");
    EXPECT_EQ(header_section("\r\nbody"), "");
}

TEST(HeaderField, FindsTheFirstFieldCaseInsensitivelyAndUnfolds) {
    const std::string h =
        "Received: x\r\nSUBJECT:  first\r\n  continued\r\n\tand more \r\nSubject: second\r\n";
    EXPECT_EQ(find_header_field(h, "subject"), "first  continued\tand more");
    EXPECT_EQ(find_header_field(h, "Received"), "x");
    EXPECT_EQ(find_header_field(h, "From"), std::nullopt);
}

TEST(HeaderField, IgnoresContinuationLinesAndBodyLookalikes) {
    // A folded line that looks like a field is part of the previous field.
    const std::string h = "X-A: a\r\n From: not a field\r\nFrom: real\r\n";
    EXPECT_EQ(find_header_field(h, "From"), "real");
    EXPECT_EQ(find_header_field("From : spaced\n", "from"), "spaced");
    EXPECT_EQ(find_header_field("From:\r\n", "from"), "");
}

TEST(EncodedWords, DecodesQAndBInUtf8) {
    EXPECT_EQ(decode_encoded_words("=?utf-8?Q?caf=C3=A9_au_lait?="), "caf\xC3\xA9 au lait");
    EXPECT_EQ(decode_encoded_words("=?UTF-8?B?Y2Fmw6k=?="), "caf\xC3\xA9");
    EXPECT_EQ(decode_encoded_words("=?utf-8?b?Y2Fmw6k?="), "caf\xC3\xA9");  // no padding
}

TEST(EncodedWords, DecodesLongBWordsWithAndWithoutPadding) {
    // Past five base64 characters the accumulator would shift its old bits out of 32; only
    // the bits not yet output may be kept (the fuzzers' integer checks found the wrap).
    const std::string text =
        "A subject long enough to run the base64 accumulator past 32 bits, twice over: 0123456789";
    EXPECT_EQ(decode_encoded_words("=?UTF-8?B?QSBzdWJqZWN0IGxvbmcgZW5vdWdoIHRvIHJ1biB0aGUgYmFzZTY0IGFjY3VtdWxhdG9yIHBhc3QgMzIgYml0cywgdHdpY2Ugb3ZlcjogMDEyMzQ1Njc4OQ==?="), text);
    EXPECT_EQ(decode_encoded_words("=?UTF-8?B?QSBzdWJqZWN0IGxvbmcgZW5vdWdoIHRvIHJ1biB0aGUgYmFzZTY0IGFjY3VtdWxhdG9yIHBhc3QgMzIgYml0cywgdHdpY2Ugb3ZlcjogMDEyMzQ1Njc4OQ?="), text);
}

TEST(EncodedWords, ConvertsLatin1AndWindows1252) {
    EXPECT_EQ(decode_encoded_words("=?iso-8859-1?q?caf=E9?="), "caf\xC3\xA9");
    EXPECT_EQ(decode_encoded_words("=?windows-1252?Q?=80_=93x=94?="),
              "\xE2\x82\xAC \xE2\x80\x9Cx\xE2\x80\x9D");
    EXPECT_EQ(decode_encoded_words("=?windows-1252?Q?=81?="), "\xEF\xBF\xBD");
    EXPECT_EQ(decode_encoded_words("=?utf-8*en?Q?hi?="), "hi");  // RFC 2231 language
}

TEST(EncodedWords, DropsSpaceBetweenAdjacentWordsOnly) {
    EXPECT_EQ(decode_encoded_words("=?utf-8?Q?a?= =?utf-8?Q?b?="), "ab");
    EXPECT_EQ(decode_encoded_words("=?utf-8?Q?a?=\r\n =?utf-8?Q?b?="), "ab");
    EXPECT_EQ(decode_encoded_words("x =?utf-8?Q?a?= y"), "x a y");
    EXPECT_EQ(decode_encoded_words("=?utf-8?Q?a?=  "), "a  ");
    EXPECT_EQ(decode_encoded_words("=?utf-8?Q?a_?= =?utf-8?Q?_b?="), "a  b");
}

TEST(EncodedWords, LeavesWhatItCannotDecodeAsWritten) {
    for (const char* raw : {"=?koi8-r?Q?abc?=", "=?utf-8?X?abc?=", "=?utf-8?Q?a=ZZ?=",
                            "=?utf-8?Q?a=4?=", "=?utf-8?B?a?=", "=?utf-8?B?a!bc?=",
                            "=?utf-8?Q?a b?=", "=??Q?a?=", "=?utf-8?Q?abc", "=?", "plain text",
                            "=?utf-8?Q?abc?"}) {
        EXPECT_EQ(decode_encoded_words(raw), raw) << raw;
    }
    const std::string long_word = "=?utf-8?Q?" + std::string(2000, 'a') + "?=";
    EXPECT_EQ(decode_encoded_words(long_word), long_word);
}

TEST(EncodedWords, MixesDecodedAndUndecodableWords) {
    EXPECT_EQ(decode_encoded_words("=?utf-8?Q?ok?= =?bad?Q?x?= =?utf-8?Q?ok?="),
              "ok =?bad?Q?x?= ok");
}
