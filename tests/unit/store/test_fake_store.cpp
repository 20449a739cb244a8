// The fake store: deterministic, size-exact RFC 5322 messages with the documented edge
// cases, query/add/mark/remove semantics, and its maildrop (locking, UIDs, deletions).

#include <izypop3/store/errc.hpp>
#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace izypop3;
using store::errc;
using store::fake_store;
using store::fake_store_options;
using store::item;
using store::query_options;

constexpr std::uint64_t small_big = 20000;

fake_store_options opts(std::uint64_t count = 99, std::uint64_t seed = 1,
                        std::uint64_t bigsize = small_big) {
    fake_store_options o;
    o.count = count;
    o.seed = seed;
    o.bigsize = bigsize;
    return o;
}

// Every item of `mailbox`; "" = every mailbox in use.
std::vector<item> all_items(store::mime_store& s, const std::string& mailbox = {}) {
    query_options q;
    q.limit = query_options::unlimited;
    q.mailbox = mailbox;
    auto r = s.query(q);
    EXPECT_TRUE(r.has_value());
    return r ? r->items : std::vector<item>{};
}

item by_guid(store::mime_store& s, const std::string& guid, const std::string& mailbox = {}) {
    for (auto& it : all_items(s, mailbox))
        if (it.guid == guid) return it;
    ADD_FAILURE() << "no item " << guid;
    return {};
}

std::string read_chunked(core::message_source& src, std::size_t chunk) {
    std::string out;
    std::vector<char> buf(chunk);
    for (;;) {
        auto n = src.read(buf);
        EXPECT_TRUE(n.has_value());
        if (!n || *n == 0) return out;
        EXPECT_LE(*n, chunk);
        out.append(buf.data(), *n);
    }
}

std::string payload(store::mime_store& s, const item& it) {
    auto r = store::read_all(s, it);
    EXPECT_TRUE(r.has_value()) << it.guid;
    return r ? *r : std::string();
}

std::string payload_of(store::mime_store& s, std::uint64_t index) {
    return payload(s, by_guid(s, "guid_" + std::to_string(index)));
}

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

// The body of a message (after the first blank line), or "" if there is no blank line.
std::string_view body_of(std::string_view msg) {
    auto p = msg.find("\r\n\r\n");
    return p == std::string_view::npos ? std::string_view() : msg.substr(p + 4);
}

TEST(FakeStore, GeneratesTheOriginalNamesAndMetadata) {
    fake_store s(opts());
    auto items = all_items(s);
    ASSERT_EQ(items.size(), 99u);
    for (std::size_t i = 0; i < items.size(); ++i) {
        EXPECT_EQ(items[i].guid, "guid_" + std::to_string(i + 1));
        EXPECT_EQ(items[i].source_id, "fake");
        EXPECT_EQ(items[i].tags, std::vector<std::string>{"unread"});
        EXPECT_EQ(items[i].mailbox, "");
        ASSERT_TRUE(items[i].message_time.has_value());
        EXPECT_GT(items[i].created, *items[i].message_time);
    }
    EXPECT_EQ(s.kind(), "fake");
}

TEST(FakeStore, SameSeedSameOctetsOtherSeedOtherOctets) {
    fake_store a(opts()), b(opts()), c(opts(99, 2));
    auto ia = all_items(a), ib = all_items(b), ic = all_items(c);
    ASSERT_EQ(ia.size(), 99u);
    ASSERT_EQ(ic.size(), 99u);
    for (std::size_t i = 0; i < ia.size(); ++i) {
        auto pa = payload(a, ia[i]);
        EXPECT_EQ(pa, payload(b, ib[i])) << ia[i].guid;
        EXPECT_EQ(ia[i].size, ib[i].size);
        EXPECT_NE(pa, payload(c, ic[i])) << ia[i].guid;
    }
}

