// method querystore: the listing of a store with each item's From, Subject and Date, and the
// terminal-safe text it is printed with.

#include "cli/cli.hpp"
#include "querystore/item_headline.hpp"
#include "common/terminal_text.hpp"

#include <izypop3/store/fake_store.hpp>

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace app = izypop3::app;
namespace store = izypop3::store;

namespace {

struct outcome {
    int code = -1;
    std::string out;
    std::string err;
};

outcome run(std::vector<std::string> args) {
    std::ostringstream out, err;
    outcome o;
    o.code = app::run_cli(args, out, err);
    o.out = out.str();
    o.err = err.str();
    return o;
}

store::item added(store::fake_store& s, std::string guid, std::string_view payload) {
    store::item meta;
    meta.guid = std::move(guid);
    EXPECT_TRUE(store::add_item(s, meta, payload));
    store::query_options q;
    q.limit = store::query_options::unlimited;
    auto r = s.query(q);
    EXPECT_TRUE(r);
    return r->items.back();
}

}  // namespace

TEST(terminal_text, keeps_utf8_and_escapes_controls) {
    EXPECT_EQ(app::terminal_safe("caf\xC3\xA9"), "caf\xC3\xA9");
    EXPECT_EQ(app::terminal_safe("a\x1B[31mb"), "a\\x1B[31mb");
    EXPECT_EQ(app::terminal_safe("\xC2\x9B"), "\\xC2\\x9B");    // C1 control U+009B
    EXPECT_EQ(app::terminal_safe("\xFF\xC3"), "\\xFF\\xC3");    // not UTF-8
    EXPECT_EQ(app::terminal_safe("\xED\xA0\x80"), "\\xED\\xA0\\x80");  // a surrogate
    EXPECT_EQ(app::terminal_safe("\x7F"), "\\x7F");
}

TEST(terminal_text, cuts_on_a_character_boundary) {
    EXPECT_EQ(app::terminal_safe("abcdef", 6), "abcdef");
    EXPECT_EQ(app::terminal_safe("abcdefg", 6), "abc...");
    EXPECT_EQ(app::terminal_safe("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", 5),
              "\xC3\xA9\xC3\xA9...");
    EXPECT_EQ(app::terminal_safe("ab\x01" "cdef", 6), "ab...");
}

TEST(item_headline, decodes_from_and_subject_and_keeps_date) {
    store::fake_store s({.count = 0});
    const auto it = added(s, "m1",
                          "From: =?utf-8?Q?Ren=C3=A9e?= <r@example.org>\r\n"
                          "Subject: =?iso-8859-1?q?caf=E9?=\r\n =?utf-8?B?Zm9v?=\r\n"
                          "Date: Tue, 1 Oct 2024 10:00:00 +0000\r\n\r\n"
                          "Subject: not this one\r\n");
    const auto h = app::read_headline(s, it);
    EXPECT_EQ(h.problem, "");
    EXPECT_EQ(h.from, "Ren\xC3\xA9" "e <r@example.org>");
    EXPECT_EQ(h.subject, "caf\xC3\xA9" "foo");
    EXPECT_EQ(h.date, "Tue, 1 Oct 2024 10:00:00 +0000");
}

TEST(item_headline, reads_only_the_header_and_survives_a_missing_item) {
    store::fake_store s({.count = 0});
    auto it = added(s, "m1", "Subject: x\n\n" + std::string(1 << 20, 'b'));
    EXPECT_EQ(app::read_headline(s, it, 100).subject, "x");
    // A header longer than the cap: the fields before the cut are still found.
    auto long_head = added(s, "m2", "Subject: y\r\nX-Long: " + std::string(5000, 'z') + "\r\n");
    EXPECT_EQ(app::read_headline(s, long_head, 1000).subject, "y");
    ASSERT_FALSE(s.remove(it));
    const auto gone = app::read_headline(s, it);
    EXPECT_NE(gone.problem.find("cannot open"), std::string::npos) << gone.problem;
}

TEST(querystore, lists_items_with_from_and_subject) {
    const outcome o = run({"method", "querystore", "query.limit", "2", "mimestore.count", "3"});
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_EQ(o.err, "");
    std::istringstream lines(o.out);
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line.rfind("store fake: 3 items (", 0), 0u) << line;
    EXPECT_NE(line.find("); showing 2"), std::string::npos) << line;
    std::getline(lines, line);
    EXPECT_EQ(line.rfind("GUID  ", 0), 0u) << line;
    std::getline(lines, line);
    EXPECT_EQ(line.rfind("guid_1  ", 0), 0u) << line;
    EXPECT_NE(line.find("Fake message 1 ("), std::string::npos) << line;
    EXPECT_NE(line.find("unread"), std::string::npos) << line;
    std::getline(lines, line);
    EXPECT_EQ(line.rfind("guid_2  ", 0), 0u) << line;
    EXPECT_FALSE(std::getline(lines, line));
}

TEST(querystore, json_has_the_header_fields) {
    const outcome o = run({"method", "querystore", "query.limit", "1", "query.order", "desc",
                           "mimestore.count", "3", "format", "json"});
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_EQ(o.out.rfind(R"({"store":"fake","tags":[],"limit":1,"count":3,)", 0), 0u) << o.out;
    EXPECT_NE(o.out.find(R"("guid":"guid_3")"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find(R"("subject":"Fake message 3 ()"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find(R"("from":"Fake Sender )"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find(R"("date":")"), std::string::npos) << o.out;
}

TEST(querystore, explains_an_empty_tag_match_and_a_bad_store) {
    const outcome o = run({"method", "querystore", "query.tags", "abc", "mimestore.count", "2"});
    EXPECT_EQ(o.code, 0);
    EXPECT_EQ(o.out,
              "store fake: 0 items (0 octets); showing 0\n"
              "no item carries every tag in [abc]; the fake store's items are tagged 'unread'\n");
    const outcome bad = run({"method", "querystore", "mimestore.modhandler", "nosuch"});
    EXPECT_EQ(bad.code, 2);
    EXPECT_NE(bad.err.find("names no known store: 'nosuch'"), std::string::npos) << bad.err;
}
