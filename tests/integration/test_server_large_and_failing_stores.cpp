// The server on a real socket against stores that are large or fail (SECURITY S19, S21): a
// message past 4 GiB is streamed with 64-bit sizes and bounded memory, and a store that
// refuses the deletions at QUIT (a read-only file system) gets -ERR [SYS/TEMP] (the stores'
// own tests show that such a failure removes nothing: UpdateIsAllOrNothing and others).

#include "loopback_pop3.hpp"

#include <izypop3/core/maildrop.hpp>

#include <boost/asio/read.hpp>

#include <atomic>
#include <cstring>
#include <fstream>

namespace izypop3::test {
namespace {

// A message of `size` octets (a multiple of 80) made up on the fly: lines of 79 'x' and an
// LF, so nothing of it is ever held in memory whole.
class generated_message final : public core::message_source {
  public:
    explicit generated_message(std::uint64_t size) : left_(size) {}
    boost::system::result<std::size_t> read(std::span<char> buf) override {
        // Whole 80-octet lines only (reads are 64 KiB, a multiple of 80 is taken).
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), left_));
        n -= n % 80;
        for (std::size_t i = 0; i < n; i += 80) std::memcpy(buf.data() + i, line().data(), 80);
        left_ -= n;
        return n;
    }

  private:
    static const std::string& line() {
        static const std::string l = std::string(79, 'x') + "\n";
        return l;
    }
    std::uint64_t left_;
};

// The wire size counts each LF as CRLF: 79 'x' + "\n" per 80 octets of source.
constexpr std::uint64_t source_size = 4'295'000'000;  // just past 2^32
constexpr std::uint64_t wire_size = source_size + source_size / 80;

class fixed_maildrop final : public core::maildrop {
  public:
    fixed_maildrop(std::vector<core::message_info> info, std::atomic<int>& commits,
                   boost::system::error_code commit_result)
        : info_(std::move(info)), commits_(commits), commit_result_(commit_result) {}
    const std::vector<core::message_info>& messages() const noexcept override { return info_; }
    bool stable_uids() const noexcept override { return true; }
    boost::system::result<std::unique_ptr<core::message_source>> open(std::size_t i) override {
        if (info_[i].size == wire_size) return std::make_unique<generated_message>(source_size);
        return std::make_unique<generated_message>(info_[i].size / 81 * 80);
    }
    boost::system::error_code commit_deletions(std::span<const std::size_t>) override {
        ++commits_;
        return commit_result_;
    }

  private:
    std::vector<core::message_info> info_;
    std::atomic<int>& commits_;
    boost::system::error_code commit_result_;
};

long resident_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
    return -1;
}

TEST(server_stores, a_message_past_4_gib_is_streamed_whole_with_64_bit_sizes) {
    std::atomic<int> commits{0};
    transport::server_hooks hooks;
    hooks.open_maildrop = [&](std::string_view)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        return std::make_unique<fixed_maildrop>(
            std::vector<core::message_info>{{wire_size, "huge"}}, commits,
            boost::system::error_code{});
    };
    loopback_pop3_server srv({}, hooks);
    line_client c(srv.port());
    c.line();
    c.send("USER a\r\nPASS 12345\r\nLIST\r\nRETR 1\r\n");
    c.line();
    EXPECT_EQ(c.line(), "+OK You are now logged in");
    EXPECT_EQ(c.line(), "+OK 1 messages (" + std::to_string(wire_size) + " octets)");
    EXPECT_EQ(c.line(), "1 " + std::to_string(wire_size));
    EXPECT_EQ(c.line(), ".");
    EXPECT_EQ(c.line(), "+OK " + std::to_string(wire_size) + " octets");
    // Count the body up to its terminator; the server (in this process) must not grow by
    // anything near the message while sending it.
    const long rss_before = resident_kib();
    const std::uint64_t octets = c.count_body();
    EXPECT_EQ(octets, wire_size);
    EXPECT_LT(resident_kib() - rss_before, 64 * 1024) << "RSS grew while streaming 4 GiB";
}

TEST(server_stores, deletions_refused_by_a_read_only_store_get_sys_temp) {
    std::atomic<int> commits{0};
    transport::server_hooks hooks;
    hooks.open_maildrop = [&](std::string_view)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        return std::make_unique<fixed_maildrop>(
            std::vector<core::message_info>{{81, "one"}, {162, "two"}}, commits,
            boost::system::errc::make_error_code(boost::system::errc::read_only_file_system));
    };
    loopback_pop3_server srv({}, hooks);
    line_client c(srv.port());
    c.line();
    c.send("USER a\r\nPASS 12345\r\nDELE 1\r\nQUIT\r\n");
    c.line();
    c.line();
    EXPECT_EQ(c.line(), "+OK Message 1 deleted");
    EXPECT_EQ(c.line(),
              "-ERR [SYS/TEMP] Some messages marked as deleted could not be removed; they will "
              "be listed again next time");
    EXPECT_TRUE(c.line().starts_with("<"));
    EXPECT_EQ(commits.load(), 1);
    EXPECT_FALSE(
        srv.wait_for_log("UPDATE failed, marked messages kept: Read-only file system").empty());
}

}  // namespace
}  // namespace izypop3::test