TEST(FakeStore, EverySizeIsExactWhateverTheChunkSize) {
    fake_store s(opts(99, 7, 5 * 1024 * 1024));
    for (const auto& it : all_items(s)) {
        auto whole = payload(s, it);
        ASSERT_EQ(whole.size(), it.size) << it.guid;
        for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
            auto src = s.open_item(it);
            ASSERT_TRUE(src.has_value());
            auto got = read_chunked(**src, chunk);
            ASSERT_EQ(got.size(), it.size) << it.guid << " chunk " << chunk;
            ASSERT_EQ(got, whole) << it.guid << " chunk " << chunk;
        }
        // A further read after the end keeps answering 0.
        auto src = s.open_item(it);
        ASSERT_TRUE(src.has_value());
        read_chunked(**src, 65536);
        char c = 0;
        auto n = (*src)->read(std::span<char>(&c, 1));
        ASSERT_TRUE(n.has_value());
        EXPECT_EQ(*n, 0u);
    }
}

TEST(FakeStore, SizesFollowTheDocumentedRuleAndVary) {
    fake_store s(opts(99, 1));
    std::set<std::uint64_t> sizes;
    for (const auto& it : all_items(s)) {
        if (it.guid == "guid_6") continue;
        EXPECT_GE(it.size, 600u) << it.guid;
        if (it.guid != "guid_4") {
            EXPECT_LE(it.size, 4096u) << it.guid;
        }
        sizes.insert(it.size);
    }
    EXPECT_GT(sizes.size(), 60u);
}

