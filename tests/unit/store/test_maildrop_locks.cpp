// The directory stores' maildrop locks (maildrop_locks.hpp): one session per mailbox in any
// process, the store's few descriptors however many sessions are open, and the
// mailbox's own flocked lock file where the store's lock file cannot be written.

#include "dir_store_test_support.hpp"

#include <izypop3/store/errc.hpp>

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace izypop3 {
namespace {

using store::errc;
using test::fresh_dir;

std::size_t open_descriptors() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

void make_maildir(const std::string& box) {
    for (auto sub : {"cur", "new", "tmp"}) std::filesystem::create_directories(box + "/" + sub);
    test::spit(box + "/new/1700000000.M1P1.h", "Subject: x\r\n\r\nx\r\n");
}

// Runs `body` in a child process; its exit code.
template <class F>
int in_child(F body) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(MaildropLocks, ManySessionsHoldNoDescriptorOfTheirOwn) {
    const std::string dir = fresh_dir("locks");
    for (int u = 0; u < 300; ++u) make_maildir(dir + "/u" + std::to_string(u));
    auto s = test::open_dir_store<store::maildir_store>(dir + "/%u");
    ASSERT_TRUE(s);
    // A first session per mailbox: the store opens its lock file and keeps each mailbox's
    // log open for the next session.
    for (int u = 0; u < 300; ++u)
        ASSERT_TRUE(s->open_maildrop("u" + std::to_string(u)).has_value());
    const std::size_t before = open_descriptors();
    std::vector<std::unique_ptr<core::maildrop>> held;
    for (int u = 0; u < 300; ++u) {
        auto md = s->open_maildrop("u" + std::to_string(u));
        ASSERT_TRUE(md.has_value()) << u;
        held.push_back(std::move(*md));
    }
    EXPECT_EQ(open_descriptors(), before);
    auto again = s->open_maildrop("u7");
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error(), errc::in_use);
    held.clear();
    EXPECT_TRUE(s->open_maildrop("u7").has_value());
}

TEST(MaildropLocks, AnotherProcessWithAnotherSpellingIsExcluded) {
    const std::string dir = fresh_dir("spell");
    make_maildir(dir + "/alice");
    auto s = test::open_dir_store<store::maildir_store>(dir + "/%u");
    ASSERT_TRUE(s);
    auto md = s->open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    auto other_process = [&] {
        // The same directory, written another way: the lock is the directory's, not its name's.
        auto other = test::open_dir_store<store::maildir_store>(dir + "/./%u");
        if (!other) return 20;
        auto m = other->open_maildrop("alice");
        return m.has_value() ? 21 : m.error() == errc::in_use ? 0 : 22;
    };
    EXPECT_EQ(in_child(other_process), 0);
    md->reset();
    EXPECT_EQ(in_child([&] {
                  auto other = test::open_dir_store<store::maildir_store>(dir + "/./%u");
                  return other && other->open_maildrop("alice").has_value() ? 0 : 23;
              }),
              0);
}

TEST(MaildropLocks, AReadOnlyStoreLocksEachMailboxItself) {
    // The store's directory is root's and not writable for the server's user (nobody):
    // its lock file cannot be made, so each mailbox's own lock file is flocked. CI runs as
    // root, which may write anywhere, hence the child that drops to nobody.
    const std::string dir = fresh_dir("readonly");
    ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);
    make_maildir(dir + "/bob");
    // bob's mailbox belongs to nobody, so the fallback lock file can be made in it.
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir + "/bob"))
        ASSERT_EQ(::chown(e.path().c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown((dir + "/bob").c_str(), 65534, 65534), 0);
    std::filesystem::permissions(test::scratch_root(), std::filesystem::perms::owner_all |
                                                           std::filesystem::perms::others_exec);
    const int code = in_child([&] {
        if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            return 10;
        auto s = test::open_dir_store<store::maildir_store>(dir + "/%u");
        if (!s) return 11;
        auto md = s->open_maildrop("bob");
        if (!md) return 12;
        if ((*md)->messages().size() != 1) return 13;
        auto second = s->open_maildrop("bob");
        if (second || second.error() != errc::in_use) return 14;
        md->reset();
        if (!s->open_maildrop("bob")) return 15;
        if (std::filesystem::exists(dir + "/.izypop3-maildrops")) return 16;
        if (!std::filesystem::exists(dir + "/bob/.izypop3.lock")) return 17;
        return 0;
    });
    EXPECT_EQ(code, 0) << "10: cannot drop privileges, 11: store, 12: maildrop, 13: listing, "
                          "14: second session not refused, 15: not released, 16/17: lock files";
}

}  // namespace
}  // namespace izypop3
