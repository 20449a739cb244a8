#pragma once
// The behaviour every mime_store backend shares (store.hpp, store_maildrop.hpp), written
// once and run against each backend: add / already_present / duplicate, the writer's life,
// payload octets, query order, limit, count, total size and tags, mark, remove, and the
// POP3 maildrop (snapshot, in_use, commit_deletions).
//
// Use: a backend is a store_backend whose `make` returns a new, empty store each time.
//   #include "store_conformance.hpp"
//   using izypop3::test::StoreConformance;  // the macro wants the plain name
//   INSTANTIATE_TEST_SUITE_P(Localfs, StoreConformance,
//                            ::testing::Values(izypop3::test::store_backend{...}),
//                            izypop3::test::backend_name);
// The TEST_P bodies below are compiled only where IZYPOP3_STORE_CONFORMANCE_TESTS is defined
// before the include, which exactly one file per test program does
// (tests/unit/store/test_postgres_store.cpp); other files only instantiate.
//
// The store must keep commit_mode::remove (the default) for commit_deletions to remove.

#include <izypop3/core/maildrop.hpp>
#include <izypop3/store/errc.hpp>
#include <izypop3/store/item.hpp>
#include <izypop3/store/store.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace izypop3::test {

struct store_backend {
    /// For test names: letters, digits and underscores.
    std::string name;
    /// A new store with no items, sharing nothing with stores made before.
    std::function<std::unique_ptr<store::mime_store>()> make;
    /// The mailbox the suite's items are added to, and the user whose maildrop serves them.
    std::string mailbox = "alice";
    std::string maildrop_user = "alice";
    /// The store keeps item.mailbox and filters on query_options::mailbox.
    bool separates_mailboxes = true;
    /// Messages other mail programs would misread (NUL octets, a header section cut off
    /// mid-line) are tagged conversionerror: the directory stores, whose files those
    /// programs read.
    bool tags_conversion_errors = false;
};

inline void PrintTo(const store_backend& b, std::ostream* os) { *os << b.name; }

inline std::string backend_name(const ::testing::TestParamInfo<store_backend>& info) {
    return info.param.name;
}

/// Lower-case hex SHA-256, computed independently of the store's own code.
inline std::string conformance_sha256(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

/// `n` octets of every value 0-255, reproducible from `seed`.
inline std::string conformance_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string out(n, '\0');
    for (auto& c : out) c = static_cast<char>(rng() & 0xff);
    return out;
}

class StoreConformance : public ::testing::TestWithParam<store_backend> {
protected:
    using query_order = store::query_options::order;

    void SetUp() override {
        store_ = GetParam().make();
        ASSERT_TRUE(store_) << "backend " << GetParam().name << " made no store";
    }

    store::mime_store& s() { return *store_; }

    store::item meta(std::string guid) const {
        store::item m;
        m.guid = std::move(guid);
        m.mailbox = GetParam().mailbox;
        m.source_id = "conformance";
        return m;
    }

    store::add_outcome add(const std::string& guid, std::string_view payload) {
        auto r = store::add_item(s(), meta(guid), payload);
        EXPECT_TRUE(r.has_value()) << guid << ": " << (r ? "" : r.error().message());
        return r ? *r : store::add_outcome::already_present;
    }

    std::vector<store::item> all(query_order order = query_order::asc) {
        store::query_options q;
        q.limit = store::query_options::unlimited;
        q.order_by = order;
        auto r = s().query(q);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
        return r ? r->items : std::vector<store::item>{};
    }

    std::vector<std::string> guids(const std::vector<store::item>& items) {
        std::vector<std::string> out;
        for (const auto& it : items) out.push_back(it.guid);
        return out;
    }

    store::item find(const std::string& guid) {
        for (auto& it : all())
            if (it.guid == guid) return it;
        ADD_FAILURE() << "no item " << guid;
        return meta(guid);
    }

    std::string payload(const store::item& it) {
        auto r = store::read_all(s(), it);
        EXPECT_TRUE(r.has_value()) << it.guid;
        return r ? *r : std::string();
    }

    static std::string read_source(core::message_source& src, std::size_t chunk) {
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

    std::unique_ptr<store::mime_store> store_;
};

}  // namespace izypop3::test