TEST(FakeStore, EveryMessageIsHeadersBlankLineBodyWithCrlf) {
    fake_store s(opts());
    for (const auto& it : all_items(s)) {
        auto msg = payload(s, it);
        auto blank = msg.find("\r\n\r\n");
        ASSERT_NE(blank, std::string::npos) << it.guid;
        std::string_view head(msg.data(), blank + 2);
        for (auto h : {"Date: ", "From: ", "To: ", "Subject: ", "Message-ID: ",
                       "MIME-Version: 1.0\r\n", "Content-Type: text/plain; charset="}) {
            EXPECT_TRUE(head.starts_with(h) || contains(head, std::string("\r\n") + h))
                << it.guid << " lacks " << h;
        }
        // Header lines are "Name: value", ASCII, at most 998 octets (RFC 5322 2.1.1).
        std::size_t pos = 0;
        while (pos < head.size()) {
            auto eol = head.find("\r\n", pos);
            auto line = head.substr(pos, eol - pos);
            EXPECT_LE(line.size(), 998u);
            EXPECT_NE(line.find(": "), std::string_view::npos) << line;
            for (char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << it.guid;
            pos = eol + 2;
        }
        // CRLF everywhere: no bare CR, no bare LF, no NUL.
        for (std::size_t i = 0; i < msg.size(); ++i) {
            if (msg[i] == '\r') {
                ASSERT_TRUE(i + 1 < msg.size() && msg[i + 1] == '\n') << it.guid;
            }
            if (msg[i] == '\n') {
                ASSERT_TRUE(i > 0 && msg[i - 1] == '\r') << it.guid;
            }
            ASSERT_NE(msg[i], '\0') << it.guid;
        }
        bool ends_crlf = msg.ends_with("\r\n");
        if (it.guid == "guid_5") {
            EXPECT_FALSE(ends_crlf);
            EXPECT_EQ(it.wire_size, it.size + 2);
        } else {
            EXPECT_TRUE(ends_crlf) << it.guid;
            EXPECT_EQ(it.wire_size, it.size) << it.guid;
        }
    }
}

TEST(FakeStore, MessageIdsAndDatesAreUniqueAndWellFormed) {
    fake_store s(opts(30));
    std::set<std::string> ids;
    for (const auto& it : all_items(s)) {
        auto msg = payload(s, it);
        auto p = msg.find("\r\nMessage-ID: <");
        ASSERT_NE(p, std::string::npos);
        ids.insert(msg.substr(p, msg.find("\r\n", p + 2) - p));
    }
    EXPECT_EQ(ids.size(), 30u);
    // 2024-01-01T00:00:00Z + 1 hour + h%3600 for message 1: a Monday in January 2024.
    auto first = payload_of(s, 1);
    EXPECT_TRUE(first.starts_with("Date: Mon, 01 Jan 2024 01:")) << first.substr(0, 40);
    EXPECT_TRUE(contains(first.substr(0, 40), " +0000\r\n"));
}

TEST(FakeStore, EdgeCaseLeadingDots) {
    fake_store s(opts());
    auto msg = payload_of(s, store::fake_edge::leading_dots);
    auto body = body_of(msg);
    EXPECT_TRUE(contains(body, "\r\n.This line starts with one dot.\r\n"));
    EXPECT_TRUE(contains(body, "\r\n..This line starts with two dots.\r\n"));
}

TEST(FakeStore, EdgeCaseLoneDotLines) {
    fake_store s(opts());
    auto msg = payload_of(s, store::fake_edge::lone_dot);
    auto body = body_of(msg);
    EXPECT_TRUE(contains(body, "\r\n.\r\n..\r\n"));
    EXPECT_TRUE(msg.ends_with("\r\n.\r\n"));
}

TEST(FakeStore, EdgeCaseEightBit) {
    fake_store s(opts());
    auto msg = payload_of(s, store::fake_edge::eight_bit);
    EXPECT_TRUE(contains(msg, "\r\nContent-Type: text/plain; charset=utf-8\r\n"));
    EXPECT_TRUE(contains(msg, "\r\nContent-Transfer-Encoding: 8bit\r\n"));
    auto body = body_of(msg);
    EXPECT_TRUE(contains(body, "caf\xc3\xa9"));                      // UTF-8 e-acute
    EXPECT_TRUE(contains(body, "\xf0\x9f\x98\x80"));                 // a 4-octet sequence
    EXPECT_TRUE(contains(body, "caf\xe9 gr\xfc\xdf"));               // Latin-1: invalid UTF-8
    std::string all_high;
    for (int c = 0xa0; c <= 0xff; ++c) all_high.push_back(static_cast<char>(c));
    EXPECT_TRUE(contains(body, all_high));
    // The other messages stay 7-bit.
    for (std::uint64_t i : {1, 2, 4, 5, 6, 7, 50}) {
        auto other = payload_of(s, i);
        EXPECT_TRUE(std::all_of(other.begin(), other.end(),
                                [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
            << i;
    }
}

TEST(FakeStore, EdgeCaseLongLine) {
    fake_store s(opts());
    auto msg = payload_of(s, store::fake_edge::long_line);
    std::size_t longest = 0, pos = 0;
    while (pos < msg.size()) {
        auto eol = msg.find("\r\n", pos);
        longest = std::max(longest, eol - pos);
        pos = eol + 2;
    }
    EXPECT_EQ(longest, 1200u);
}

TEST(FakeStore, EdgeCaseNoFinalCrlf) {
    fake_store s(opts());
    auto it = by_guid(s, "guid_5");
    auto msg = payload(s, it);
    EXPECT_TRUE(msg.ends_with("\r\nThis last line has no line break."));
    EXPECT_EQ(msg.size(), it.size);
    EXPECT_EQ(it.wire_size, it.size + 2);
}

TEST(FakeStore, EdgeCaseBigMessageHasExactlyBigsizeOctets) {
    for (std::uint64_t big : {std::uint64_t{4096}, std::uint64_t{4097}, std::uint64_t{100001},
                              std::uint64_t{5 * 1024 * 1024}}) {
        fake_store s(opts(10, 1, big));
        auto it = by_guid(s, "guid_6");
        EXPECT_EQ(it.size, big);
        EXPECT_EQ(it.wire_size, big);
        auto src = s.open_item(it);
        ASSERT_TRUE(src.has_value());
        auto msg = read_chunked(**src, 1000);
        ASSERT_EQ(msg.size(), big);
        EXPECT_TRUE(msg.ends_with("\r\n"));
        EXPECT_TRUE(contains(msg, "\r\nSubject: Fake message 6 "));
        // Body lines are at most 79 octets and look like "NNNNNNNNNN LETTERS".
        auto body = body_of(msg);
        EXPECT_TRUE(contains(body, "\r\n0000000001 "));
        std::size_t pos = 0;
        while (pos < body.size()) {
            auto eol = body.find("\r\n", pos);
            ASSERT_NE(eol, std::string_view::npos);
            ASSERT_LE(eol - pos, 77u);
            pos = eol + 2;
        }
    }
}

TEST(FakeStore, SmallCountsKeepTheLowestEdgeCases) {
    fake_store s(opts(3));
    auto items = all_items(s);
    ASSERT_EQ(items.size(), 3u);
    EXPECT_TRUE(contains(payload(s, items[0]), "\r\n..This line starts with two dots."));
    EXPECT_TRUE(payload(s, items[1]).ends_with("\r\n.\r\n"));
    EXPECT_TRUE(contains(payload(s, items[2]), "charset=utf-8"));

    fake_store empty(opts(0));
    EXPECT_TRUE(all_items(empty).empty());
}

TEST(FakeStore, QueryCountsAllMatchesButReturnsAtMostLimit) {
    fake_store s(opts());
    std::uint64_t sum = 0;
    for (const auto& it : all_items(s)) sum += it.size;

    query_options q;
    q.tags = {"unread"};
    q.limit = 2;
    auto r = s.query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 99u);
    EXPECT_EQ(r->total_size, sum);
    ASSERT_EQ(r->items.size(), 2u);
    EXPECT_EQ(r->items[0].guid, "guid_1");
    EXPECT_EQ(r->items[1].guid, "guid_2");

    q.order_by = query_options::order::desc;
    r = s.query(q);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->items.size(), 2u);
    EXPECT_EQ(r->items[0].guid, "guid_99");
    EXPECT_EQ(r->items[1].guid, "guid_98");

    q.limit = 0;
    r = s.query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 99u);
    EXPECT_TRUE(r->items.empty());

    q.tags = {"abc"};
    q.limit = 10;
    r = s.query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 0u);
    EXPECT_EQ(r->total_size, 0u);
    EXPECT_TRUE(r->items.empty());

    q.tags = {"unread", "abc"};  // all tags must match
    r = s.query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 0u);

    // Every user name has its own copy of the generated messages.
    q.tags = {};
    q.mailbox = "nobody";
    q.order_by = query_options::order::asc;
    r = s.query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 99u);
    ASSERT_EQ(r->items.size(), 10u);
    EXPECT_EQ(r->items[0].mailbox, "nobody");
    EXPECT_EQ(r->items[0].guid, "guid_1");
}

