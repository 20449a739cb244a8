// method clientpop3 against our own transport::server on loopback (fake store): every cmd,
// the query forms, and backups into a second fake store compared byte for byte with the
// source, `query new` fetching nothing the second time, and `delete true` emptying the
// maildrop.

#include "clientpop3/backup_job.hpp"
#include "clientpop3/message_selection.hpp"
#include "cli/methods.hpp"
#include "clientpop3/pop3_link.hpp"

#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>
#include <izypop3/transport/logger.hpp>
#include <izypop3/transport/server.hpp>

#include <boost/program_options/parsers.hpp>
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace izypop3;
namespace po = boost::program_options;

constexpr const char* password = "12345";

class loopback_server {
public:
    loopback_server() {
        store::fake_store_options fo;
        fo.count = 20;
        store_ = std::make_unique<store::fake_store>(fo);
        transport::server_options opt;
        opt.host = "127.0.0.1";
        opt.pick_free_ports = true;
        opt.tls_port = 1;
        opt.threads = 1;
        transport::server_hooks hooks;
        hooks.verify_password = [](std::string_view, std::string_view pw) {
            return pw == password ? core::auth_outcome::accepted : core::auth_outcome::rejected;
        };
        hooks.lookup_secret = [](std::string_view) {
            core::sasl::stored_secret s;
            s.plaintext = password;
            return std::optional(s);
        };
        hooks.secret_forms.plaintext = true;
        hooks.open_maildrop = [this](std::string_view user)
            -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
            auto md = store_->open_maildrop(user);
            if (!md) return store::to_maildrop_failure(md.error());
            return std::move(*md);
        };
        transport::logger log(transport::log_level::warn,
                              [](transport::log_level, std::string_view) {});
        server_ = std::make_unique<transport::server>(opt, hooks, log);
        std::string error;
        auto ec = server_->start(error);
        EXPECT_FALSE(ec) << error;
        thread_ = std::thread([this] { server_->run(false); });
    }
    ~loopback_server() {
        server_->stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }
    std::uint16_t tls_port() const { return server_->tls_port(); }
    store::mime_store& data() { return *store_; }

private:
    std::unique_ptr<store::mime_store> store_;
    std::unique_ptr<transport::server> server_;
    std::thread thread_;
};

// The message as the server puts it on the wire before dot-stuffing.
std::string wire_form(std::string_view m) {
    std::string out;
    for (std::size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\r') {
            out += "\r\n";
            if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
        } else if (m[i] == '\n') {
            out += "\r\n";
        } else {
            out += m[i];
        }
    }
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    return out;
}

struct run_result {
    int code = -1;
    std::string out, err;
};

