// The metadata log of the directory stores: exact line format, round trips, torn and
// damaged lines ignored, incremental reads of what another writer appended, and a log
// replaced under the reader.

#include "../../../libmimestore/src/meta_log.hpp"
#include "dir_store_test_support.hpp"
#include "store_conformance.hpp"

namespace izypop3::store::detail {
namespace {

using test::fresh_dir;
using test::slurp;

add_line sample() {
    add_line a;
    a.name = "acct_g 1";
    a.guid = "g 1=%,#";
    a.source_id = "acct";
    a.fingerprint = std::string(64, 'a');
    a.size = 12;
    a.wire_size = 14;
    a.created_us = 1714566896123456;  // 2024-05-01T12:34:56.123456Z
    a.stored_us = 1714566897000001;
    a.tags = {"unread", "flagged"};
    return a;
}

TEST(MetaLog, TimesAreUtcWithMicroseconds) {
    EXPECT_EQ(format_utc_us(1714566896123456), "2024-05-01T12:34:56.123456Z");
    EXPECT_EQ(format_utc_us(0), "1970-01-01T00:00:00.000000Z");
    EXPECT_EQ(parse_utc_us("2024-05-01T12:34:56.123456Z"), 1714566896123456);
    EXPECT_FALSE(parse_utc_us("2024-05-01 12:34:56Z").has_value());
    EXPECT_FALSE(parse_utc_us("2024-13-01T12:34:56.000000Z").has_value());
    EXPECT_FALSE(parse_utc_us("").has_value());
}

TEST(MetaLog, LinesAreReadableAndPercentEncoded) {
    std::string line = format_add(sample());
    const std::string head =
        "add acct_g%201 guid=g%201%3D%25%2C%23 source=acct fp=" + std::string(64, 'a') +
        " size=12 wire=14 created=2024-05-01T12:34:56.123456Z "
        "stored=2024-05-01T12:34:57.000001Z tags=unread,flagged #";
    ASSERT_TRUE(line.starts_with(head)) << line;
    EXPECT_EQ(line.size(), head.size() + 8 + 1);
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.substr(head.size(), 8),
              test::conformance_sha256(line.substr(0, head.size() - 2)).substr(0, 8));
    EXPECT_TRUE(format_gone("x").starts_with("gone x #"));
    EXPECT_TRUE(format_tags("x", {"archive"}).starts_with("tags x tags=archive #"));
}

TEST(MetaLog, AppendThenFindRoundTrips) {
    std::string path = fresh_dir() + "/meta.log";
    meta_log log(path);
    ASSERT_EQ(log.refresh(), 0);  // a missing log is empty
    EXPECT_EQ(log.find("acct_g 1"), nullptr);
    ASSERT_EQ(log.append(format_add(sample()), true), 0);
    EXPECT_TRUE(slurp(path).starts_with("izypop3-meta 1\nadd "));
    const meta_record* r = log.find("acct_g 1");
    ASSERT_NE(r, nullptr);
    EXPECT_TRUE(r->has_item);
    EXPECT_EQ(r->guid, "g 1=%,#");
    EXPECT_EQ(r->source_id, "acct");
    EXPECT_EQ(r->size, 12u);
    EXPECT_EQ(r->wire_size, 14u);
    EXPECT_EQ(r->created_us, 1714566896123456);
    ASSERT_TRUE(r->tags.has_value());
    EXPECT_EQ(*r->tags, (std::vector<std::string>{"unread", "flagged"}));
    ASSERT_NE(log.names_with_guid("g 1=%,#"), nullptr);
    EXPECT_EQ(log.names_with_guid("g 1=%,#")->count("acct_g 1"), 1u);
    ASSERT_NE(log.names_with_fingerprint(std::string(64, 'a')), nullptr);

    ASSERT_EQ(log.append(format_tags("acct_g 1", {"archive"}), true), 0);
    EXPECT_EQ(*log.find("acct_g 1")->tags, std::vector<std::string>{"archive"});
    ASSERT_EQ(log.append(format_gone("acct_g 1"), true), 0);
    const meta_record* gone = log.find("acct_g 1");
    EXPECT_TRUE(gone == nullptr || !gone->has_item);
}

TEST(MetaLog, TornAndDamagedLinesAreIgnored) {
    std::string dir = fresh_dir();
    std::string path = dir + "/meta.log";
    {
        meta_log log(path);
        ASSERT_EQ(log.append(format_add(sample()), true), 0);
    }
    // A crash while appending: half a line, no newline.
    auto second = sample();
    second.name = "other";
    second.guid = "other";
    std::string torn = format_add(second);
    test::spit(path, slurp(path) + torn.substr(0, torn.size() / 2));
    meta_log log(path);
    ASSERT_EQ(log.refresh(), 0);
    EXPECT_EQ(log.find("other"), nullptr);
    // The next writer starts on a new line, so its record is not joined to the torn one.
    ASSERT_EQ(log.append(format_tags("acct_g 1", {"staged"}), true), 0);
    EXPECT_EQ(*log.find("acct_g 1")->tags, std::vector<std::string>{"staged"}) << slurp(path);
    // One damaged octet fails the line's check.
    std::string text = slurp(path);
    auto pos = text.find("tags=staged");
    text[pos + 5] = 'X';
    test::spit(path, text);
    meta_log reread(path);
    ASSERT_EQ(reread.refresh(), 0);
    EXPECT_EQ(*reread.find("acct_g 1")->tags, (std::vector<std::string>{"unread", "flagged"}));
    // The torn line is counted; the damaged one is the last line, which may still be being
    // written by another process, so it is only skipped for now.
    EXPECT_EQ(reread.bad_lines(), 1u);
}

TEST(MetaLog, ReadsWhatAnotherWriterAppendedAndAReplacedFile) {
    std::string path = fresh_dir() + "/meta.log";
    meta_log reader(path);
    meta_log writer(path);
    ASSERT_EQ(writer.append(format_add(sample()), true), 0);
    ASSERT_EQ(reader.refresh(), 0);
    ASSERT_NE(reader.find("acct_g 1"), nullptr);
    ASSERT_EQ(writer.append(format_tags("acct_g 1", {"archive"}), false), 0);
    ASSERT_EQ(reader.refresh(), 0);
    EXPECT_EQ(*reader.find("acct_g 1")->tags, std::vector<std::string>{"archive"});

    auto other = sample();
    other.name = "fresh";
    std::string replacement = path + ".new";
    {
        meta_log fresh(replacement);
        ASSERT_EQ(fresh.append(format_add(other), true), 0);
    }
    std::filesystem::rename(replacement, path);
    ASSERT_EQ(reader.refresh(), 0);
    EXPECT_EQ(reader.find("acct_g 1"), nullptr);
    EXPECT_NE(reader.find("fresh"), nullptr);
}

}  // namespace
}  // namespace izypop3::store::detail
