// Faults of the directory stores (localfs, maildir): a writer killed at many instants never
// leaves a partial message or a temporary file that a query returns, and a full disk
// (ENOSPC on a 64 KiB tmpfs) fails the add cleanly with the store still consistent.

#include "dir_store_test_support.hpp"
#include "store_conformance.hpp"

#include <izypop3/store/errc.hpp>

#include <csignal>
#include <random>
#include <regex>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

namespace izypop3 {
namespace {

using store::errc;
using test::all_items;
using test::fresh_dir;
using test::meta_of;

// The payload of crash item `guid`: a few hundred KiB so that a kill often lands mid-write.
std::string payload_for(const std::string& guid) {
    std::size_t n = 1000 + std::hash<std::string>{}(guid) % 300000;
    std::string body = test::conformance_bytes(n, static_cast<unsigned>(std::hash<std::string>{}(guid)));
    for (auto& c : body)
        if (c == '\r' || c == '\n') c = 'n';
    return "Subject: " + guid + "\r\n\r\n" + body + "\r\n";
}

template <class Store>
void run_crash_rounds(const std::string& dir, unsigned rounds) {
    std::mt19937 rng(7);
    std::size_t seen_total = 0;
    for (unsigned round = 0; round < rounds; ++round) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            store::dir_store_options o;
            o.path = dir;
            std::string why;
            auto s = Store::open(o, why);
            if (!s) ::_exit(3);
            for (unsigned i = 0;; ++i) {
                std::string guid = "c" + std::to_string(round) + "_" + std::to_string(i);
                auto w = (*s)->begin_add(meta_of(guid));
                if (!w) ::_exit(4);
                std::string data = payload_for(guid);
                // Several chunks, so that the kill can also fall between writes.
                for (std::size_t pos = 0; pos < data.size(); pos += 65536)
                    if ((*w)->write(std::string_view(data).substr(pos, 65536))) ::_exit(5);
                if (!(*w)->commit()) ::_exit(6);
            }
        }
        ::usleep(std::uniform_int_distribution<unsigned>(0, 60000)(rng));
        ::kill(pid, SIGKILL);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: exit "
                                         << WEXITSTATUS(status);

        auto s = test::open_dir_store<Store>(dir);
        ASSERT_TRUE(s);
        auto items = all_items(*s);
        const std::regex crash_guid(R"(c\d+_\d+)");
        for (const auto& it : items) {
            ASSERT_TRUE(std::regex_match(it.guid, crash_guid)) << "round " << round << ": "
                                                              << it.guid;
            auto data = store::read_all(*s, it);
            ASSERT_TRUE(data.has_value()) << it.guid << ": " << data.error().message();
            ASSERT_TRUE(*data == payload_for(it.guid)) << "round " << round << ": " << it.guid
                                                       << " is not complete";
        }
        EXPECT_GE(items.size(), seen_total) << "a committed item vanished";
        seen_total = items.size();
    }
    EXPECT_GT(seen_total, 0u) << "no writer ever committed: the test checked nothing";
}

TEST(DirStoreCrash, LocalfsKilledWritersLeaveNoPartialItem) {
    std::string dir = fresh_dir("crash");
    run_crash_rounds<store::localfs_store>(dir, 40);
    // Temporary files of killed writers stay in .izypop3/tmp, where no query looks.
    for (const auto& f : test::files_below(dir)) {
        if (f.starts_with(".izypop3/")) continue;
        EXPECT_TRUE(f.ends_with(".eml")) << f;
    }
}

TEST(DirStoreCrash, MaildirKilledWritersLeaveNoPartialItem) {
    std::string dir = fresh_dir("crash");
    run_crash_rounds<store::maildir_store>(dir, 40);
    // Random octets hold NULs: those messages are filed in the conversionerror folder.
    for (const auto& f : test::files_below(dir)) {
        if (f.starts_with(".izypop3") || f.starts_with("tmp/") ||
            f.starts_with(".conversionerror/tmp/") || f == ".conversionerror/maildirfolder")
            continue;
        EXPECT_TRUE(f.starts_with("new/") || f.starts_with(".conversionerror/new/")) << f;
    }
}

// A 64 KiB tmpfs mounted for the test (CI runs as root; without root this test fails
// rather than skips: run it as root or in a container with CAP_SYS_ADMIN).
class tiny_tmpfs {
public:
    tiny_tmpfs() : dir_(fresh_dir("full")) {
        if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=64k,mode=0700") != 0)
            error_ = std::string("cannot mount a 64k tmpfs on ") + dir_ + ": " +
                     std::strerror(errno) + " (this test needs root or CAP_SYS_ADMIN)";
    }
    ~tiny_tmpfs() {
        if (error_.empty()) ::umount2(dir_.c_str(), MNT_DETACH);
    }
    const std::string& dir() const { return dir_; }
    const std::string& error() const { return error_; }

private:
    std::string dir_;
    std::string error_;
};

template <class Store>
void check_disk_full(const std::string& tmp_glob_prefix) {
    tiny_tmpfs fs;
    ASSERT_TRUE(fs.error().empty()) << fs.error();
    auto s = test::open_dir_store<Store>(fs.dir());
    ASSERT_TRUE(s);
    const std::string small = "Subject: small\r\n\r\nfits\r\n";
    ASSERT_TRUE(store::add_item(*s, meta_of("small"), small).has_value());
    const std::string big = "Subject: big\r\n\r\n" + std::string(200 * 1024, 'b') + "\r\n";
    auto r = store::add_item(*s, meta_of("big"), big);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), errc::disk_full) << r.error().message();
    EXPECT_NE(s->last_error().find("No space left on device"), std::string::npos)
        << s->last_error();
    // Nothing of the failed add is left, and the store still works.
    for (const auto& f : test::files_below(fs.dir()))
        EXPECT_FALSE(f.starts_with(tmp_glob_prefix)) << "left behind: " << f;
    auto items = all_items(*s);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].guid, "small");
    EXPECT_EQ(*store::read_all(*s, items[0]), small);
    auto again = test::open_dir_store<Store>(fs.dir());
    ASSERT_TRUE(again);
    EXPECT_EQ(all_items(*again).size(), 1u);
    ASSERT_TRUE(store::add_item(*s, meta_of("small2"), "Subject: s2\r\n\r\nx\r\n").has_value());
}

TEST(DirStoreDiskFull, LocalfsFailsTheAddAndStaysConsistent) {
    check_disk_full<store::localfs_store>(".izypop3/tmp/");
}

TEST(DirStoreDiskFull, MaildirFailsTheAddAndStaysConsistent) {
    check_disk_full<store::maildir_store>("tmp/");
}

}  // namespace
}  // namespace izypop3
