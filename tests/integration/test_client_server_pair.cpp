// core::client_session and core::server_session connected in memory (h11's ConnectionPair):
// bytes are pumped both ways, the server's requests are answered from a store::fake_store
// through its maildrop, and a whole mailbox (99 messages with the fake store's edge cases,
// one of them several megabytes) is moved with LIST + UIDL + RETR pipelined, for every login
// mechanism, with pipelining on and off. Each body must equal the store's octets as the
// encoder puts them on the wire; then DELE all + QUIT must commit exactly those deletions.

#include <izypop3/core/client_session.hpp>
#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/core/errc.hpp>
#include <izypop3/core/maildrop.hpp>
#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/server_session.hpp>
#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/store.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace izypop3::test {
namespace {

const std::string user_name = "alice";
const std::string password = "correct horse";  // a space: PASS takes the rest of the line

struct pair_options {
    std::string mechanism = "auto";
    bool tls = false;       // tls_active on both sides (implicit TLS)
    bool cleartext = true;  // cleartext_without_tls on both sides
    bool pipelining = true;
    std::size_t window = 64;
    std::size_t client_feed = 65521;  // octets per client feed, so bodies straddle reads
    std::string client_secret = password;
    bool tokens = false;  // the server validates bearer tokens ("alice-token" is alice's)
};

// The message as the server's dot_stuffer puts it on the wire before stuffing: CRLF line
// ends (a bare LF or CR becomes CRLF) and a final CRLF when the message lacks one.
std::string wire_form(std::string_view m) {
    std::string out;
    out.reserve(m.size() + 2);
    for (std::size_t i = 0; i < m.size(); ++i) {
        const char ch = m[i];
        if (ch == '\r') {
            out += "\r\n";
            if (i + 1 < m.size() && m[i + 1] == '\n') ++i;
        } else if (ch == '\n') {
            out += "\r\n";
        } else {
            out += ch;
        }
    }
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
    return out;
}

class session_pair {
  public:
    struct entry {
        std::uint32_t number = 0;
        std::uint64_t size = 0;
        std::string uid;
    };

    session_pair(store::mime_store& store, const pair_options& o) : store_(store), opt_(o) {
        core::server_config sc;
        sc.host_name = "pop.example.org";
        sc.tls_active = o.tls;
        sc.tls_available = false;
        sc.cleartext_without_tls = o.cleartext;
        sc.secret_forms = {true, true, true};
        sc.auth_failure_delay_ms = 0;
        sc.validate_tokens = o.tokens;
        server_ = std::make_unique<core::server_session>(std::move(sc));

        core::client_config cc;
        cc.user = user_name;
        cc.secret = o.client_secret;
        cc.host = "pop.example.org";
        cc.port = o.tls ? 995 : 110;
        cc.mechanism = o.mechanism;
        cc.tls_active = o.tls;
        cc.starttls = core::starttls_policy::never;
        cc.allow_plaintext = o.cleartext;
        cc.pipelining = o.pipelining;
        cc.pipeline_window = o.window;
        client_ = std::make_unique<core::client_session>(std::move(cc));
    }

    core::client_session& client() { return *client_; }

    /// Runs both sides until neither can move.
    void pump() {
        for (int guard = 0; guard < 10'000'000; ++guard) {
            const bool s = run_server();
            const bool c = run_client();
            if (!s && !c) return;
        }
        ADD_FAILURE() << "the pair did not settle";
    }

    std::uint64_t submit(core::request_kind k, std::uint32_t n = 0) {
        core::request r;
        r.kind = k;
        r.number = n;
        return client_->submit(r);
    }

    // What the client saw.
    std::optional<std::string> logged_in;
    std::map<std::uint64_t, core::client_action::response> responses;  // views not kept
    std::map<std::uint64_t, bool> response_ok;
    std::map<std::uint64_t, std::vector<entry>> listings;
    std::map<std::uint64_t, std::string> bodies;
    std::map<std::uint64_t, core::client_action::body_end> body_ends;
    std::optional<std::string> client_failure;
    bool client_closed = false;
    // What the server did.
    std::vector<std::vector<std::size_t>> commits;
    std::optional<core::close_reason> server_closed;
    std::size_t max_commands_per_read = 0;  // lines the server got in one feed
    std::vector<std::string> verified, looked_up, validated;