#ifdef IZYPOP3_STORE_CONFORMANCE_TESTS

namespace izypop3::test {
namespace conformance {

using store::add_outcome;
using store::errc;
using store::query_options;

TEST_P(StoreConformance, StartsEmpty) {
    query_options q;
    q.limit = query_options::unlimited;
    auto r = s().query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 0u);
    EXPECT_EQ(r->total_size, 0u);
    EXPECT_TRUE(r->items.empty());
    auto md = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(md.has_value()) << md.error().message();
    EXPECT_TRUE((*md)->messages().empty());
}

TEST_P(StoreConformance, AddKeepsMetadataAndComputesSizesAndFingerprint) {
    using namespace std::chrono;
    // Microsecond values: the finest precision every backend keeps.
    const auto created = system_clock::time_point(microseconds(1714566896123456));
    const auto sent = system_clock::time_point(microseconds(1714500000654321));
    auto m = meta("meta-1");
    m.source_id = "pop.example.org";
    m.created = created;
    m.message_time = sent;
    const std::string body = "Subject: x\r\n\r\nbare LF\nno final CRLF";
    auto r = store::add_item(s(), m, body);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, add_outcome::added);

    auto it = find("meta-1");
    EXPECT_EQ(it.size, body.size());
    ASSERT_TRUE(it.wire_size.has_value());
    EXPECT_EQ(*it.wire_size, body.size() + 1 + 2);  // the bare LF gets a CR, a CRLF is added
    EXPECT_EQ(it.fingerprint, conformance_sha256(body));
    EXPECT_EQ(it.source_id, "pop.example.org");
    EXPECT_EQ(it.tags, std::vector<std::string>{"unread"});
    if (GetParam().separates_mailboxes) {
        EXPECT_EQ(it.mailbox, GetParam().mailbox);
    }
    EXPECT_EQ(duration_cast<microseconds>(it.created.time_since_epoch()).count(),
              1714566896123456);
    ASSERT_TRUE(it.message_time.has_value());
    EXPECT_EQ(duration_cast<microseconds>(it.message_time->time_since_epoch()).count(),
              1714500000654321);
    EXPECT_EQ(payload(it), body);
}

TEST_P(StoreConformance, AddFillsCreatedAndKeepsGivenTags) {
    const auto before = std::chrono::system_clock::now() - std::chrono::seconds(2);
    auto m = meta("tagged");
    m.tags = {"staged", "flagged"};
    ASSERT_TRUE(store::add_item(s(), m, "x\r\n").has_value());
    const auto after = std::chrono::system_clock::now() + std::chrono::seconds(2);
    auto it = find("tagged");
    EXPECT_EQ(it.tags, (std::vector<std::string>{"staged", "flagged"}));
    EXPECT_GT(it.created, before);
    EXPECT_LT(it.created, after);
    EXPECT_FALSE(it.message_time.has_value());
}

TEST_P(StoreConformance, SameOctetsTwiceIsAlreadyPresent) {
    const std::string body = "From: a@example.org\r\n\r\nhello\r\n";
    EXPECT_EQ(add("same", body), add_outcome::added);
    EXPECT_EQ(add("same", body), add_outcome::already_present);
    // Written in other pieces, the octets are still the same.
    auto w = s().begin_add(meta("same"));
    ASSERT_TRUE(w.has_value());
    for (char c : body) ASSERT_FALSE((*w)->write(std::string_view(&c, 1)));
    auto r = (*w)->commit();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, add_outcome::already_present);
    EXPECT_EQ(guids(all()), std::vector<std::string>{"same"});
}

TEST_P(StoreConformance, SameGuidOtherOctetsIsStoredAsTaggedDuplicate) {
    EXPECT_EQ(add("g", "first\r\n"), add_outcome::added);
    EXPECT_EQ(add("g", "second\r\n"), add_outcome::duplicate);
    EXPECT_EQ(add("g", "third\r\n"), add_outcome::duplicate);
    EXPECT_EQ(add("g", "second\r\n"), add_outcome::already_present);
    EXPECT_EQ(add("g", "first\r\n"), add_outcome::already_present);

    auto items = all();
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].guid, "g");
    EXPECT_EQ(items[0].tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(payload(items[0]), "first\r\n");
    std::vector<std::string> copies;
    for (std::size_t i = 1; i < items.size(); ++i) {
        EXPECT_NE(items[i].guid, "g");
        EXPECT_EQ(items[i].tags, std::vector<std::string>{"dup"});
        copies.push_back(payload(items[i]));
    }
    std::sort(copies.begin(), copies.end());
    EXPECT_EQ(copies, (std::vector<std::string>{"second\r\n", "third\r\n"}));
    EXPECT_NE(items[1].guid, items[2].guid);

    // Copies are not served over POP3.
    auto md = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(md.has_value());
    ASSERT_EQ((*md)->messages().size(), 1u);
    EXPECT_EQ((*md)->messages()[0].uid, "g");
}

