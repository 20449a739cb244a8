// Messages whose stored octets are already their POP3 wire body (CRLF line ends, no line
// starting with '.') are handed to the server as a file region (sendfile) by the directory
// stores' maildrops, and only while the file is the one that was examined; everything
// else is read and converted as before. Both layouts, byte for byte.

#include "dir_store_test_support.hpp"

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <filesystem>

namespace izypop3 {
namespace {

using test::fresh_dir;
using test::meta_of;
using test::slurp;
using test::spit;

struct layout_case {
    std::string name;
    std::function<std::unique_ptr<store::mime_store>(const std::string&)> open;
    std::string inbox;  // where files other programs deliver go
};

void PrintTo(const layout_case& c, std::ostream* os) {
    *os << c.name;
}

std::vector<layout_case> layouts() {
    return {
        {"localfs",
         [](const std::string& d) -> std::unique_ptr<store::mime_store> {
             return test::open_dir_store<store::localfs_store>(d);
         },
         ""},
        {"maildir",
         [](const std::string& d) -> std::unique_ptr<store::mime_store> {
             return test::open_dir_store<store::maildir_store>(d);
         },
         "new"},
    };
}

class DirWireForm : public ::testing::TestWithParam<layout_case> {
  protected:
    void SetUp() override {
        dir = fresh_dir(GetParam().name);
        if (GetParam().name == "maildir")
            for (auto sub : {"cur", "new", "tmp"})
                std::filesystem::create_directories(dir + "/" + sub);
        s = GetParam().open(dir);
        ASSERT_TRUE(s);
    }

    std::unique_ptr<core::maildrop> drop() {
        auto md = s->open_maildrop("");
        EXPECT_TRUE(md.has_value()) << (md ? "" : md.error().message());
        return md ? std::move(*md) : nullptr;
    }

    // The file of the only item.
    std::string only_file() {
        for (const auto& rel : test::files_below(dir)) {
            if (rel.find(".izypop3") != std::string::npos || rel.starts_with("tmp/")) continue;
            return dir + "/" + rel;
        }
        return {};
    }

    std::string dir;
    std::unique_ptr<store::mime_store> s;
};

std::string read_region(const core::file_region& r) {
    std::string out(r.length, '\0');
    EXPECT_EQ(::pread(r.fd, out.data(), out.size(), static_cast<off_t>(r.offset)),
              static_cast<ssize_t>(out.size()));
    return out;
}

std::string read_all(core::message_source& src) {
    std::string out;
    std::array<char, 7> buf{};  // small: the end is found across several reads
    for (;;) {
        auto n = src.read(buf);
        EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().message());
        if (!n || *n == 0) return out;
        out.append(buf.data(), *n);
    }
}

void bump_mtime(const std::string& path) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    struct timeval tv[2] = {{st.st_atim.tv_sec, 0}, {st.st_mtim.tv_sec + 7, 0}};
    ASSERT_EQ(::utimes(path.c_str(), tv), 0);
}

TEST_P(DirWireForm, AMessageInWireFormIsOfferedAsItsFile) {
    const std::string msg = "Subject: w\r\n\r\nline one\r\nline. two\r\n";
    ASSERT_TRUE(store::add_item(*s, meta_of("w1"), msg).has_value());
    auto md = drop();
    ASSERT_TRUE(md);
    EXPECT_TRUE(md->served_locally());
    ASSERT_EQ(md->messages().size(), 1u);
    EXPECT_EQ(md->messages()[0].size, msg.size());
    auto src = md->open(0);
    ASSERT_TRUE(src.has_value());
    auto region = (*src)->wire_file();
    ASSERT_TRUE(region.has_value());
    EXPECT_EQ(region->offset, 0u);
    EXPECT_EQ(region->length, msg.size());
    EXPECT_EQ(read_region(*region), msg);
    EXPECT_FALSE((*src)->check_sent_file());
}

TEST_P(DirWireForm, MessagesThatNeedChangingAreRead) {
    // A line starting with '.', bare LF, no final CRLF: each must go through the encoder.
    for (const std::string& msg :
         {std::string("Subject: a\r\n\r\n.dot\r\n"), std::string("Subject: b\n\nbody\n"),
          std::string("Subject: c\r\n\r\nno end")}) {
        SetUp();
        ASSERT_TRUE(store::add_item(*s, meta_of("m"), msg).has_value());
        auto md = drop();
        ASSERT_TRUE(md);
        auto src = md->open(0);
        ASSERT_TRUE(src.has_value());
        EXPECT_FALSE((*src)->wire_file().has_value()) << msg;
        EXPECT_EQ(read_all(**src), msg);
    }
}

TEST_P(DirWireForm, AFileTouchedSinceItWasExaminedIsReadAndChecked) {
    const std::string msg = "Subject: t\r\n\r\nbody\r\n";
    ASSERT_TRUE(store::add_item(*s, meta_of("t1"), msg).has_value());
    const std::string file = only_file();
    ASSERT_FALSE(file.empty());
    bump_mtime(file);
    auto md = drop();
    ASSERT_TRUE(md);
    auto src = md->open(0);
    ASSERT_TRUE(src.has_value());
    EXPECT_FALSE((*src)->wire_file().has_value());
    EXPECT_EQ(read_all(**src), msg);  // same octets: the SHA-256 still matches
    src->reset();
    md.reset();  // the session ends; the next one takes a new snapshot

    // Same size, other octets, mtime changed: the read path's hash refuses it.
    spit(file, "Subject: t\r\n\r\nBODY\r\n");
    auto md2 = drop();
    ASSERT_TRUE(md2);
    auto src2 = md2->open(0);
    ASSERT_TRUE(src2.has_value());
    EXPECT_FALSE((*src2)->wire_file().has_value());
    std::array<char, 64> buf{};
    boost::system::error_code failed;
    for (int i = 0; i < 10 && !failed; ++i) {
        auto n = (*src2)->read(buf);
        if (!n)
            failed = n.error();
        else if (*n == 0)
            break;
    }
    EXPECT_EQ(failed, store::errc::corrupt);
}