  private:
    bool run_server() {
        bool moved = false;
        while (!server_closed) {
            auto a = server_->next();
            if (std::holds_alternative<core::server_action::need_input>(a)) {
                if (c2s_.empty()) return moved;
                max_commands_per_read = std::max<std::size_t>(
                    max_commands_per_read,
                    static_cast<std::size_t>(std::count(c2s_.begin(), c2s_.end(), '\n')));
                server_->feed(c2s_);
                c2s_.clear();
                moved = true;
                continue;
            }
            moved = true;
            std::visit([this](auto& act) { serve(act); }, a);
        }
        return moved;
    }

    void serve(core::server_action::send& s) { s2c_.append(s.bytes); }
    void serve(core::server_action::need_input&) {}
    void serve(core::server_action::verify_password& v) {
        verified.emplace_back(v.user);
        server_->complete_verify(v.user == user_name && v.password == password
                                     ? core::auth_outcome::accepted
                                     : core::auth_outcome::rejected);
    }
    void serve(core::server_action::validate_token& v) {
        validated.emplace_back(v.user);
        server_->complete_validate_token(v.token == "alice-token" ? std::optional(user_name)
                                                                  : std::nullopt);
    }
    void serve(core::server_action::lookup_secret& l) {
        looked_up.emplace_back(l.user);
        if (l.user != user_name) {
            server_->complete_lookup(std::nullopt);
            return;
        }
        core::sasl::stored_secret s;
        s.plaintext = password;
        s.scram_sha1 = core::sasl::derive_scram_secret("SHA-1", password, "pepper-1", 4096);
        s.scram_sha256 = core::sasl::derive_scram_secret("SHA-256", password, "pepper-256", 4096);
        server_->complete_lookup(std::move(s));
    }
    void serve(core::server_action::open_maildrop& o) {
        auto md = store_.open_maildrop(o.user);
        if (!md) {
            ADD_FAILURE() << "open_maildrop: " << md.error().message();
            server_->complete_open_maildrop(store::to_maildrop_failure(md.error()));
            return;
        }
        maildrop_ = std::move(*md);
        server_->complete_open_maildrop(std::span<const core::message_info>(maildrop_->messages()));
    }
    void serve(core::server_action::open_message& o) {
        auto src = maildrop_->open(o.index);
        EXPECT_TRUE(src) << "open message " << o.index;
        if (src) message_ = std::move(*src);
        server_->complete_open_message(static_cast<bool>(src));
    }
    void serve(core::server_action::stream_message& m) {
        core::dot_stuffer ds(m.body_lines);
        const std::size_t before = s2c_.size();
        std::array<char, 32768> buf{};
        for (;;) {
            auto n = message_->read(buf);
            if (!n) {
                ADD_FAILURE() << "read message " << m.index << ": " << n.error().message();
                server_->complete_message(false, s2c_.size() - before);
                return;
            }
            if (*n == 0) break;
            ds.encode(std::string_view(buf.data(), *n), s2c_);
        }
        ds.finish(s2c_);
        message_.reset();
        server_->complete_message(true, s2c_.size() - before);
    }
    void serve(core::server_action::derive_secret& d) {
        server_->complete_derive(
            core::sasl::derive_scram_secret(d.hash_name, d.password, d.salt, d.iterations));
    }
    void serve(core::server_action::start_tls&) { server_->complete_tls(true); }
    void serve(core::server_action::delay&) {}
    void serve(core::server_action::commit_deletions& c) {
        std::vector<std::size_t> v(c.indices.begin(), c.indices.end());
        commits.push_back(v);
        const auto ec = maildrop_->commit_deletions(v);
        EXPECT_FALSE(ec) << ec.message();
        server_->complete_commit(!ec);
    }
    void serve(core::server_action::close& c) {
        server_closed = c.reason;
        maildrop_.reset();  // releases the store's lock, as a transport would
    }