// A pop3failed item records a message a backup could not fetch (issue 12, item 2): it never
// blocks its guid, never shadows a stored message, and is not served over POP3.
TEST_P(StoreConformance, Pop3failedRecordIsReplacedByTheMessage) {
    auto failed = meta("f1");
    failed.tags = {std::string(store::tag::pop3failed)};
    auto r = store::add_item(s(), failed, "the fetch failed\r\n");
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, add_outcome::added);
    query_options q;
    q.limit = query_options::unlimited;
    q.tags = {std::string(store::tag::pop3failed)};
    auto listed = s().query(q);
    ASSERT_TRUE(listed.has_value());
    ASSERT_EQ(listed->items.size(), 1u);
    EXPECT_EQ(listed->items[0].guid, "f1");
    {
        auto md = s().open_maildrop(GetParam().maildrop_user);
        ASSERT_TRUE(md.has_value());
        EXPECT_TRUE((*md)->messages().empty());  // a failure record is no message
    }
    EXPECT_EQ(add("f1", "the message\r\n"), add_outcome::added);
    auto items = all();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].guid, "f1");
    EXPECT_EQ(items[0].tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(payload(items[0]), "the message\r\n");
    listed = s().query(q);
    ASSERT_TRUE(listed.has_value());
    EXPECT_TRUE(listed->items.empty());
    auto md = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(md.has_value());
    ASSERT_EQ((*md)->messages().size(), 1u);
    EXPECT_EQ((*md)->messages()[0].uid, "f1");
}

TEST_P(StoreConformance, Pop3failedRecordReplacesAnEarlierOne) {
    auto failed = meta("f2");
    failed.tags = {std::string(store::tag::pop3failed)};
    ASSERT_TRUE(store::add_item(s(), failed, "first failure\r\n").has_value());
    auto r = store::add_item(s(), failed, "second failure\r\n");
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, add_outcome::added);
    auto items = all();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].tags, std::vector<std::string>{"pop3failed"});
    EXPECT_EQ(payload(items[0]), "second failure\r\n");
}

TEST_P(StoreConformance, Pop3failedRecordNeverShadowsAStoredMessage) {
    EXPECT_EQ(add("f3", "stored\r\n"), add_outcome::added);
    auto failed = meta("f3");
    failed.tags = {std::string(store::tag::pop3failed)};
    auto r = store::add_item(s(), failed, "a later failure\r\n");
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, add_outcome::already_present);
    auto items = all();
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(payload(items[0]), "stored\r\n");
}

TEST_P(StoreConformance, EmptyGuidIsInvalid) {
    auto w = s().begin_add(meta(""));
    ASSERT_FALSE(w.has_value());
    EXPECT_EQ(w.error(), errc::invalid_item);
}

TEST_P(StoreConformance, FingerprintMismatchIsCorruptAndStoresNothing) {
    auto m = meta("fp");
    m.fingerprint = conformance_sha256("other octets");
    auto r = store::add_item(s(), m, "these octets");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), errc::corrupt);
    EXPECT_TRUE(all().empty());

    // The right fingerprint, in upper case, is accepted.
    std::string upper = conformance_sha256("these octets");
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    m.fingerprint = upper;
    auto ok = store::add_item(s(), m, "these octets");
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(*ok, add_outcome::added);
    EXPECT_EQ(find("fp").fingerprint, conformance_sha256("these octets"));
}

