// A UID from a POP3 server never becomes a path as it is (issue 12, item 4): localfs names a
// file from an encoding of the source id and guid that cannot leave the directory, cannot
// collide after case folding and stays under NAME_MAX; maildir names files without the guid
// at all. The original guid is kept in the metadata, and stores written with the earlier
// names (case kept) are still read, served and added to.

#include "../../../libmimestore/src/meta_log.hpp"
#include "dir_store_test_support.hpp"

#include <izypop3/store/localfs_store.hpp>
#include <izypop3/store/maildir_store.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace izypop3 {
namespace {

using test::all_items;
using test::fresh_dir;
using test::meta_of;
using test::slurp;
using test::spit;

// Every printable octet a UID may have (RFC 1939: 0x21-0x7E), and names that are dangerous
// as paths or on case-insensitive file systems.
std::vector<std::string> hostile_uids() {
    std::string all_printable;
    for (char c = 0x21; c <= 0x7E; ++c) all_printable += c;
    return {"../x",
            "..",
            ".",
            ".hidden",
            "a/b",
            "/etc/passwd",
            "ABC",
            "abc",
            "Abc",
            "aBC",
            "%41BC",
            "%41bc",
            "%2F",
            "CON",
            "x~2",
            "a.dup",
            std::string(70, 'Z'),
            std::string(70, 'z'),
            all_printable,
            std::string(300, 'Q') + "/..",
            std::string(300, 'q') + "/.."};
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// The message files below `dir` (izypop3's own files left out).
std::vector<std::filesystem::path> message_files(const std::string& dir) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        const auto rel = std::filesystem::relative(e.path(), dir).string();
        if (rel.starts_with(".izypop3") || !e.is_regular_file()) continue;
        if (e.path().filename().string().starts_with(".izypop3")) continue;
        if (e.path().filename() == "maildirfolder") continue;
        out.push_back(e.path());
    }
    return out;
}

template <class Store>
void store_hostile_uids(const std::string& dir, Store& s) {
    for (const auto& uid : hostile_uids()) {
        auto r =
            store::add_item(s, meta_of(uid, "", "Alice@Pop.Example.ORG"), "msg " + uid + "\r\n");
        ASSERT_TRUE(r.has_value()) << uid << ": " << r.error().message();
        EXPECT_EQ(*r, store::add_outcome::added) << uid;
    }
    // Every guid comes back exactly as it was given, with its own octets.
    auto items = all_items(s);
    ASSERT_EQ(items.size(), hostile_uids().size());
    std::set<std::string> guids;
    for (const auto& it : items) {
        guids.insert(it.guid);
        EXPECT_EQ(it.source_id, "Alice@Pop.Example.ORG");
        auto body = store::read_all(s, it);
        ASSERT_TRUE(body.has_value()) << it.guid;
        EXPECT_EQ(*body, "msg " + it.guid + "\r\n");
    }
    const auto want = hostile_uids();
    EXPECT_EQ(guids, std::set<std::string>(want.begin(), want.end()));
    // Nothing outside the store directory, nothing hidden, names unique after case folding
    // and within NAME_MAX.
    std::set<std::string> folded;
    const auto files = message_files(dir);
    EXPECT_EQ(files.size(), want.size());
    for (const auto& f : files) {
        const std::string name = f.filename().string();
        EXPECT_LE(name.size(), 255u) << name;
        EXPECT_FALSE(name.starts_with(".")) << name;
        EXPECT_TRUE(folded.insert(lower(name)).second) << "collides after case folding: " << name;
        const auto rel = std::filesystem::relative(f, dir).string();
        EXPECT_FALSE(rel.starts_with("..")) << rel;
    }
}

TEST(UidFileNames, LocalfsNamesAreSafeAndUniqueAfterCaseFolding) {
    const std::string dir = fresh_dir("uidnames");
    auto s = test::open_dir_store<store::localfs_store>(dir);
    ASSERT_TRUE(s);
    store_hostile_uids(dir, *s);
    // The files stay in the root folder: no UID made a directory.
    for (const auto& f : message_files(dir)) EXPECT_EQ(f.parent_path(), std::filesystem::path(dir));
    // Readable where it can be: a lower-case UID appears as it is.
    EXPECT_TRUE(std::filesystem::exists(dir + "/%41lice@%50op.%45xample.%4F%52%47_abc.eml"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/%41lice@%50op.%45xample.%4F%52%47_%41%42%43.eml"));
}

TEST(UidFileNames, MaildirNamesNeverCarryTheUid) {
    const std::string dir = fresh_dir("uidnames");
    auto s = test::open_dir_store<store::maildir_store>(dir);
    ASSERT_TRUE(s);
    store_hostile_uids(dir, *s);
    for (const auto& f : message_files(dir)) {
        EXPECT_EQ(f.parent_path(), std::filesystem::path(dir) / "new");
        EXPECT_EQ(f.filename().string().find("abc"), std::string::npos) << f;
    }
}

TEST(UidFileNames, StoresWrittenWithCaseKeptInNamesStillWork) {
    // What the earlier code wrote for guid "ABC" from "u@Host": the name kept the case.
    const std::string dir = fresh_dir("uidnames");
    std::filesystem::create_directories(dir + "/.izypop3/tmp");
    const std::string msg = "Subject: old\r\n\r\nwritten before\r\n";
    spit(dir + "/u@Host_ABC.eml", msg);
    store::detail::add_line a;
    a.name = "u@Host_ABC";
    a.guid = "ABC";
    a.source_id = "u@Host";
    a.fingerprint = test::conformance_sha256(msg);
    a.size = msg.size();
    a.wire_size = msg.size();
    a.created_us = 1714566896000000;
    a.stored_us = 1714566896000000;
    a.tags = {"unread"};
    spit(dir + "/.izypop3/meta.log", "izypop3-meta 1\n" + store::detail::format_add(a) + "\n");

    auto s = test::open_dir_store<store::localfs_store>(dir);
    ASSERT_TRUE(s);
    auto items = all_items(*s);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].guid, "ABC");
    EXPECT_EQ(items[0].source_id, "u@Host");
    EXPECT_EQ(items[0].fingerprint, test::conformance_sha256(msg));
    EXPECT_EQ(*store::read_all(*s, items[0]), msg);
    // Served under its UID.
    {
        auto md = s->open_maildrop("anyone");
        ASSERT_TRUE(md.has_value());
        ASSERT_EQ((*md)->messages().size(), 1u);
        EXPECT_EQ((*md)->messages()[0].uid, "ABC");
    }
    // The same message again is recognised; another guid gets a name of the new kind.
    EXPECT_EQ(*store::add_item(*s, meta_of("ABC", "", "u@Host"), msg),
              store::add_outcome::already_present);
    EXPECT_EQ(*store::add_item(*s, meta_of("abc", "", "u@Host"), "other\r\n"),
              store::add_outcome::added);
    EXPECT_EQ(slurp(dir + "/u@%48ost_abc.eml"), "other\r\n");
    ASSERT_EQ(all_items(*s).size(), 2u);
    // Tag changes move the old file and keep its name.
    ASSERT_FALSE(s->mark(items[0], "archive"));
    EXPECT_EQ(slurp(dir + "/archive/u@Host_ABC.eml"), msg);
}

}  // namespace
}  // namespace izypop3