    bool run_client() {
        bool moved = false;
        while (!client_done_) {
            auto a = client_->next();
            if (std::holds_alternative<core::client_action::need_input>(a)) {
                if (s2c_pos_ < s2c_.size()) {
                    const std::size_t n = std::min(opt_.client_feed, s2c_.size() - s2c_pos_);
                    client_->feed(std::string_view(s2c_).substr(s2c_pos_, n));
                    s2c_pos_ += n;
                    if (s2c_pos_ == s2c_.size()) {
                        s2c_.clear();
                        s2c_pos_ = 0;
                    }
                    moved = true;
                    continue;
                }
                if (server_closed && !eof_fed_) {
                    client_->feed_eof();
                    eof_fed_ = true;
                    moved = true;
                    continue;
                }
                return moved;
            }
            moved = true;
            std::visit([this](auto& act) { see(act); }, a);
        }
        return moved;
    }

    void see(core::client_action::send& s) { c2s_.append(s.bytes); }
    void see(core::client_action::need_input&) {}
    void see(core::client_action::start_tls&) { client_->complete_tls(true); }
    void see(core::client_action::logged_in& l) { logged_in = std::string(l.mechanism); }
    void see(core::client_action::response& r) {
        response_ok[r.id] = r.ok;
        auto copy = r;
        copy.code = {};
        copy.text = {};
        copy.uid = {};
        responses[r.id] = copy;
    }
    void see(core::client_action::listing_entry& e) {
        listings[e.id].push_back({e.number, e.size, std::string(e.uid)});
    }
    void see(core::client_action::listing_end& e) { listings[e.id]; }
    void see(core::client_action::body& b) { bodies[b.id].append(b.data); }
    void see(core::client_action::body_end& e) {
        body_ends[e.id] = e;
        bodies[e.id];
    }
    void see(core::client_action::failed& f) {
        client_failure = f.ec.message() + ": " + std::string(f.detail);
        client_done_ = true;
    }
    void see(core::client_action::closed&) {
        client_closed = true;
        client_done_ = true;
    }