TEST_P(StoreConformance, WriterLifecycle) {
    {
        auto w = s().begin_add(meta("aborted"));
        ASSERT_TRUE(w.has_value());
        ASSERT_FALSE((*w)->write("data"));
        (*w)->abort();
        (*w)->abort();  // idempotent
        EXPECT_EQ((*w)->write("more"), errc::writer_finished);
        auto c = (*w)->commit();
        ASSERT_FALSE(c.has_value());
        EXPECT_EQ(c.error(), errc::writer_finished);
    }
    {
        auto w = s().begin_add(meta("dropped"));
        ASSERT_TRUE(w.has_value());
        ASSERT_FALSE((*w)->write("data"));
    }  // destroyed without commit
    EXPECT_TRUE(all().empty());
    {
        auto w = s().begin_add(meta("done"));
        ASSERT_TRUE(w.has_value());
        ASSERT_FALSE((*w)->write("data"));
        ASSERT_TRUE((*w)->commit().has_value());
        EXPECT_EQ((*w)->write("more"), errc::writer_finished);
        auto again = (*w)->commit();
        ASSERT_FALSE(again.has_value());
        EXPECT_EQ(again.error(), errc::writer_finished);
    }
    EXPECT_EQ(guids(all()), std::vector<std::string>{"done"});
    EXPECT_EQ(payload(find("done")), "data");
}

TEST_P(StoreConformance, PayloadOctetsRoundTripExactly) {
    std::string all_values;
    for (int round = 0; round < 4; ++round)
        for (int c = 0; c < 256; ++c) all_values.push_back(static_cast<char>(c));
    struct sample {
        std::string guid;
        std::string octets;
        std::uint64_t wire_size;
    };
    const std::vector<sample> samples{
        {"empty", "", 0},
        {"no-crlf", "abc", 5},
        {"bare-lf", "a\nb\n", 6},
        {"dots", "x\r\n.\r\n..\r\n.x\r\n", 14},
        {"binary", all_values, 0},
        {"three-mib", conformance_bytes(3 * 1024 * 1024 + 17, 7), 0},
        {"five-mib", conformance_bytes(5 * 1024 * 1024 + 3, 8), 0},
    };
    for (const auto& smp : samples) {
        // Large payloads are written in 64 KiB pieces, as a POP3 client hands them over.
        auto w = s().begin_add(meta(smp.guid));
        ASSERT_TRUE(w.has_value());
        for (std::size_t at = 0; at < smp.octets.size(); at += 65536)
            ASSERT_FALSE((*w)->write(std::string_view(smp.octets).substr(at, 65536)));
        auto r = (*w)->commit();
        ASSERT_TRUE(r.has_value()) << smp.guid << ": " << r.error().message();
        EXPECT_EQ(*r, add_outcome::added) << smp.guid;
    }
    for (const auto& smp : samples) {
        auto it = find(smp.guid);
        EXPECT_EQ(it.size, smp.octets.size()) << smp.guid;
        if (smp.wire_size != 0 || smp.octets.empty()) {
            EXPECT_EQ(it.wire_size, smp.wire_size) << smp.guid;
        }
        EXPECT_EQ(it.fingerprint, conformance_sha256(smp.octets)) << smp.guid;
        const bool small = smp.octets.size() < 100000;
        for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{65536},
                                  std::size_t{1000000}}) {
            if (chunk < 1000 && !small) continue;  // byte-wise reading of MiBs takes minutes
            auto src = s().open_item(it);
            ASSERT_TRUE(src.has_value()) << smp.guid;
            auto got = read_source(**src, chunk);
            ASSERT_EQ(got.size(), smp.octets.size()) << smp.guid << " chunk " << chunk;
            ASSERT_TRUE(got == smp.octets) << smp.guid << " chunk " << chunk;
            char c = 0;
            auto end = (*src)->read(std::span<char>(&c, 1));
            ASSERT_TRUE(end.has_value());
            EXPECT_EQ(*end, 0u) << "a read after the end keeps answering 0";
        }
    }
}

