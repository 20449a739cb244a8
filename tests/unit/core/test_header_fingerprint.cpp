// Ids for servers without UIDL (issue 18 item 2): the fingerprint of a header section.

#include <izypop3/core/crypto.hpp>
#include <izypop3/core/header_fingerprint.hpp>
#include <izypop3/core/maildrop_listing.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace izypop3::test {
namespace {

TEST(HeaderFingerprint, IsSha256OfTheHeaderSectionAndAValidUid) {
    const std::string header = "Message-ID: <1@x>\r\nSubject: a\r\n\r\n";
    const std::string id = core::header_fingerprint(header + "body\r\n");
    const std::string section = "Message-ID: <1@x>\r\nSubject: a\r\n";
    EXPECT_EQ(id, "hdr-" + core::to_hex(core::digest(core::hash_algorithm::sha256, section)));
    EXPECT_EQ(id.size(), 68u);
    EXPECT_TRUE(core::is_rfc1939_uid(id));
    // TOP n 0 and RETR of the same message give the same id: the body does not count.
    EXPECT_EQ(core::header_fingerprint(header), id);
    EXPECT_EQ(core::header_fingerprint(header + "other body\r\n"), id);
}

TEST(HeaderFingerprint, SameMessageIdOtherHeadersDiffer) {
    // Message-ID alone is not enough: mailing list copies and resent messages share one.
    const auto a = core::header_fingerprint("Message-ID: <1@x>\r\nSubject: a\r\n\r\n");
    const auto b = core::header_fingerprint("Message-ID: <1@x>\r\nSubject: b\r\n\r\n");
    EXPECT_NE(a, b);
}

TEST(HeaderFingerprint, RepeatedIdsAreNumberedInServerOrder) {
    std::vector<std::string> ids{"hdr-a", "hdr-b", "hdr-a", "hdr-a", "hdr-c", "hdr-b"};
    core::number_repeated_ids(ids);
    EXPECT_EQ(ids, (std::vector<std::string>{"hdr-a", "hdr-b", "hdr-a-2", "hdr-a-3", "hdr-c",
                                             "hdr-b-2"}));
}

TEST(MaildropListing, UidlRefusedGoesOnWithoutUids) {
    core::maildrop_listing l(10, true);
    ASSERT_TRUE(l.stat(2, 30));
    ASSERT_TRUE(l.size(1, 10));
    ASSERT_TRUE(l.drop_uids());
    ASSERT_TRUE(l.size(2, 20));
    ASSERT_TRUE(l.finish()) << l.problem();
    ASSERT_EQ(l.messages().size(), 2u);
    EXPECT_EQ(l.messages()[1].uid, "");
}

TEST(MaildropListing, UidlRefusedAfterEntriesIsNotBelieved) {
    core::maildrop_listing l(10, true);
    ASSERT_TRUE(l.stat(2, 30));
    ASSERT_TRUE(l.uid(1, "a"));
    EXPECT_FALSE(l.drop_uids());
    EXPECT_FALSE(l.ok());
}

}  // namespace
}  // namespace izypop3::test