TEST(FakeStore, MarkReplacesStatusTagsAndAddsOthers) {
    fake_store s(opts(5));
    auto it = by_guid(s, "guid_2");
    ASSERT_FALSE(s.mark(it, store::tag::archive));
    EXPECT_EQ(by_guid(s, "guid_2").tags, std::vector<std::string>{"archive"});
    ASSERT_FALSE(s.mark(it, "flagged"));
    ASSERT_FALSE(s.mark(it, "flagged"));
    EXPECT_EQ(by_guid(s, "guid_2").tags, (std::vector<std::string>{"archive", "flagged"}));
    ASSERT_FALSE(s.mark(it, store::tag::pop3failed));
    EXPECT_EQ(by_guid(s, "guid_2").tags, (std::vector<std::string>{"flagged", "pop3failed"}));

    query_options q;
    q.tags = {"unread"};
    auto r = s.query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 4u);
    q.tags = {};
    q.exclude_tags = {"pop3failed"};
    r = s.query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 4u);

    item ghost;
    ghost.guid = "guid_77";
    EXPECT_EQ(s.mark(ghost, "archive"), errc::not_found);
}

TEST(FakeStore, RemoveDeletesOneItem) {
    fake_store s(opts(5));
    auto it = by_guid(s, "guid_3");
    ASSERT_FALSE(s.remove(it));
    auto items = all_items(s);
    ASSERT_EQ(items.size(), 4u);
    for (const auto& x : items) EXPECT_NE(x.guid, "guid_3");
    EXPECT_EQ(s.remove(it), errc::not_found);
    auto src = s.open_item(it);
    ASSERT_FALSE(src.has_value());
    EXPECT_EQ(src.error(), errc::not_found);
}

