// The maildir store: the conformance suite (one Maildir, and one per user with %u), the
// Maildir layout and names, files Dovecot or mutt left (cur/ with flags, LF line ends),
// refusing a directory that is not a Maildir, and Dovecot's POP3 server reading a Maildir
// this store wrote, byte for byte.

#include "dir_store_test_support.hpp"
#include "store_conformance.hpp"

#include <izypop3/store/store_maildrop.hpp>

#include <atomic>
#include <cstdlib>
#include <regex>
#include <set>
#include <thread>

namespace izypop3 {
namespace {

using store::errc;
using test::all_items;
using test::fresh_dir;
using test::meta_of;
using test::slurp;
using test::spit;

}  // namespace

using test::StoreConformance;
INSTANTIATE_TEST_SUITE_P(Maildir, StoreConformance,
                         ::testing::Values(test::dir_backend<store::maildir_store>("maildir", true),
                                           test::dir_backend<store::maildir_store>("maildir",
                                                                                   false)),
                         test::backend_name);

namespace {

std::string repeated(const std::string& s, std::size_t n) {
    std::string out;
    while (n-- > 0) out += s;
    return out;
}

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(MaildirStore, NewMessagesGoToNewUnderTheClassicName) {
    std::string dir = fresh_dir();
    auto s = test::open_dir_store<store::maildir_store>(dir);
    ASSERT_TRUE(s);
    const std::string msg = "Subject: s\n\nbare LF\n";
    ASSERT_TRUE(store::add_item(*s, meta_of("g1"), msg).has_value());
    auto files = names_in(dir + "/new");
    ASSERT_EQ(files.size(), 1u);
    EXPECT_TRUE(
        std::regex_match(files[0], std::regex(R"(\d+\.M\d+P\d+Q\d+R[0-9a-f]+\..+,S=20,W=23)")))
        << files[0];
    EXPECT_EQ(slurp(dir + "/new/" + files[0]), msg);
    EXPECT_TRUE(names_in(dir + "/tmp").empty());
    auto items = all_items(*s);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].guid, "g1");
    EXPECT_EQ(items[0].wire_size, 23u);