TEST_P(StoreConformance, QueryOrderLimitCountAndTotal) {
    std::uint64_t total = 0;
    for (int i = 1; i <= 5; ++i) {
        std::string body(static_cast<std::size_t>(i * 10), 'a' + static_cast<char>(i));
        total += body.size();
        add("q" + std::to_string(i), body);
    }
    EXPECT_EQ(guids(all()), (std::vector<std::string>{"q1", "q2", "q3", "q4", "q5"}));
    EXPECT_EQ(guids(all(query_order::desc)),
              (std::vector<std::string>{"q5", "q4", "q3", "q2", "q1"}));

    query_options q;
    q.limit = 2;
    auto r = s().query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 5u);
    EXPECT_EQ(r->total_size, total);
    EXPECT_EQ(guids(r->items), (std::vector<std::string>{"q1", "q2"}));
    q.order_by = query_order::desc;
    r = s().query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(guids(r->items), (std::vector<std::string>{"q5", "q4"}));
    q.limit = 0;
    r = s().query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 5u);
    EXPECT_EQ(r->total_size, total);
    EXPECT_TRUE(r->items.empty());

    q = query_options{};
    q.mailbox = GetParam().mailbox;
    q.limit = query_options::unlimited;
    r = s().query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 5u);
    if (GetParam().separates_mailboxes) {
        q.mailbox = "someone-else";
        r = s().query(q);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(r->count, 0u);
        EXPECT_EQ(r->total_size, 0u);
        EXPECT_TRUE(r->items.empty());
    }
}

TEST_P(StoreConformance, QueryByTagsNeedsAllAndExcludesAny) {
    for (const char* g : {"t1", "t2", "t3", "t4"}) add(g, std::string(g) + "\r\n");
    ASSERT_FALSE(s().mark(find("t2"), "flagged"));
    ASSERT_FALSE(s().mark(find("t3"), "flagged"));
    ASSERT_FALSE(s().mark(find("t3"), store::tag::archive));
    ASSERT_FALSE(s().mark(find("t4"), store::tag::staged));

    auto run = [&](std::vector<std::string> tags, std::vector<std::string> exclude) {
        query_options q;
        q.tags = std::move(tags);
        q.exclude_tags = std::move(exclude);
        q.limit = query_options::unlimited;
        auto r = s().query(q);
        EXPECT_TRUE(r.has_value());
        if (r) {
            EXPECT_EQ(r->count, r->items.size());
        }
        return r ? guids(r->items) : std::vector<std::string>{};
    };
    EXPECT_EQ(run({"unread"}, {}), (std::vector<std::string>{"t1", "t2"}));
    EXPECT_EQ(run({"flagged"}, {}), (std::vector<std::string>{"t2", "t3"}));
    EXPECT_EQ(run({"flagged", "unread"}, {}), std::vector<std::string>{"t2"});
    EXPECT_EQ(run({}, {"flagged"}), (std::vector<std::string>{"t1", "t4"}));
    EXPECT_EQ(run({}, {"archive", "staged"}), (std::vector<std::string>{"t1", "t2"}));
    EXPECT_EQ(run({"flagged"}, {"archive"}), std::vector<std::string>{"t2"});
    EXPECT_TRUE(run({"no-such-tag"}, {}).empty());
}

TEST_P(StoreConformance, MarkReplacesStatusTagsAndAddsOthersOnce) {
    add("m", "m\r\n");
    auto it = find("m");
    ASSERT_FALSE(s().mark(it, store::tag::archive));
    EXPECT_EQ(find("m").tags, std::vector<std::string>{"archive"});
    ASSERT_FALSE(s().mark(it, "flagged"));
    ASSERT_FALSE(s().mark(it, "flagged"));
    EXPECT_EQ(find("m").tags, (std::vector<std::string>{"archive", "flagged"}));
    ASSERT_FALSE(s().mark(it, store::tag::pop3failed));
    EXPECT_EQ(find("m").tags, (std::vector<std::string>{"flagged", "pop3failed"}));
    EXPECT_EQ(payload(find("m")), "m\r\n");

    auto ghost = meta("ghost");
    EXPECT_EQ(s().mark(ghost, store::tag::archive), errc::not_found);
}

TEST_P(StoreConformance, RemoveDeletesOneItem) {
    for (const char* g : {"r1", "r2", "r3"}) add(g, std::string(g) + "\r\n");
    auto it = find("r2");
    ASSERT_FALSE(s().remove(it));
    EXPECT_EQ(guids(all()), (std::vector<std::string>{"r1", "r3"}));
    EXPECT_EQ(s().remove(it), errc::not_found);
    auto src = s().open_item(it);
    ASSERT_FALSE(src.has_value());
    EXPECT_EQ(src.error(), errc::not_found);
    EXPECT_EQ(payload(find("r3")), "r3\r\n");
}

