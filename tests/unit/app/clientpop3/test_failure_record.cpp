// The pop3failed record clientpop3 leaves for a message it could not fetch, and what the
// store holds from one account (issue 12, items 2 and 5), on the fake store.

#include "clientpop3/failure_record.hpp"
#include "clientpop3/store_holdings.hpp"

#include <izypop3/store/fake_store.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace {

using namespace izypop3;

store::fake_store empty_store() {
    store::fake_store_options o;
    o.count = 0;
    return store::fake_store(o);
}

TEST(FailureRecord, NoticeIsPrintableWithCrlfLinesAndSaysWhy) {
    app::failed_fetch f{"u\x1b[2J", "alice@pop.example.org", "alice", 7,
                        "the server sent more than 65638 octets\r\nX-Evil: 1"};
    const std::string notice = app::failure_notice(f);
    EXPECT_TRUE(std::all_of(notice.begin(), notice.end(), [](char c) {
        return c == '\r' || c == '\n' || (c >= 0x20 && c < 0x7f);
    })) << notice;
    EXPECT_EQ(notice.find("\n\n"), std::string::npos);
    for (std::size_t i = notice.find('\n'); i != std::string::npos; i = notice.find('\n', i + 1))
        EXPECT_EQ(notice[i - 1], '\r') << "bare LF at " << i;
    // The reason's line break cannot start a header of its own.
    EXPECT_EQ(notice.find("\r\nX-Evil"), std::string::npos) << notice;
    EXPECT_NE(notice.find("Subject: [pop3failed] u\\x1B[2J: the server sent more than 65638 "
                          "octets\\x0D\\x0AX-Evil: 1\r\n"),
              std::string::npos)
        << notice;
    EXPECT_NE(notice.find("message 7"), std::string::npos);
}

TEST(FailureRecord, IsAPop3failedItemThatHoldingsDoNotCountAsACopy) {
    auto s = empty_store();
    ASSERT_FALSE(app::record_failed_fetch(s, {"u2", "a@h", "a", 2, "refused"}));
    ASSERT_TRUE(store::add_item(
                    s,
                    [] {
                        store::item it;
                        it.guid = "u1";
                        it.source_id = "a@h";
                        it.mailbox = "a";
                        return it;
                    }(),
                    "one\r\n")
                    .has_value());
    ASSERT_TRUE(store::add_item(
                    s,
                    [] {
                        store::item it;
                        it.guid = "u3";
                        it.source_id = "other@h";  // another account's message
                        it.mailbox = "a";
                        return it;
                    }(),
                    "three\r\n")
                    .has_value());

    std::string problem;
    auto held = app::read_holdings(s, "a", "a@h", problem);
    ASSERT_TRUE(held.has_value()) << problem;
    EXPECT_TRUE(held->holds("u1"));
    EXPECT_TRUE(held->holds("u1", 5));
    EXPECT_FALSE(held->holds("u1", 6));
    EXPECT_FALSE(held->holds("u2"));  // only a record of a failure
    EXPECT_TRUE(held->failed.contains("u2"));
    EXPECT_FALSE(held->holds("u3"));  // not from this account

    // The message arriving later replaces the record.
    ASSERT_TRUE(store::add_item(
                    s,
                    [] {
                        store::item it;
                        it.guid = "u2";
                        it.source_id = "a@h";
                        it.mailbox = "a";
                        return it;
                    }(),
                    "two\r\n")
                    .has_value());
    held = app::read_holdings(s, "a", "a@h", problem);
    ASSERT_TRUE(held.has_value());
    EXPECT_TRUE(held->holds("u2", 5));
    EXPECT_FALSE(held->failed.contains("u2"));
}

}  // namespace