TEST(FakeStore, AddStoresOctetsAndComputesMetadata) {
    fake_store s(opts(2));
    item meta;
    meta.guid = "abc-1";
    meta.source_id = "pop.example.org";
    meta.mailbox = "alice";
    auto r = store::add_item(s, meta, "abc");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, store::add_outcome::added);

    auto got = by_guid(s, "abc-1");
    EXPECT_EQ(got.size, 3u);
    EXPECT_EQ(got.wire_size, 5u);  // "abc" + the CRLF the server adds
    EXPECT_EQ(got.fingerprint,
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(got.tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(got.mailbox, "alice");
    EXPECT_EQ(got.source_id, "pop.example.org");
    EXPECT_NE(got.created, std::chrono::system_clock::time_point{});
    EXPECT_EQ(payload(s, got), "abc");

    // Alice's mailbox: her copy of the generated messages, then what was added for her.
    query_options q;
    q.mailbox = "alice";
    auto qr = s.query(q);
    ASSERT_TRUE(qr.has_value());
    ASSERT_EQ(qr->count, 3u);
    EXPECT_EQ(qr->items[2].guid, "abc-1");

    // Bare LF and a missing final line end are counted as the server will send them.
    meta.guid = "lf";
    ASSERT_TRUE(store::add_item(s, meta, "a\nb\r\nc").has_value());
    EXPECT_EQ(by_guid(s, "lf").size, 6u);
    EXPECT_EQ(by_guid(s, "lf").wire_size, 9u);
}

TEST(FakeStore, AddStreamsInChunksAndIsInvisibleUntilCommit) {
    fake_store s(opts(0));
    item meta;
    meta.guid = "chunked";
    auto w = s.begin_add(meta);
    ASSERT_TRUE(w.has_value());
    ASSERT_FALSE((*w)->write("Subject: x\r\n"));
    ASSERT_FALSE((*w)->write("\r\nbody\r\n"));
    EXPECT_TRUE(all_items(s).empty());
    auto r = (*w)->commit();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, store::add_outcome::added);
    EXPECT_EQ(payload(s, by_guid(s, "chunked")), "Subject: x\r\n\r\nbody\r\n");
    EXPECT_EQ((*w)->write("more"), errc::writer_finished);
    auto again = (*w)->commit();
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error(), errc::writer_finished);

    meta.guid = "aborted";
    auto w2 = s.begin_add(meta);
    ASSERT_TRUE(w2.has_value());
    ASSERT_FALSE((*w2)->write("x"));
    (*w2)->abort();
    (*w2)->abort();
    EXPECT_EQ((*w2)->write("y"), errc::writer_finished);
    w2->reset();
    meta.guid = "dropped";
    {
        auto w3 = s.begin_add(meta);
        ASSERT_TRUE(w3.has_value());
        ASSERT_FALSE((*w3)->write("x"));
    }
    EXPECT_EQ(all_items(s).size(), 1u);
}

TEST(FakeStore, ReAddingIsIdempotentAndConflictsBecomeDups) {
    fake_store s(opts(8));
    item meta;
    meta.guid = "m1";
    ASSERT_EQ(store::add_item(s, meta, "one").value(), store::add_outcome::added);
    ASSERT_EQ(store::add_item(s, meta, "one").value(), store::add_outcome::already_present);
    ASSERT_EQ(store::add_item(s, meta, "two").value(), store::add_outcome::duplicate);
    ASSERT_EQ(store::add_item(s, meta, "three").value(), store::add_outcome::duplicate);
    ASSERT_EQ(store::add_item(s, meta, "two").value(), store::add_outcome::already_present);
    ASSERT_EQ(store::add_item(s, meta, "three").value(), store::add_outcome::already_present);
    EXPECT_EQ(payload(s, by_guid(s, "m1")), "one");
    EXPECT_EQ(payload(s, by_guid(s, "m1.dup")), "two");
    EXPECT_EQ(payload(s, by_guid(s, "m1.dup2")), "three");
    EXPECT_EQ(by_guid(s, "m1.dup").tags, std::vector<std::string>{"dup"});
    EXPECT_EQ(all_items(s).size(), 8u + 3u);

    // The generated messages take part too: a backup of guid_7 into its own store is a no-op.
    auto seven = payload_of(s, 7);
    meta.guid = "guid_7";
    ASSERT_EQ(store::add_item(s, meta, seven).value(), store::add_outcome::already_present);
    meta.guid = "guid_6";  // the big one, compared chunk by chunk
    auto six = payload_of(s, 6);
    ASSERT_EQ(store::add_item(s, meta, six).value(), store::add_outcome::already_present);
    six.back() = 'X';
    ASSERT_EQ(store::add_item(s, meta, six).value(), store::add_outcome::duplicate);
}

