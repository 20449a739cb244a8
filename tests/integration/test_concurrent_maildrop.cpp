// SECURITY F06: one maildrop, many hands at once. A server with two I/O threads serves a
// localfs store (real files, real locks) while a delivery thread adds messages to it, two
// reader threads log in, list and retrieve, and a backup (clientpop3's run_backup) copies
// into a second store and deletes what it stored. tests/check.sh runs this under
// ThreadSanitizer (no data race may be reported); in every build it checks that nothing was
// lost: after a final backup every delivered message is in the backup exactly once and the
// served maildrop is empty.

#include "clientpop3/backup_job.hpp"
#include "clientpop3/message_selection.hpp"
#include "clientpop3/pop3_link.hpp"
#include "loopback_pop3.hpp"

#include <izypop3/store/localfs_store.hpp>
#include <izypop3/store/store.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

namespace izypop3::test {
namespace {

constexpr int deliveries = 40;

std::unique_ptr<store::localfs_store> open_store(const std::string& path) {
    store::localfs_store_options o;
    o.path = path;
    o.create = true;
    o.commitmode = store::commit_mode::remove;
    std::string why;
    auto s = store::localfs_store::open(o, why);
    EXPECT_TRUE(s.has_value()) << why;
    return s ? std::move(*s) : nullptr;
}

// One backup of alice's maildrop into `target`, deleting what was stored. False when the
// maildrop was locked by another session (then nothing happened).
bool backup_once(std::uint16_t port, store::mime_store& target) {
    transport::client_stream_options so;
    so.host = "127.0.0.1";
    so.port = port;
    so.tls.verify = false;
    core::client_config cc;
    cc.user = "alice";
    cc.secret = "12345";
    cc.host = so.host;
    cc.port = port;
    app::pop3_link link(so, cc);
    if (!link.open()) return false;  // -ERR [IN-USE]: a reader holds the maildrop
    app::backup_settings b;
    std::string error;
    b.selection = *app::parse_selection("all", error);
    b.delete_stored = true;
    b.source_id = "alice@127.0.0.1";
    b.mailbox = "alice";
    std::ostringstream progress;
    const auto sum = app::run_backup(link, target, b, progress);
    EXPECT_EQ(link.failure(), app::link_failure::none) << link.error_text();
    EXPECT_EQ(sum.failed, 0u) << progress.str();
    return sum.quit_ok;
}

// A reader: log in, STAT, LIST, RETR the first message if any, QUIT. False when the
// maildrop was locked.
bool read_once(std::uint16_t port) {
    line_client c(port);
    c.line();
    c.send("USER alice\r\nPASS 12345\r\n");
    c.line();
    if (c.line() != "+OK You are now logged in") return false;  // locked: try again later
    c.send("STAT\r\n");
    const std::string stat = c.line();
    EXPECT_TRUE(stat.starts_with("+OK ")) << stat;
    c.send("LIST\r\n");
    for (std::string l = c.line(); l != "." && !l.starts_with("<"); l = c.line()) {
    }
    if (stat != "+OK 0 0") {
        c.send("RETR 1\r\n");
        EXPECT_TRUE(c.line().starts_with("+OK ")) << "RETR 1";
        c.count_body();
    }
    c.send("QUIT\r\n");
    EXPECT_TRUE(c.line().starts_with("+OK"));
    return true;
}

TEST(concurrent_maildrop, sessions_delivery_and_backup_at_once_lose_nothing) {
    const auto root =
        std::filesystem::temp_directory_path() / ("izypop3-f06-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root);
    auto served = open_store((root / "served/%u").string());
    auto backup = open_store((root / "backup").string());
    ASSERT_TRUE(served && backup);

    transport::server_options opt;
    opt.threads = 2;
    transport::server_hooks hooks;
    hooks.open_maildrop = [&](std::string_view user)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        auto md = served->open_maildrop(user);
        if (!md) return store::to_maildrop_failure(md.error());
        return std::move(*md);
    };
    loopback_pop3_server srv(opt, hooks);

    std::atomic<bool> delivering{true};
    std::thread delivery([&] {
        for (int i = 0; i < deliveries; ++i) {
            store::item m;
            m.guid = "d" + std::to_string(i);
            m.mailbox = "alice";
            m.source_id = "delivery";
            const std::string body =
                "Subject: " + std::to_string(i) + "\r\n\r\nbody " + std::to_string(i) + "\r\n";
            EXPECT_TRUE(store::add_item(*served, m, body).has_value()) << i;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        delivering = false;
    });
    // Each keeps going while messages arrive, and until it has had the maildrop once.
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r)
        readers.emplace_back([&] {
            for (bool had_it = false; delivering || !had_it;)
                had_it = read_once(srv.port()) || had_it;
        });
    std::thread backups([&] {
        for (bool had_it = false; delivering || !had_it;)
            had_it = backup_once(srv.port(), *backup) || had_it;
    });
    delivery.join();
    for (auto& t : readers) t.join();
    backups.join();

    // One last backup once everyone else is done drains the maildrop.
    bool drained = false;
    for (int i = 0; i < 50 && !drained; ++i) drained = backup_once(srv.port(), *backup);
    ASSERT_TRUE(drained);
    store::query_options q;
    q.limit = store::query_options::unlimited;
    const auto stored = backup->query(q);
    ASSERT_TRUE(stored);
    // Compared by content: how the backup names its items is its own business.
    std::multiset<std::string> bodies;
    for (const auto& it : stored->items) {
        const auto octets = store::read_all(*backup, it);
        ASSERT_TRUE(octets.has_value());
        bodies.insert(*octets);
    }
    std::multiset<std::string> want;
    for (int i = 0; i < deliveries; ++i)
        want.insert("Subject: " + std::to_string(i) + "\r\n\r\nbody " + std::to_string(i) + "\r\n");
    EXPECT_EQ(bodies, want);
    {
        auto left = served->open_maildrop("alice");
        ASSERT_TRUE(left.has_value());
        EXPECT_TRUE((*left)->messages().empty());
    }
    std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace izypop3::test
