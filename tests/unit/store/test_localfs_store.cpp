// The localfs store: the conformance suite (one mailbox, and one per user with %u), its
// on-disk layout byte for byte, hand-dropped files, per-user routing and refused user names,
// bad paths, the cross-process maildrop lock, and files changed while being served.

#include "dir_store_test_support.hpp"
#include "store_conformance.hpp"

#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
INSTANTIATE_TEST_SUITE_P(Localfs, StoreConformance,
                         ::testing::Values(test::dir_backend<store::localfs_store>("localfs", true),
                                           test::dir_backend<store::localfs_store>("localfs", false)),
                         test::backend_name);

namespace {

TEST(LocalfsStore, FilesAreTheOctetsUnderTheOriginalsNames) {
    std::string dir = fresh_dir();
    auto s = test::open_dir_store<store::localfs_store>(dir);
    ASSERT_TRUE(s);
    const std::string msg = "Subject: a\r\n\r\nbody\r\n";
    auto r = store::add_item(*s, meta_of("guid/1", "", "acct 1"), msg);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, store::add_outcome::added);
    EXPECT_EQ(slurp(dir + "/acct%201_guid%2F1.eml"), msg);
    auto items = all_items(*s);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].guid, "guid/1");
    EXPECT_EQ(items[0].source_id, "acct 1");
    EXPECT_EQ(items[0].size, msg.size());
    EXPECT_EQ(items[0].fingerprint, test::conformance_sha256(msg));
    EXPECT_EQ(items[0].tags, std::vector<std::string>{"unread"});

    ASSERT_FALSE(s->mark(items[0], "archive"));
    EXPECT_FALSE(std::filesystem::exists(dir + "/acct%201_guid%2F1.eml"));
    EXPECT_EQ(slurp(dir + "/archive/acct%201_guid%2F1.eml"), msg);
    // The metadata log is text a person can read, one line per event. The message is its
    // own wire form (CRLF only, no line starting with '.'), noted with the file's mtime.
    std::string log = slurp(dir + "/.izypop3/meta.log");
    EXPECT_TRUE(log.starts_with("izypop3-meta 1\n")) << log;
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/archive/acct%201_guid%2F1.eml").c_str(), &st), 0);
    const std::string mtime =
        std::to_string(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
    EXPECT_NE(log.find("\nadd acct%25201_guid%252F1 guid=guid/1 source=acct%201 fp=" +
                       test::conformance_sha256(msg) + " size=20 wire=20 form=wire mtime=" +
                       mtime + " created="),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("\ntags acct%25201_guid%252F1 tags=archive #"), std::string::npos) << log;
    // Nothing is left in the temporary directory.
    EXPECT_TRUE(std::filesystem::is_empty(dir + "/.izypop3/tmp"));
}

TEST(LocalfsStore, SameOctetsUnderAnotherGuidAreADup) {
    std::string dir = fresh_dir();
    auto s = test::open_dir_store<store::localfs_store>(dir);
    ASSERT_TRUE(s);
    ASSERT_EQ(*store::add_item(*s, meta_of("a"), "same\r\n"), store::add_outcome::added);
    auto second = store::add_item(*s, meta_of("b"), "same\r\n");
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(*second, store::add_outcome::duplicate);
    EXPECT_EQ(*store::add_item(*s, meta_of("a"), "same\r\n"), store::add_outcome::already_present);
    auto items = all_items(*s);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].guid, "b");
    EXPECT_EQ(items[1].tags, std::vector<std::string>{"dup"});
    EXPECT_EQ(slurp(dir + "/dup/b.eml"), "same\r\n");
}

TEST(LocalfsStore, HandDroppedFilesAreServedUnderTheirName) {
    std::string dir = fresh_dir();
    spit(dir + "/by hand.eml", "Subject: x\n\nline\n");
    spit(dir + "/notes.txt", "not a message");
    std::filesystem::create_directories(dir + "/archive");
    spit(dir + "/archive/old.eml", "old\r\n");
    auto s = test::open_dir_store<store::localfs_store>(dir);
    ASSERT_TRUE(s);
    auto items = all_items(*s);
    ASSERT_EQ(items.size(), 2u);
    auto md = s->open_maildrop("anyone");
    ASSERT_TRUE(md.has_value()) << s->last_error();
    ASSERT_EQ((*md)->messages().size(), 1u);  // archive is not served
    // LF line ends count as CRLF on the wire.
    EXPECT_EQ((*md)->messages()[0].size, std::string("Subject: x\r\n\r\nline\r\n").size());
    EXPECT_EQ((*md)->messages()[0].uid, "x" + test::conformance_sha256("by hand").substr(0, 40));
    auto src = (*md)->open(0);
    ASSERT_TRUE(src.has_value());
    char buf[100];
    auto n = (*src)->read(buf);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(std::string(buf, *n), "Subject: x\n\nline\n");
}