TEST(FakeStore, AddRejectsBadMetadataAndWrongFingerprints) {
    fake_store s(opts(0));
    item meta;
    auto w = s.begin_add(meta);
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error(), errc::invalid_item);
    meta.guid = "a\r\nb";
    EXPECT_EQ(s.begin_add(meta).error(), errc::invalid_item);

    meta.guid = "fp";
    meta.fingerprint = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
    EXPECT_EQ(store::add_item(s, meta, "abc").value(), store::add_outcome::added);
    meta.guid = "fp2";
    auto bad = store::add_item(s, meta, "abd");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), errc::corrupt);
    EXPECT_EQ(all_items(s).size(), 1u);
}

std::string fmt_guid(int t, int i) {
    // Appended piecewise: g++ 12 at -O3 warns falsely (-Wrestrict) on "t" + std::string.
    std::string g = std::to_string(t);
    g.append(1, '_').append(std::to_string(i));
    return g;
}

TEST(FakeStore, ConcurrentAddsAndQueriesAreSafe) {
    fake_store s(opts(10));
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                item meta;
                meta.guid = fmt_guid(t, i);
                auto r = store::add_item(s, meta, meta.guid);
                if (!r || *r != store::add_outcome::added) ++failures;
                query_options q;
                q.limit = 3;
                if (!s.query(q)) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(all_items(s).size(), 210u);
}

// --- the maildrop -------------------------------------------------------------------------

TEST(FakeMaildrop, ListsEveryMessageWithWireSizeAndGuidAsUid) {
    fake_store s(opts());
    auto md = s.open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    const auto& msgs = (*md)->messages();
    ASSERT_EQ(msgs.size(), 99u);
    auto items = all_items(s);
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        EXPECT_EQ(msgs[i].uid, items[i].guid);
        EXPECT_EQ(msgs[i].size, *items[i].wire_size);
    }
    EXPECT_EQ(msgs[4].size, items[4].size + 2);  // guid_5: no final CRLF
    for (std::size_t i : {std::size_t{0}, std::size_t{4}, std::size_t{5}}) {
        auto src = (*md)->open(i);
        ASSERT_TRUE(src.has_value());
        EXPECT_EQ(read_chunked(**src, 4096), payload(s, items[i]));
    }
}

TEST(FakeMaildrop, OneSessionPerUser) {
    fake_store s(opts(3));
    auto a = s.open_maildrop("alice");
    ASSERT_TRUE(a.has_value());
    auto a2 = s.open_maildrop("alice");
    ASSERT_FALSE(a2.has_value());
    EXPECT_EQ(a2.error(), errc::in_use);
    EXPECT_EQ(store::to_maildrop_failure(a2.error()), core::maildrop_failure::in_use);
    auto b = s.open_maildrop("bob");
    ASSERT_TRUE(b.has_value());
    a->reset();
    auto a3 = s.open_maildrop("alice");
    EXPECT_TRUE(a3.has_value());
}

TEST(FakeMaildrop, CommitDeletionsRemovesOnlyTheListed) {
    fake_store s(opts(10));
    {
        auto md = s.open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        std::vector<std::size_t> del{2, 0, 2, 9};
        ASSERT_FALSE((*md)->commit_deletions(del));
    }
    std::vector<std::string> left;
    for (const auto& it : all_items(s, "alice")) left.push_back(it.guid);
    EXPECT_EQ(left, (std::vector<std::string>{"guid_2", "guid_4", "guid_5", "guid_6", "guid_7",
                                              "guid_8", "guid_9"}));
    // A dropped session (maildrop destroyed without commit) deletes nothing.
    {
        auto md = s.open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        ASSERT_EQ((*md)->messages().size(), 7u);
    }
    EXPECT_EQ(all_items(s, "alice").size(), 7u);
    // The default mailbox (and every other user's) still has all ten.
    EXPECT_EQ(all_items(s, "").size(), 10u + 7u);
    EXPECT_EQ(all_items(s, "bob").size(), 10u);
}