run_result run_cli(const std::vector<std::string>& kv) {
    std::vector<std::string> args{"izypop3"};
    for (std::size_t i = 0; i + 1 < kv.size(); i += 2) args.push_back("--" + kv[i] + "=" + kv[i + 1]);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    app::invocation inv;
    inv.method = "clientpop3";
    // The whole table, logging keys included, as the command line parser uses it.
    po::store(po::parse_command_line(static_cast<int>(argv.size()), argv.data(),
                                     app::all_options(*app::find_method("clientpop3"))),
              inv.options);
    po::notify(inv.options);
    std::ostringstream out, err;
    run_result r;
    r.code = app::run_clientpop3(inv, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
}

std::vector<std::string> base(const loopback_server& s) {
    return {"ip", "127.0.0.1", "port", std::to_string(s.port()), "user", "alice", "pass",
            password, "tls.verify", "false"};
}

std::vector<std::string> with(std::vector<std::string> v, const std::vector<std::string>& more) {
    v.insert(v.end(), more.begin(), more.end());
    return v;
}

// What the source serves user alice: her mailbox of the fake store.
std::map<std::string, std::string> source_messages(store::mime_store& s) {
    store::query_options q;
    q.limit = store::query_options::unlimited;
    q.mailbox = "alice";
    auto r = s.query(q);
    EXPECT_TRUE(r);
    std::map<std::string, std::string> out;
    for (const auto& it : r->items) out[it.guid] = wire_form(*store::read_all(s, it));
    return out;
}

app::backup_summary backup(loopback_server& s, store::mime_store& target,
                           const std::string& query, bool remove = false,
                           std::string mechanism = "auto") {
    transport::client_stream_options so;
    so.host = "127.0.0.1";
    so.port = s.port();
    so.tls.verify = false;
    core::client_config cc;
    cc.user = "alice";
    cc.secret = password;
    cc.mechanism = mechanism;
    cc.host = so.host;
    cc.port = so.port;
    app::pop3_link link(so, cc);
    EXPECT_TRUE(link.open()) << link.error_text();
    app::backup_settings b;
    std::string error;
    b.selection = *app::parse_selection(query, error);
    b.delete_stored = remove;
    b.source_id = "alice@127.0.0.1";
    b.mailbox = "alice";
    std::ostringstream progress;
    auto sum = app::run_backup(link, target, b, progress);
    EXPECT_EQ(link.failure(), app::link_failure::none) << link.error_text();
    EXPECT_TRUE(sum.quit_ok);
    return sum;
}

TEST(clientpop3_selection, parses_every_form) {
    std::string e;
    auto all = app::parse_selection("all", e);
    ASSERT_TRUE(all);
    EXPECT_TRUE(all->contains(1));
    EXPECT_TRUE(all->contains(999));
    auto list = app::parse_selection("2,5-7", e);
    ASSERT_TRUE(list);
    EXPECT_FALSE(list->contains(1));
    EXPECT_TRUE(list->contains(2));
    EXPECT_FALSE(list->contains(4));
    EXPECT_TRUE(list->contains(6));
    EXPECT_FALSE(list->contains(8));
    auto fresh = app::parse_selection("new", e);
    ASSERT_TRUE(fresh);
    EXPECT_TRUE(fresh->only_new);
    for (const char* bad : {"0", "3-1", "x", "1-", "-2", "1,,2"}) {
        EXPECT_FALSE(app::parse_selection(bad, e)) << bad;
        EXPECT_NE(e.find("query"), std::string::npos);
    }
}

TEST(clientpop3_cli, stat_list_uidl_capa) {
    loopback_server s;
    auto st = run_cli(with(base(s), {"cmd", "stat"}));
    ASSERT_EQ(st.code, 0) << st.err;
    store::query_options q;
    q.limit = 0;
    q.mailbox = "alice";
    const auto total = *s.data().query(q);
    EXPECT_EQ(st.out.substr(0, st.out.find(' ')), std::to_string(total.count));

    auto list = run_cli(with(base(s), {"cmd", "list", "query", "2-3", "format", "json"}));
    ASSERT_EQ(list.code, 0) << list.err;
    EXPECT_EQ(list.out.rfind("[{\"number\":2,\"size\":", 0), 0u) << list.out;
    EXPECT_NE(list.out.find("{\"number\":3,"), std::string::npos);
    EXPECT_EQ(list.out.find("{\"number\":4,"), std::string::npos);

    auto uidl = run_cli(with(base(s), {"cmd", "uidl", "query.id", "7"}));
    ASSERT_EQ(uidl.code, 0) << uidl.err;
    EXPECT_EQ(uidl.out, "7 guid_7\n");

    auto capa = run_cli(with(base(s), {"cmd", "capa"}));
    ASSERT_EQ(capa.code, 0) << capa.err;
    EXPECT_NE(capa.out.find("UIDL"), std::string::npos);
}

TEST(clientpop3_cli, top_prints_headers_and_lines) {
    loopback_server s;
    auto top = run_cli(with(base(s), {"cmd", "top", "query.id", "1", "lines", "0"}));
    ASSERT_EQ(top.code, 0) << top.err;
    const auto src = source_messages(s.data())["guid_1"];
    const auto headers = src.substr(0, src.find("\r\n\r\n") + 4);
    EXPECT_EQ(top.out, headers);
}

TEST(clientpop3_cli, wrong_password_is_exit_4_and_no_server_is_exit_3) {
    loopback_server s;
    auto bad = base(s);
    bad[7] = "wrong";
    auto r = run_cli(with(bad, {"cmd", "stat"}));
    EXPECT_EQ(r.code, 4) << r.err;
    EXPECT_NE(r.err.find("login failed"), std::string::npos) << r.err;

    auto none = base(s);
    none[3] = "1";  // nothing listens on port 1 of loopback
    r = run_cli(with(none, {"cmd", "stat"}));
    EXPECT_EQ(r.code, 3) << r.err;
}

TEST(clientpop3_cli, usage_errors_are_exit_2) {
    loopback_server s;
    EXPECT_EQ(run_cli(with(base(s), {"cmd", "list", "query", "5-2"})).code, 2);
    EXPECT_EQ(run_cli({"cmd", "stat"}).code, 2);
}

TEST(clientpop3_backup, copies_every_message_byte_for_byte_and_new_fetches_nothing_again) {
    loopback_server s;
    store::fake_store_options empty;
    empty.count = 0;
    store::fake_store target(empty);
    auto sum = backup(s, target, "all");
    const auto want = source_messages(s.data());
    EXPECT_EQ(sum.fetched, want.size());
    EXPECT_EQ(sum.failed, 0u);
    store::query_options q;
    q.limit = store::query_options::unlimited;
    auto got = *target.query(q);
    ASSERT_EQ(got.items.size(), want.size());
    for (const auto& it : got.items) {
        EXPECT_EQ(it.source_id, "alice@127.0.0.1");
        EXPECT_EQ(it.mailbox, "alice");
        ASSERT_TRUE(want.contains(it.guid)) << it.guid;
        EXPECT_EQ(*store::read_all(target, it), want.at(it.guid)) << it.guid;
    }
    auto again = backup(s, target, "new");
    EXPECT_EQ(again.fetched, 0u);
    EXPECT_EQ(again.already_stored, want.size());
    EXPECT_EQ(target.query(q)->items.size(), want.size());
}

TEST(clientpop3_backup, ranges_and_mechanisms) {
    loopback_server s;
    for (const char* mech : {"user", "plain", "cram-md5", "scram-sha-256"}) {
        store::fake_store_options empty;
        empty.count = 0;
        store::fake_store target(empty);
        auto sum = backup(s, target, "2,4-5", false, mech);
        EXPECT_EQ(sum.fetched, 3u) << mech;
        store::query_options q;
        q.limit = store::query_options::unlimited;
        std::vector<std::string> guids;
        const auto stored = target.query(q);
        ASSERT_TRUE(stored);
        for (const auto& it : stored->items) guids.push_back(it.guid);
        EXPECT_EQ(guids, (std::vector<std::string>{"guid_2", "guid_4", "guid_5"})) << mech;
    }
}

TEST(clientpop3_backup, delete_true_empties_the_maildrop) {
    loopback_server s;
    store::fake_store_options empty;
    empty.count = 0;
    store::fake_store target(empty);
    const auto count = source_messages(s.data()).size();
    auto sum = backup(s, target, "all", true);
    EXPECT_EQ(sum.fetched, count);
    EXPECT_EQ(sum.deleted, count);
    store::query_options q;
    q.limit = 0;
    q.mailbox = "alice";
    EXPECT_EQ(s.data().query(q)->count, 0u);
    auto st = run_cli(with(base(s), {"cmd", "stat"}));
    EXPECT_EQ(st.out, "0 messages, 0 octets\n");
}

}  // namespace