    store::mime_store& store_;
    pair_options opt_;
    std::unique_ptr<core::server_session> server_;
    std::unique_ptr<core::client_session> client_;
    std::unique_ptr<core::maildrop> maildrop_;
    std::unique_ptr<core::message_source> message_;
    std::string c2s_, s2c_;
    std::size_t s2c_pos_ = 0;
    bool client_done_ = false;
    bool eof_fed_ = false;
};

// Offset of the first difference, for a readable failure on multi-megabyte strings.
std::string first_difference(const std::string& a, const std::string& b) {
    const auto m = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
    const auto at = static_cast<std::size_t>(m.first - a.begin());
    return "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) +
           ", first difference at " + std::to_string(at);
}

struct mailbox_case {
    std::string name;
    pair_options opt;
    std::string expect_mechanism;
};

class ClientServerPair : public ::testing::TestWithParam<mailbox_case> {};

TEST_P(ClientServerPair, MovesTheWholeMailboxThenDeletesIt) {
    const auto& p = GetParam();
    store::fake_store store;  // count 99, seed 1, a 5 MiB message among the edge cases

    // What alice's maildrop holds: her own copy of the generated messages.
    store::query_options q;
    q.limit = store::query_options::unlimited;
    q.mailbox = user_name;
    auto all = store.query(q);
    ASSERT_TRUE(all);
    const std::vector<store::item> items = all->items;
    ASSERT_EQ(items.size(), 99u);
    std::vector<std::string> expected;
    std::uint64_t biggest = 0;
    for (const auto& it : items) {
        auto octets = store::read_all(store, it);
        ASSERT_TRUE(octets) << it.guid;
        expected.push_back(wire_form(*octets));
        biggest = std::max<std::uint64_t>(biggest, octets->size());
    }
    ASSERT_GE(biggest, 5u * 1024 * 1024);
    // The edge case without a final CRLF is compared with the CRLF the encoder adds.
    const auto& no_crlf = expected.at(store::fake_edge::no_final_crlf - 1);
    ASSERT_TRUE(no_crlf.ends_with("\r\n"));

    session_pair pair(store, p.opt);
    pair.pump();
    ASSERT_FALSE(pair.client_failure) << *pair.client_failure;
    ASSERT_EQ(pair.logged_in, p.expect_mechanism);
    if (p.expect_mechanism == "user") {
        EXPECT_EQ(pair.verified, std::vector<std::string>{user_name});
    }

    // LIST, UIDL and every RETR submitted at once: with PIPELINING they go out together
    // (up to the window), without it one by one.
    const auto list = pair.submit(core::request_kind::list);
    const auto uidl = pair.submit(core::request_kind::uidl);
    std::vector<std::uint64_t> retr;
    for (std::uint32_t n = 1; n <= items.size(); ++n)
        retr.push_back(pair.submit(core::request_kind::retr, n));
    pair.pump();
    ASSERT_FALSE(pair.client_failure) << *pair.client_failure;
    EXPECT_EQ(pair.client().outstanding(), 0u);

    ASSERT_EQ(pair.listings[list].size(), items.size());
    ASSERT_EQ(pair.listings[uidl].size(), items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        SCOPED_TRACE(items[i].guid);
        const auto& l = pair.listings[list][i];
        const auto& u = pair.listings[uidl][i];
        EXPECT_EQ(l.number, i + 1);
        EXPECT_EQ(u.number, i + 1);
        EXPECT_EQ(u.uid, store::make_uid(items[i]));
        EXPECT_EQ(l.size, expected[i].size());
        ASSERT_TRUE(pair.response_ok[retr[i]]);
        ASSERT_EQ(pair.body_ends.count(retr[i]), 1u);
        EXPECT_FALSE(pair.body_ends[retr[i]].ec);
        EXPECT_EQ(pair.body_ends[retr[i]].octets, expected[i].size());
        const std::string& got = pair.bodies[retr[i]];
        EXPECT_TRUE(got == expected[i]) << first_difference(got, expected[i]);
    }
    if (p.opt.pipelining) {
        EXPECT_GT(pair.max_commands_per_read, 1u);
        EXPECT_LE(pair.max_commands_per_read, p.opt.window);
    } else {
        EXPECT_EQ(pair.max_commands_per_read, 1u);
    }

    // DELE everything, then QUIT: the server commits exactly those deletions in UPDATE.
    std::vector<std::uint64_t> dele;
    for (std::uint32_t n = 1; n <= items.size(); ++n)
        dele.push_back(pair.submit(core::request_kind::dele, n));
    const auto quit = pair.submit(core::request_kind::quit);
    pair.pump();
    ASSERT_FALSE(pair.client_failure) << *pair.client_failure;
    for (auto id : dele) EXPECT_TRUE(pair.response_ok[id]) << id;
    EXPECT_TRUE(pair.response_ok[quit]);
    EXPECT_TRUE(pair.client_closed);
    ASSERT_TRUE(pair.server_closed);
    EXPECT_EQ(*pair.server_closed, core::close_reason::quit);
    std::vector<std::size_t> all_indices(items.size());
    std::iota(all_indices.begin(), all_indices.end(), std::size_t{0});
    ASSERT_EQ(pair.commits.size(), 1u);
    auto committed = pair.commits[0];
    std::sort(committed.begin(), committed.end());
    EXPECT_EQ(committed, all_indices);
    store::query_options count_only;
    count_only.limit = 0;
    count_only.mailbox = user_name;
    auto left = store.query(count_only);
    ASSERT_TRUE(left);
    EXPECT_EQ(left->count, 0u);
}

std::vector<mailbox_case> mailbox_cases() {
    struct mech {
        std::string name, config, logged_in;
        bool tls, cleartext;
    };
    const std::vector<mech> mechs{
        {"User", "user", "user", false, true},
        {"Apop", "apop", "apop", true, false},
        {"Plain", "plain", "plain", false, true},
        {"Login", "login", "login", false, true},
        {"CramMd5", "cram-md5", "cram-md5", false, false},
        {"ScramSha1", "scram-sha-1", "scram-sha-1", false, false},
        {"ScramSha256", "scram-sha-256", "scram-sha-256", false, false},
        {"AutoOverTls", "auto", "scram-sha-256", true, false},
    };
    std::vector<mailbox_case> out;
    for (const auto& m : mechs) {
        for (bool pipelining : {true, false}) {
            mailbox_case c;
            c.name = m.name + (pipelining ? "Pipelined" : "OneByOne");
            c.opt.mechanism = m.config;
            c.opt.tls = m.tls;
            c.opt.cleartext = m.cleartext;
            c.opt.pipelining = pipelining;
            c.expect_mechanism = m.logged_in;
            out.push_back(std::move(c));
        }
    }
    // A small window, and reads of an odd size that cut lines and terminators anywhere.
    mailbox_case small;
    small.name = "SmallWindowOddReads";
    small.opt.mechanism = "user";
    small.opt.window = 3;
    small.opt.client_feed = 4093;
    small.expect_mechanism = "user";
    out.push_back(small);
    return out;
}

INSTANTIATE_TEST_SUITE_P(Integration, ClientServerPair, ::testing::ValuesIn(mailbox_cases()),
                         [](const ::testing::TestParamInfo<mailbox_case>& i) {
                             return i.param.name;
                         });

TEST(ClientServerPairLogin, WrongPasswordFailsForEveryMechanism) {
    for (std::string mech : {"user", "apop", "plain", "login", "cram-md5", "scram-sha-1",
                             "scram-sha-256", "xoauth2", "oauthbearer"}) {
        SCOPED_TRACE(mech);
        store::fake_store_options so;
        so.count = 3;
        store::fake_store store(so);
        pair_options o;
        o.mechanism = mech;
        o.tokens = mech == "xoauth2" || mech == "oauthbearer";
        o.tls = true;
        o.client_secret = o.tokens ? "mallory-token" : "horse correct";
        session_pair pair(store, o);
        pair.pump();
        EXPECT_FALSE(pair.logged_in);
        ASSERT_TRUE(pair.client_failure);
        EXPECT_NE(pair.client_failure->find(
                      core::make_error_code(core::errc::authentication_failed).message()),
                  std::string::npos)
            << *pair.client_failure;
        EXPECT_TRUE(pair.commits.empty());
    }
}

TEST(ClientServerPairLogin, RightPasswordForEveryMechanismOverTls) {
    for (std::string mech : {"user", "apop", "plain", "login", "cram-md5", "scram-sha-1",
                             "scram-sha-256", "xoauth2", "oauthbearer"}) {
        SCOPED_TRACE(mech);
        store::fake_store_options so;
        so.count = 3;
        store::fake_store store(so);
        pair_options o;
        o.mechanism = mech;
        o.tokens = mech == "xoauth2" || mech == "oauthbearer";
        o.tls = true;
        if (o.tokens) o.client_secret = "alice-token";
        o.cleartext = false;
        session_pair pair(store, o);
        pair.pump();
        EXPECT_EQ(pair.logged_in, mech);
        EXPECT_FALSE(pair.client_failure) << *pair.client_failure;
    }
}

TEST(ClientServerPairLogin, TopThroughThePair) {
    store::fake_store_options so;
    so.count = 6;
    store::fake_store store(so);
    pair_options o;
    o.mechanism = "user";
    session_pair pair(store, o);
    pair.pump();
    ASSERT_EQ(pair.logged_in, "user");
    const auto top = pair.submit(core::request_kind::top, 1);
    pair.pump();
    ASSERT_FALSE(pair.client_failure) << *pair.client_failure;
    store::query_options q;
    q.limit = 1;
    q.mailbox = user_name;
    auto first = store.query(q);
    ASSERT_TRUE(first);
    auto octets = store::read_all(store, first->items.at(0));
    ASSERT_TRUE(octets);
    // TOP n 0: the headers and the blank line after them.
    const std::string whole = wire_form(*octets);
    const auto blank = whole.find("\r\n\r\n");
    ASSERT_NE(blank, std::string::npos);
    EXPECT_EQ(pair.bodies[top], whole.substr(0, blank + 4));
}

}  // namespace
}  // namespace izypop3::test