// Each user name has its own generated maildrop: the same messages for the same seed, and
// one user's deletions never reach another's, even with both sessions open at once.
TEST(FakeMaildrop, EachUserHasAMaildropOfTheirOwn) {
    fake_store s(opts(8));
    auto contents = [](core::maildrop& md) {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < md.messages().size(); ++i) {
            auto src = md.open(i);
            EXPECT_TRUE(src.has_value());
            out.push_back(md.messages()[i].uid + " " + (src ? read_chunked(**src, 4096) : ""));
        }
        return out;
    };
    auto alice = s.open_maildrop("alice");
    auto bob = s.open_maildrop("bob");
    ASSERT_TRUE(alice.has_value());
    ASSERT_TRUE(bob.has_value());
    const auto bobs = contents(**bob);
    ASSERT_EQ(bobs.size(), 8u);
    EXPECT_EQ(contents(**alice), bobs);  // same seed, same messages

    // The same user twice is refused while the first session lasts; another user is not.
    auto alice_again = s.open_maildrop("alice");
    ASSERT_FALSE(alice_again.has_value());
    EXPECT_EQ(alice_again.error(), errc::in_use);

    // Alice deletes 1-3 and quits in one thread while Bob reads everything in another.
    std::vector<std::string> bob_read;
    std::thread reader([&] { bob_read = contents(**bob); });
    const std::vector<std::size_t> del{0, 1, 2};
    ASSERT_FALSE((*alice)->commit_deletions(del));
    alice->reset();
    reader.join();
    EXPECT_EQ(bob_read, bobs);
    // Bob's deletions of 1 and 2 are his own, even though Alice deleted them too.
    const std::vector<std::size_t> bob_del{0, 1};
    ASSERT_FALSE((*bob)->commit_deletions(bob_del));
    bob->reset();

    auto alice2 = s.open_maildrop("alice");
    auto bob2 = s.open_maildrop("bob");
    auto carol = s.open_maildrop("carol");
    ASSERT_TRUE(alice2.has_value() && bob2.has_value() && carol.has_value());
    EXPECT_EQ(contents(**alice2), std::vector<std::string>(bobs.begin() + 3, bobs.end()));
    EXPECT_EQ(contents(**bob2), std::vector<std::string>(bobs.begin() + 2, bobs.end()));
    EXPECT_EQ(contents(**carol), bobs);
}

TEST(FakeMaildrop, SnapshotIsFixedAndVanishedItemsCountAsDeleted) {
    fake_store s(opts(4));
    auto md = s.open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    item meta;
    meta.guid = "late";
    meta.mailbox = "alice";
    ASSERT_TRUE(store::add_item(s, meta, "late arrival").has_value());
    EXPECT_EQ((*md)->messages().size(), 4u);
    ASSERT_FALSE(s.remove(by_guid(s, "guid_1", "alice")));
    auto src = (*md)->open(0);
    ASSERT_FALSE(src.has_value());
    EXPECT_EQ(src.error(), errc::not_found);
    std::vector<std::size_t> del{0, 1};
    EXPECT_FALSE((*md)->commit_deletions(del));
    std::vector<std::string> left;
    for (const auto& it : all_items(s, "alice")) left.push_back(it.guid);
    EXPECT_EQ(left, (std::vector<std::string>{"guid_3", "guid_4", "late"}));
}

TEST(FakeMaildrop, ArchiveModeKeepsItemsButHidesThem) {
    auto o = opts(4);
    o.commitmode = store::commit_mode::archive;
    fake_store s(o);
    {
        auto md = s.open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        std::vector<std::size_t> del{1};
        ASSERT_FALSE((*md)->commit_deletions(del));
    }
    EXPECT_EQ(all_items(s, "alice").size(), 4u);
    EXPECT_EQ(by_guid(s, "guid_2", "alice").tags, std::vector<std::string>{"archive"});
    EXPECT_EQ(by_guid(s, "guid_2", "bob").tags, std::vector<std::string>{"unread"});
    auto md = s.open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    std::vector<std::string> uids;
    for (const auto& m : (*md)->messages()) uids.push_back(m.uid);
    EXPECT_EQ(uids, (std::vector<std::string>{"guid_1", "guid_3", "guid_4"}));
}

TEST(FakeMaildrop, DupItemsAreNotServed) {
    fake_store s(opts(1));
    item meta;
    meta.guid = "guid_1";
    ASSERT_EQ(store::add_item(s, meta, "other").value(), store::add_outcome::duplicate);
    auto md = s.open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    ASSERT_EQ((*md)->messages().size(), 1u);
    EXPECT_EQ((*md)->messages()[0].uid, "guid_1");
}