    ASSERT_FALSE(s->mark(items[0], "archive"));
    EXPECT_TRUE(names_in(dir + "/new").empty());
    EXPECT_EQ(names_in(dir + "/.archive/new"), files);
    EXPECT_TRUE(std::filesystem::exists(dir + "/.archive/maildirfolder"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/.izypop3-meta.log"));
}

TEST(MaildirStore, FilesOtherProgramsDeliveredAreServedWithCrlf) {
    std::string dir = fresh_dir();
    for (auto sub : {"cur", "new", "tmp"}) std::filesystem::create_directories(dir + "/" + sub);
    spit(dir + "/cur/1700000000.M1P2.host:2,S", "Subject: seen\n\n.dot line\nend\n");
    spit(dir + "/new/1700000001.M1P2.host", "Subject: new\r\n\r\nbody\r\n");
    spit(dir + "/tmp/1700000002.M1P2.host", "half written");
    auto s = test::open_dir_store<store::maildir_store>(dir);
    ASSERT_TRUE(s);
    auto md = s->open_maildrop("whoever");
    ASSERT_TRUE(md.has_value()) << s->last_error();
    const auto& msgs = (*md)->messages();
    ASSERT_EQ(msgs.size(), 2u);
    EXPECT_EQ(msgs[0].uid, "1700000000.M1P2.host");
    EXPECT_EQ(msgs[0].size, std::string("Subject: seen\r\n\r\n.dot line\r\nend\r\n").size());
    EXPECT_EQ(msgs[1].uid, "1700000001.M1P2.host");
    EXPECT_EQ(msgs[1].size, 22u);
    // A mail reader renaming the file for new flags does not lose the message.
    std::filesystem::rename(dir + "/cur/1700000000.M1P2.host:2,S",
                            dir + "/cur/1700000000.M1P2.host:2,RS");
    auto src = (*md)->open(0);
    ASSERT_TRUE(src.has_value());
    ASSERT_FALSE((*md)->commit_deletions(std::vector<std::size_t>{0}));
    md->reset();
    EXPECT_EQ(names_in(dir + "/.archive/cur"),
              std::vector<std::string>{"1700000000.M1P2.host:2,RS"});
}

TEST(MaildirStore, ADirectoryThatIsNotAMaildirIsRefused) {
    std::string dir = fresh_dir();
    spit(dir + "/precious.txt", "x");
    store::dir_store_options o;
    o.path = dir;
    std::string why;
    auto s = store::maildir_store::open(o, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::bad_config);
    EXPECT_EQ(why, dir +
                       " is neither empty nor a Maildir (no cur/, new/ or tmp/); give the "
                       "Maildir itself or an empty directory");
    EXPECT_EQ(names_in(dir), std::vector<std::string>{"precious.txt"});
}

// Dovecot (a private instance, tests/support/private_dovecot.sh) serves a Maildir this
// store wrote; python's poplib fetches every message, which must be the stored octets.
TEST(MaildirInterop, DovecotServesAMaildirWeWrote) {
    const std::string work = fresh_dir("dovecot");
    const std::string script =
        std::string(IZYPOP3_SOURCE_DIR) + "/tests/support/private_dovecot.sh";
    const std::string dc = work + "/dc";
    struct stopper {
        std::string cmd;
        ~stopper() { (void)std::system(cmd.c_str()); }
    } stop{"bash " + script + " stop " + dc + " >/dev/null 2>&1"};
    ASSERT_EQ(std::system(("bash " + script + " start " + dc + " alice s3cret > " + work +
                           "/start.out 2>&1")
                              .c_str()),
              0)
        << slurp(work + "/start.out");
    const std::string box = dc + "/mail/alice";
    std::vector<std::string> expected{
        "From: a@example.org\r\nSubject: one\r\n\r\n.starts with a dot\r\n..two dots\r\n",
        "Subject: 8bit \xe4\xf6\xfc\r\n\r\n" + repeated(std::string(76, 'x') + "\r\n", 1000),
        "Subject: three\r\n\r\nlast\r\n",
    };
    {
        auto s = test::open_dir_store<store::maildir_store>(box);
        ASSERT_TRUE(s);
        for (std::size_t i = 0; i < expected.size(); ++i)
            ASSERT_TRUE(store::add_item(*s, meta_of("m" + std::to_string(i)), expected[i]));
        ASSERT_TRUE(store::add_item(*s, meta_of("archived"), "Subject: gone\r\n\r\nx\r\n"));
        auto items = all_items(*s);
        ASSERT_EQ(items.size(), 4u);
        ASSERT_FALSE(s->mark(items[3], "archive"));  // a folder of its own: not in INBOX
    }
    ASSERT_EQ(std::system(("chown -R nobody:nogroup " + box).c_str()), 0);
    spit(work + "/fetch.py", R"(import poplib, sys, re
env = dict(l.strip().split("=") for l in open(sys.argv[1]))
p = poplib.POP3("127.0.0.1", int(env["POP3_PORT"]), timeout=60)
p.user("alice"); p.pass_("s3cret")
for line in p.list()[1]:
    n, size = line.split()
    data = b"".join(l + b"\r\n" for l in p.retr(int(n))[1])
    if len(data) != int(size):
        sys.exit("LIST says %s, RETR gave %d" % (size.decode(), len(data)))
    open(sys.argv[2] + "/" + n.decode(), "wb").write(data)
p.quit()
)");
    std::filesystem::create_directories(work + "/got");
    ASSERT_EQ(std::system(("python3 " + work + "/fetch.py " + dc + "/ports.env " + work +
                           "/got > " + work + "/fetch.out 2>&1")
                              .c_str()),
              0)
        << slurp(work + "/fetch.out") << slurp(dc + "/dovecot.log");
    std::vector<std::string> got;
    for (const auto& name : names_in(work + "/got")) got.push_back(slurp(work + "/got/" + name));
    std::sort(got.begin(), got.end());
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(got[i] == expected[i]) << i;
}

}  // namespace
}  // namespace izypop3