TEST_P(DirWireForm, AFileChangedWhileBeingSentFailsTheCheck) {
    const std::string msg = "Subject: c\r\n\r\nbody\r\n";
    ASSERT_TRUE(store::add_item(*s, meta_of("c1"), msg).has_value());
    auto md = drop();
    ASSERT_TRUE(md);
    auto src = md->open(0);
    ASSERT_TRUE(src.has_value());
    ASSERT_TRUE((*src)->wire_file().has_value());
    bump_mtime(only_file());
    EXPECT_EQ((*src)->check_sent_file(), store::errc::corrupt);
}

TEST_P(DirWireForm, FilesOtherProgramsDeliveredInWireFormAreLearnedOnce) {
    const std::string crlf = "Subject: d\r\n\r\nfrom elsewhere\r\n";
    const std::string lf = "Subject: e\n\nfrom elsewhere\n";
    const std::string inbox = GetParam().inbox.empty() ? dir : dir + "/" + GetParam().inbox;
    const std::string ext = GetParam().name == "localfs" ? ".eml" : "";
    spit(inbox + "/1700000000.M1P1.host" + ext, crlf);
    spit(inbox + "/1700000001.M1P1.host" + ext, lf);
    for (int session = 0; session < 2; ++session) {
        auto md = drop();
        ASSERT_TRUE(md);
        ASSERT_EQ(md->messages().size(), 2u);
        EXPECT_EQ(md->messages()[0].size, crlf.size());
        EXPECT_EQ(md->messages()[1].size, lf.size() + 3);
        auto a = md->open(0);
        ASSERT_TRUE(a.has_value());
        auto region = (*a)->wire_file();
        ASSERT_TRUE(region.has_value()) << "session " << session;
        EXPECT_EQ(read_region(*region), crlf);
        auto b = md->open(1);
        ASSERT_TRUE(b.has_value());
        EXPECT_FALSE((*b)->wire_file().has_value());
        EXPECT_EQ(read_all(**b), lf);
    }
    // The log noted it, so the second session did not have to read the file again.
    const std::string log =
        slurp(dir + (GetParam().name == "localfs" ? "/.izypop3/meta.log" : "/.izypop3-meta.log"));
    EXPECT_NE(log.find("\nwire 1700000000.M1P1.host size="), std::string::npos) << log;
    EXPECT_NE(log.find(" form=wire #"), std::string::npos) << log;
}

TEST(MaildirMaildrop, AMessageAMailReaderRenamedIsStillServed) {
    const std::string dir = fresh_dir("renamed");
    auto s = test::open_dir_store<store::maildir_store>(dir);
    ASSERT_TRUE(s);
    const std::string msg = "Subject: r\r\n\r\nbody\r\n";
    ASSERT_TRUE(store::add_item(*s, meta_of("r1"), msg).has_value());
    auto md = s->open_maildrop("");
    ASSERT_TRUE(md.has_value());
    std::string name;
    for (const auto& e : std::filesystem::directory_iterator(dir + "/new"))
        name = e.path().filename();
    ASSERT_FALSE(name.empty());
    // A reader marks it seen: new/NAME becomes cur/NAME:2,S after the snapshot was taken.
    std::filesystem::rename(dir + "/new/" + name, dir + "/cur/" + name + ":2,S");
    auto src = (*md)->open(0);
    ASSERT_TRUE(src.has_value()) << src.error().message();
    EXPECT_EQ(read_all(**src), msg);
}

INSTANTIATE_TEST_SUITE_P(Layouts, DirWireForm, ::testing::ValuesIn(layouts()),
                         [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace izypop3

namespace izypop3 {
namespace {

// A server with more users than the store keeps caches for: mailboxes used least recently
// forget their folder scan and log, and serve and accept messages as before when used again.
TEST(DirStoreCaches, MailboxesBeyondTheCachedOnesWorkAfterForgetting) {
    const std::string dir = test::fresh_dir("many");
    auto s =
        test::open_dir_store<store::maildir_store>(dir + "/%u", store::commit_mode::archive, true);
    ASSERT_TRUE(s);
    const int users = 600;
    for (int u = 0; u < users; ++u) {
        const std::string box = dir + "/u" + std::to_string(u);
        for (auto sub : {"cur", "new", "tmp"}) std::filesystem::create_directories(box + "/" + sub);
        test::spit(box + "/new/1700000000.M1P1.h",
                   "Subject: " + std::to_string(u) + "\r\n\r\nx\r\n");
    }
    for (int u = 0; u < users; ++u) {
        auto md = s->open_maildrop("u" + std::to_string(u));
        ASSERT_TRUE(md.has_value()) << u;
        ASSERT_EQ((*md)->messages().size(), 1u);
    }
    // u0 was forgotten long ago.
    ASSERT_TRUE(
        store::add_item(*s, test::meta_of("second", "u0"), "Subject: 2\r\n\r\ny\r\n").has_value());
    auto md = s->open_maildrop("u0");
    ASSERT_TRUE(md.has_value());
    ASSERT_EQ((*md)->messages().size(), 2u);
    auto first = (*md)->open(0);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(read_all(**first), "Subject: 0\r\n\r\nx\r\n");
    auto second = (*md)->open(1);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(read_all(**second), "Subject: 2\r\n\r\ny\r\n");
}

}  // namespace
}  // namespace izypop3