TEST_P(StoreConformance, UnusualGuidsAreKeptAsGivenAndGetValidUids) {
    const std::string spaced = "a b/c<d>";
    const std::string accented = "caf\xc3\xa9";
    add(spaced, "1\r\n");
    add(accented, "2\r\n");
    EXPECT_EQ(guids(all()), (std::vector<std::string>{spaced, accented}));
    auto md = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(md.has_value());
    const auto& msgs = (*md)->messages();
    ASSERT_EQ(msgs.size(), 2u);
    for (const auto& m : msgs) {
        EXPECT_TRUE(store::is_valid_uid(m.uid)) << m.uid;
        EXPECT_EQ(m.uid.size(), 41u);
        EXPECT_EQ(m.uid.front(), 'x');
    }
    EXPECT_NE(msgs[0].uid, msgs[1].uid);
}

TEST_P(StoreConformance, MaildropIsASnapshotOfServableItems) {
    add("s1", "one\r\n");
    add("s2", "two\nbare\n");
    add("s3", "three\r\n");
    add("s4", "archived\r\n");
    ASSERT_FALSE(s().mark(find("s4"), store::tag::archive));
    add("s1", "a different s1\r\n");  // a dup copy

    auto md = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(md.has_value()) << md.error().message();
    const auto msgs = (*md)->messages();
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_EQ(msgs[0].uid, "s1");
    EXPECT_EQ(msgs[1].uid, "s2");
    EXPECT_EQ(msgs[2].uid, "s3");
    EXPECT_EQ(msgs[0].size, 5u);
    EXPECT_EQ(msgs[1].size, 11u);  // the size on the wire: bare LFs become CRLF
    EXPECT_EQ(msgs[2].size, 7u);
    const std::vector<std::string> bodies{"one\r\n", "two\nbare\n", "three\r\n"};
    for (std::size_t i = 0; i < 3; ++i) {
        auto src = (*md)->open(i);
        ASSERT_TRUE(src.has_value()) << i;
        EXPECT_EQ(read_source(**src, 3), bodies[i]);
    }
    // What arrives during the session is not part of it.
    add("s5", "late\r\n");
    EXPECT_EQ((*md)->messages().size(), 3u);
}

TEST_P(StoreConformance, SecondMaildropOfAUserIsInUseUntilTheFirstEnds) {
    add("l1", "x\r\n");
    auto first = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(first.has_value()) << first.error().message();
    auto second = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_FALSE(second.has_value());
    EXPECT_EQ(second.error(), errc::in_use);
    EXPECT_EQ(store::to_maildrop_failure(second.error()), core::maildrop_failure::in_use);
    first->reset();
    auto third = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(third.has_value()) << third.error().message();
    EXPECT_EQ((*third)->messages().size(), 1u);
}

TEST_P(StoreConformance, CommitDeletionsRemovesExactlyTheListedMessages) {
    for (const char* g : {"d1", "d2", "d3", "d4"}) add(g, std::string(g) + "\r\n");
    {
        auto md = s().open_maildrop(GetParam().maildrop_user);
        ASSERT_TRUE(md.has_value());
        const std::vector<std::size_t> dele{2, 0, 2};  // repeats are ignored
        ASSERT_FALSE((*md)->commit_deletions(dele));
    }
    EXPECT_EQ(guids(all()), (std::vector<std::string>{"d2", "d4"}));
    {
        auto md = s().open_maildrop(GetParam().maildrop_user);
        ASSERT_TRUE(md.has_value());
        ASSERT_EQ((*md)->messages().size(), 2u);
        // Removed behind the session's back: still counts as deleted.
        ASSERT_FALSE(s().remove(find("d2")));
        const std::vector<std::size_t> dele{0};
        EXPECT_FALSE((*md)->commit_deletions(dele));
        EXPECT_FALSE((*md)->commit_deletions({}));
    }
    EXPECT_EQ(guids(all()), std::vector<std::string>{"d4"});
}