namespace izypop3 {
namespace {

// Group commit, as the backup client uses it: no fsync per item, items published by flush()
// (one syncfs, the log's fsync, the renames, the directories); a store destroyed
// without flush() publishes nothing and leaves no temporary file; a folder removed behind
// the store's back is made again on the next write.
// The backup client flushes on a second thread while it goes on adding: every item ends
// up published exactly once, whichever flush took it, and nothing stays in tmp/.
TEST(MaildirStore, GroupCommitFlushWhileAdding) {
    std::string dir = test::fresh_dir();
    auto s = test::open_dir_store<store::maildir_store>(dir);
    ASSERT_TRUE(s);
    s->set_group_commit(true);
    std::atomic<bool> adding{true};
    std::atomic<int> flush_failures{0};
    std::thread flusher([&] {
        while (adding.load())
            if (s->flush()) ++flush_failures;
    });
    for (int i = 0; i < 200; ++i) {
        auto w = s->begin_add(test::meta_of("c" + std::to_string(i)));
        ASSERT_TRUE(w.has_value());
        ASSERT_FALSE((*w)->write("Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n"));
        auto r = (*w)->commit();
        ASSERT_TRUE(r.has_value()) << r.error().message();
    }
    adding.store(false);
    flusher.join();
    EXPECT_FALSE(s->flush());
    EXPECT_EQ(flush_failures.load(), 0);
    std::set<std::string> guids;
    for (const auto& it : test::all_items(*s)) EXPECT_TRUE(guids.insert(it.guid).second);
    EXPECT_EQ(guids.size(), 200u);
    EXPECT_EQ(names_in(dir + "/new").size(), 200u);
    EXPECT_TRUE(names_in(dir + "/tmp").empty());
}

TEST(MaildirStore, GroupCommitSyncsDataApartAndFlushesOnce) {
    std::string dir = test::fresh_dir();
    auto s = test::open_dir_store<store::maildir_store>(dir);
    ASSERT_TRUE(s);
    s->set_group_commit(true);
    for (int i = 0; i < 3; ++i) {
        auto w = s->begin_add(test::meta_of("g" + std::to_string(i)));
        ASSERT_TRUE(w.has_value());
        ASSERT_FALSE((*w)->write("Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n"));
        ASSERT_FALSE((*w)->sync_data());
        auto r = (*w)->commit();
        ASSERT_TRUE(r.has_value()) << r.error().message();
        EXPECT_EQ(*r, store::add_outcome::added);
    }
    // Committed, not yet published: no name exists before flush() made the log durable.
    EXPECT_TRUE(test::all_items(*s).empty());
    EXPECT_TRUE(names_in(dir + "/new").empty());
    EXPECT_EQ(names_in(dir + "/tmp").size(), 3u);
    EXPECT_FALSE(s->flush());
    EXPECT_EQ(test::all_items(*s).size(), 3u);
    EXPECT_FALSE(s->flush());  // nothing left to do
    EXPECT_EQ(names_in(dir + "/new").size(), 3u);
    EXPECT_TRUE(names_in(dir + "/tmp").empty());

    // A write after sync_data() is synced again by commit; the item is whole.
    auto w = s->begin_add(test::meta_of("late"));
    ASSERT_TRUE(w.has_value());
    ASSERT_FALSE((*w)->write("Subject: late\r\n"));
    ASSERT_FALSE((*w)->sync_data());
    ASSERT_FALSE((*w)->write("\r\nbody\r\n"));
    ASSERT_TRUE((*w)->commit().has_value());
    EXPECT_FALSE(s->flush());
    bool found = false;
    for (const auto& it : test::all_items(*s)) found |= it.guid == "late" && it.size == 23;
    EXPECT_TRUE(found);

    // Committed and never flushed: nothing published, nothing left behind.
    {
        auto other = test::open_dir_store<store::maildir_store>(dir);
        ASSERT_TRUE(other);
        other->set_group_commit(true);
        auto u = other->begin_add(test::meta_of("unflushed"));
        ASSERT_TRUE(u.has_value());
        ASSERT_FALSE((*u)->write("Subject: u\r\n\r\nx\r\n"));
        ASSERT_TRUE((*u)->commit().has_value());
    }
    EXPECT_TRUE(names_in(dir + "/tmp").empty());
    for (const auto& it : test::all_items(*s)) EXPECT_NE(it.guid, "unflushed");

    std::filesystem::remove_all(dir + "/tmp");
    auto again = s->begin_add(test::meta_of("after"));
    if (!again) {
        // The first write after the removal may fail; the next one makes the folder again.
        again = s->begin_add(test::meta_of("after"));
    }
    ASSERT_TRUE(again.has_value()) << again.error().message();
    ASSERT_FALSE((*again)->write("Subject: after\r\n\r\nx\r\n"));
    EXPECT_TRUE((*again)->commit().has_value());
}

}  // namespace
}  // namespace izypop3