// --- UIDs ---------------------------------------------------------------------------------

TEST(Uid, ValidityFollowsRfc1939) {
    EXPECT_TRUE(store::is_valid_uid("guid_1"));
    EXPECT_TRUE(store::is_valid_uid("!"));
    EXPECT_TRUE(store::is_valid_uid("~"));
    EXPECT_TRUE(store::is_valid_uid(std::string(70, 'a')));
    EXPECT_FALSE(store::is_valid_uid(std::string(71, 'a')));
    EXPECT_FALSE(store::is_valid_uid(""));
    EXPECT_FALSE(store::is_valid_uid("a b"));
    EXPECT_FALSE(store::is_valid_uid("a\tb"));
    EXPECT_FALSE(store::is_valid_uid("caf\xc3\xa9"));
    EXPECT_FALSE(store::is_valid_uid("a\x7f"));
}

TEST(Uid, InvalidGuidsGetAStableDerivedUid) {
    item it;
    it.guid = std::string(70, 'g');
    EXPECT_EQ(store::make_uid(it), it.guid);
    it.guid = "has space";
    auto uid = store::make_uid(it);
    EXPECT_TRUE(store::is_valid_uid(uid));
    EXPECT_EQ(uid.size(), 41u);
    EXPECT_EQ(uid[0], 'x');
    EXPECT_EQ(uid, store::make_uid(it));
    EXPECT_EQ(uid, "x47b5c36fc0b017ba576f10f988d0cbcbc78256da");  // SHA-256("has space")
    item other;
    other.guid = "has  space";
    EXPECT_NE(store::make_uid(other), uid);
    it.guid = std::string(71, 'g');
    EXPECT_TRUE(store::is_valid_uid(store::make_uid(it)));
    EXPECT_NE(store::make_uid(it), it.guid);
}

TEST(Uid, MaildropUidsAreValidAndUniqueAcrossMailboxes) {
    fake_store s(opts(2));
    item meta;
    meta.guid = "with space";
    meta.mailbox = "alice";
    ASSERT_TRUE(store::add_item(s, meta, "x").has_value());
    meta.guid = "guid_3";  // not generated with count 2: a new item of Bob's only
    meta.mailbox = "bob";
    ASSERT_EQ(store::add_item(s, meta, "y").value(), store::add_outcome::added);
    meta.guid = "guid_1";  // Alice has a generated guid_1: other octets make a dup
    meta.mailbox = "alice";
    ASSERT_EQ(store::add_item(s, meta, "z").value(), store::add_outcome::duplicate);

    std::vector<std::string> uids;
    for (int round = 0; round < 2; ++round) {
        auto md = s.open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        std::vector<std::string> now;
        for (const auto& m : (*md)->messages()) now.push_back(m.uid);
        if (round == 0) uids = now;
        EXPECT_EQ(now, uids);  // stable across sessions
    }
    ASSERT_EQ(uids.size(), 3u);  // guid_3 is Bob's, guid_1.dup is not served
    EXPECT_EQ(uids[0], "guid_1");
    EXPECT_EQ(uids[1], "guid_2");
    item spaced;
    spaced.guid = "with space";
    EXPECT_EQ(uids[2], store::make_uid(spaced));
    EXPECT_EQ(std::set<std::string>(uids.begin(), uids.end()).size(), 3u);
    for (const auto& u : uids) EXPECT_TRUE(store::is_valid_uid(u)) << u;
}

TEST(MaildropFailure, MapsStoreErrorsToSessionReplies) {
    using core::maildrop_failure;
    EXPECT_EQ(store::to_maildrop_failure(errc::in_use), maildrop_failure::in_use);
    EXPECT_EQ(store::to_maildrop_failure(errc::no_such_mailbox), maildrop_failure::permanent);
    EXPECT_EQ(store::to_maildrop_failure(errc::corrupt), maildrop_failure::permanent);
    EXPECT_EQ(store::to_maildrop_failure(errc::io_error), maildrop_failure::temporary);
    EXPECT_EQ(store::to_maildrop_failure(make_error_code(boost::system::errc::io_error)),
              maildrop_failure::temporary);
}

}  // namespace