TEST(LocalfsStore, UsersGetTheirOwnMailboxAndNamesCannotEscape) {
    std::string dir = fresh_dir();
    auto s = test::open_dir_store<store::localfs_store>(dir + "/%u/mail");
    ASSERT_TRUE(s);
    ASSERT_TRUE(store::add_item(*s, meta_of("m1", "alice"), "to alice\r\n").has_value());
    ASSERT_TRUE(store::add_item(*s, meta_of("m2", "bob"), "to bob\r\n").has_value());
    EXPECT_EQ(slurp(dir + "/alice/mail/m1.eml"), "to alice\r\n");
    EXPECT_EQ(slurp(dir + "/bob/mail/m2.eml"), "to bob\r\n");
    EXPECT_EQ(all_items(*s).size(), 2u);
    EXPECT_EQ(all_items(*s, "bob").size(), 1u);

    auto md = s->open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    ASSERT_EQ((*md)->messages().size(), 1u);
    EXPECT_EQ((*md)->messages()[0].uid, "m1");
    auto nobody = s->open_maildrop("carol");  // no mailbox: empty, and nothing created
    ASSERT_TRUE(nobody.has_value());
    EXPECT_TRUE((*nobody)->messages().empty());
    EXPECT_FALSE(std::filesystem::exists(dir + "/carol"));

    const std::vector<std::string> bad_names{"..", "../bob", "a/b", std::string("a\0b", 3),
                                             ".hidden", "", "tab\tname"};
    for (const auto& bad : bad_names) {
        auto m = s->open_maildrop(bad);
        ASSERT_FALSE(m.has_value()) << bad;
        EXPECT_EQ(m.error(), errc::no_such_mailbox) << bad;
        auto w = s->begin_add(meta_of("x", bad));
        ASSERT_FALSE(w.has_value()) << bad;
        EXPECT_EQ(w.error(), errc::invalid_item) << bad;
    }
    std::vector<std::string> top;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        top.push_back(e.path().filename().string());
    std::sort(top.begin(), top.end());
    // Besides the mailboxes only the store's maildrop lock files (maildrop_locks.hpp).
    EXPECT_EQ(top, (std::vector<std::string>{".izypop3-maildrops", "alice", "bob"}));
}

TEST(LocalfsStore, BadPathsAreExplained) {
    std::string dir = fresh_dir();
    store::dir_store_options o;
    o.path = dir + "/missing";
    std::string why;
    auto s = store::localfs_store::open(o, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::bad_config);
    EXPECT_EQ(why, "the store directory " + dir + "/missing does not exist (mimestore.path " +
                       dir + "/missing); create it or add mimestore.create true");
    o.create = true;
    s = store::localfs_store::open(o, why);
    ASSERT_TRUE(s.has_value()) << why;
    EXPECT_TRUE(std::filesystem::is_directory(dir + "/missing"));

    test::spit(dir + "/file", "x");
    o.path = dir + "/file";
    s = store::localfs_store::open(o, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::bad_config);
    EXPECT_EQ(why, "the store directory " + dir + "/file is not a directory (mimestore.path " +
                       dir + "/file); give a directory");
}

TEST(LocalfsStore, WithoutPermissionTheStoreSaysSo) {
    // CI runs as root, which may read anything: the check runs in a child that has dropped
    // to nobody (65534), as `setpriv --reuid=nobody` would.
    std::string dir = fresh_dir();
    ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
    test::spit(dir + "/x.eml", "x\r\n");
    std::filesystem::permissions(test::scratch_root(), std::filesystem::perms::owner_all |
                                                           std::filesystem::perms::others_exec);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(10);
        store::dir_store_options o;
        o.path = dir;
        std::string why;
        auto s = store::localfs_store::open(o, why);
        if (s.has_value()) ::_exit(11);
        if (s.error() != errc::read_only) ::_exit(12);
        if (why != "no permission to read the store directory " + dir +
                       "; run as its owner or change its permissions: Permission denied")
            ::_exit(13);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "10: cannot drop privileges, 11: opened, 12: wrong "
                                         "error, 13: wrong text";
}

TEST(LocalfsStore, TheMaildropLockHoldsAcrossProcesses) {
    std::string dir = fresh_dir();
    auto s = test::open_dir_store<store::localfs_store>(dir);
    ASSERT_TRUE(s);
    ASSERT_TRUE(store::add_item(*s, meta_of("m"), "m\r\n").has_value());
    auto md = s->open_maildrop("u");
    ASSERT_TRUE(md.has_value());
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        store::dir_store_options o;
        o.path = dir;
        std::string why;
        auto other = store::localfs_store::open(o, why);
        if (!other) ::_exit(20);
        auto m = (*other)->open_maildrop("u");
        ::_exit(m.has_value() ? 21 : m.error() == errc::in_use ? 0 : 22);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    md->reset();
    auto again = s->open_maildrop("u");
    EXPECT_TRUE(again.has_value());
}

TEST(LocalfsStore, AFileChangedWhileServedFailsItsReadNotTheSession) {
    std::string dir = fresh_dir();
    auto s = test::open_dir_store<store::localfs_store>(dir);
    ASSERT_TRUE(s);
    ASSERT_TRUE(store::add_item(*s, meta_of("a"), "aaaa\r\n").has_value());
    ASSERT_TRUE(store::add_item(*s, meta_of("b"), "bbbb\r\n").has_value());
    ASSERT_TRUE(store::add_item(*s, meta_of("c"), "cccc\r\n").has_value());
    auto md = s->open_maildrop("u");
    ASSERT_TRUE(md.has_value());
    spit(dir + "/a.eml", "AAAA\r\n");  // replaced: same size, other octets
    ::truncate((dir + "/b.eml").c_str(), 2);
    std::filesystem::remove(dir + "/c.eml");
    auto read = [&](std::size_t i) -> boost::system::error_code {
        auto src = (*md)->open(i);
        if (!src) return src.error();
        char buf[64];
        for (;;) {
            auto n = (*src)->read(buf);
            if (!n) return n.error();
            if (*n == 0) return {};
        }
    };
    EXPECT_EQ(read(0), errc::corrupt);
    EXPECT_EQ(read(1), errc::corrupt);
    EXPECT_EQ(read(2), errc::not_found);
    EXPECT_FALSE((*md)->commit_deletions(std::vector<std::size_t>{2}));
}

}  // namespace
}  // namespace izypop3