TEST_P(StoreConformance, ConcurrentAddsOfTheSameMessagesStoreEachOnce) {
    constexpr int threads = 4, messages = 12;
    std::vector<std::vector<add_outcome>> outcomes(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < messages; ++i) {
                auto r = store::add_item(s(), meta("c" + std::to_string(i)),
                                         "message " + std::to_string(i) + "\r\n");
                outcomes[static_cast<std::size_t>(t)].push_back(
                    r ? *r : add_outcome::duplicate);  // an error shows as a wrong outcome
            }
        });
    }
    for (auto& th : pool) th.join();
    for (int i = 0; i < messages; ++i) {
        int added = 0, present = 0;
        for (int t = 0; t < threads; ++t) {
            auto o = outcomes[static_cast<std::size_t>(t)][static_cast<std::size_t>(i)];
            added += o == add_outcome::added;
            present += o == add_outcome::already_present;
        }
        EXPECT_EQ(added, 1) << "message " << i;
        EXPECT_EQ(present, threads - 1) << "message " << i;
    }
    auto items = all();
    EXPECT_EQ(items.size(), static_cast<std::size_t>(messages));
    for (const auto& it : items) EXPECT_EQ(it.tags, std::vector<std::string>{"unread"});
}

// querystore's unmark: a tag goes, the status falls back to unread, unread itself stays.
TEST_P(StoreConformance, UnmarkRemovesATagAndAStatusFallsBackToUnread) {
    add("u", "u\r\n");
    auto it = find("u");
    ASSERT_FALSE(s().mark(it, "flagged"));
    ASSERT_FALSE(s().mark(it, store::tag::archive));
    EXPECT_EQ(find("u").tags, (std::vector<std::string>{"flagged", "archive"}));
    ASSERT_FALSE(s().unmark(it, "flagged"));
    EXPECT_EQ(find("u").tags, std::vector<std::string>{"archive"});
    ASSERT_FALSE(s().unmark(it, "flagged"));  // not carried: nothing changes
    ASSERT_FALSE(s().unmark(it, store::tag::staged));
    EXPECT_EQ(find("u").tags, std::vector<std::string>{"archive"});
    ASSERT_FALSE(s().unmark(it, store::tag::archive));
    EXPECT_EQ(find("u").tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(s().unmark(it, store::tag::unread), errc::invalid_item);
    EXPECT_EQ(find("u").tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(payload(find("u")), "u\r\n");
    // Unread again means served again.
    auto md = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(md.has_value());
    EXPECT_EQ((*md)->messages().size(), 1u);
    md->reset();

    auto ghost = meta("ghost");
    EXPECT_EQ(s().unmark(ghost, "flagged"), errc::not_found);
}

// Octets no store may change: NUL octets, a header section cut off mid-line. A store whose
// files other programs read tags them conversionerror; every store keeps them byte for byte
// and serves them.
TEST_P(StoreConformance, MessagesOtherProgramsMisreadAreKeptByteForByte) {
    const std::string nul("Subject: a\0b\r\n\r\nbody \0 text\r\n", 29);
    const std::string cut = "Subject: cut off\r\nFrom: someone";
    const std::string fine = "Subject: fine\r\n\r\nno NUL here\r\n";
    const std::string headers_only = "Subject: only headers\r\n";
    add("nul", nul);
    add("cut", cut);
    add("fine", fine);
    add("headers-only", headers_only);
    const std::vector<std::string> flagged =
        GetParam().tags_conversion_errors ? std::vector<std::string>{"conversionerror"}
                                          : std::vector<std::string>{"unread"};
    EXPECT_EQ(find("nul").tags, flagged);
    EXPECT_EQ(find("cut").tags, flagged);
    EXPECT_EQ(find("fine").tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(find("headers-only").tags, std::vector<std::string>{"unread"});
    EXPECT_EQ(payload(find("nul")), nul);
    EXPECT_EQ(payload(find("cut")), cut);
    query_options q;
    q.tags = {"conversionerror"};
    auto r = s().query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, GetParam().tags_conversion_errors ? 2u : 0u);
    // Served like any other message: our server sends the octets as they are.
    auto md = s().open_maildrop(GetParam().maildrop_user);
    ASSERT_TRUE(md.has_value());
    EXPECT_EQ((*md)->messages().size(), 4u);
}

}  // namespace conformance
}  // namespace izypop3::test

#endif  // IZYPOP3_STORE_CONFORMANCE_TESTS
