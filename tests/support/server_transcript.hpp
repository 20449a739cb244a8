#pragma once
// A transcript driver for core::server_session: feed client bytes, expect the exact server
// bytes, and let a scripted in-memory environment answer every request action (passwords,
// secrets, maildrop, messages, TLS, delays, commits). Every action is also written to an
// event log so a test can assert what the session asked for, and what it never asked for.

#include <izypop3/core/crypto.hpp>
#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/core/maildrop.hpp>
#include <izypop3/core/random_source.hpp>
#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/server_session.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace izypop3::test {

/// Deterministic octets: 0x01, 0x02, ... continuing across calls, so an APOP timestamp or a
/// SASL nonce is the same on every run.
inline core::random_source counting_random() {
    auto counter = std::make_shared<unsigned>(0);
    return [counter](std::size_t n) {
        std::string r(n, '\0');
        for (auto& ch : r) ch = static_cast<char>(++*counter & 0xff);
        return r;
    };
}

/// The session's answers, set up by the test before (or between) feeds.
struct fake_environment {
    /// user -> password; used by verify_password and (as the plaintext secret) lookup_secret.
    std::map<std::string, std::string> users;
    /// The seed's demo mode: any user name with this password.
    std::optional<std::string> demo_password;
    /// Users whose password check or secret lookup fails temporarily.
    std::set<std::string> unavailable_users;
    /// Users whose maildrop is locked by someone else.
    std::set<std::string> in_use_users;
    std::optional<core::maildrop_failure> maildrop_failure;
    /// The maildrop: message bodies as stored; message_info sizes are computed from them.
    std::vector<std::string> bodies;
    /// UIDs; when shorter than bodies, "uid-<n>" fills in.
    std::vector<std::string> uids;
    /// What the maildrop says of its uids (core::maildrop::stable_uids).
    bool stable_uids = true;
    /// Messages that vanished between LIST and RETR (complete_open_message(false)).
    std::set<std::size_t> vanished;
    /// Messages whose read fails after this many octets of input (complete_message(false)).
    std::map<std::size_t, std::size_t> stream_failure_after;
    bool tls_ok = true;
    bool commit_ok = true;
    /// Chunk size used to pass a body through the dot_stuffer.
    std::size_t chunk = 7;
    /// The user's EXPIRE and LOGIN-DELAY given with the open maildrop (nullopt: the config's).
    std::optional<core::mail_policy> user_policy;
    /// Users whose login comes too soon: {their delay, seconds left}.
    std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> login_delayed;
    /// OAuth 2.0 bearer tokens the validator knows: token -> the user it belongs to.
    std::map<std::string, std::string> tokens;
    /// Tokens whose validation fails temporarily (the validator is down).
    std::set<std::string> unavailable_tokens;
    /// Also offer SCRAM secrets on lookup, with this iteration count; 0 = plaintext only.
    std::uint32_t scram_iterations = 4096;
};

class server_transcript {
  public:
    /// A permissive default: cleartext allowed, STLS available, plaintext secrets known,
    /// no failed-login delay changes, deterministic random octets.
    static core::server_config default_config() {
        core::server_config c;
        c.host_name = "pop.example.org";
        c.cleartext_without_tls = true;
        c.tls_available = true;
        c.secret_forms.plaintext = true;
        c.secret_forms.scram_sha1 = true;
        c.secret_forms.scram_sha256 = true;
        c.random = counting_random();
        return c;
    }

    explicit server_transcript(core::server_config config = default_config(),
                               fake_environment env = default_environment())
        : env_(std::move(env)) {
        auto user_hook = std::move(config.transcript);
        config.transcript = [this, user_hook](char dir, std::string_view l) {
            transcript_.push_back(std::string(1, dir) + ' ' + std::string(l));
            if (user_hook) user_hook(dir, l);
        };
        build_maildrop();
        session_ = std::make_unique<core::server_session>(std::move(config));
    }

    ~server_transcript() { write_fuzz_seed(); }
    server_transcript(const server_transcript&) = delete;
    server_transcript& operator=(const server_transcript&) = delete;

    static fake_environment default_environment() {
        fake_environment e;
        e.users = {{"alice", "wonderland"}, {"bob", "builder"}};
        e.bodies = {"Subject: one\r\n\r\nfirst body\r\n",
                    "Subject: two\r\n\r\n.leading dot\r\n..two dots\r\nno final crlf"};
        e.uids = {"uid-one", "uid-two"};
        return e;
    }

    fake_environment& env() { return env_; }
    /// Rebuilds the maildrop after the test changed env().bodies (before login only).
    void rebuild_maildrop() { build_maildrop(); }
    core::server_session& session() { return *session_; }
    const std::vector<core::message_info>& messages() const { return infos_; }

    /// Feeds bytes if the session is waiting for input; otherwise runs it to need_input
    /// first (a transport never feeds while it has something else to do).
    server_transcript& feed(std::string_view bytes) {
        record(bytes);
        run();
        if (!closed_) session_->feed(bytes);
        waiting_ = false;
        return *this;
    }
    server_transcript& feed_eof() {
        run();
        if (!closed_) session_->feed_eof();
        waiting_ = false;
        return *this;
    }
    /// The idle timer fired while the session waited for input.
    server_transcript& timeout() {
        record({});
        run();
        if (!closed_) session_->on_timeout();
        waiting_ = false;
        return *this;
    }
    /// The transport's deadline to log in passed while the session waited for input.
    server_transcript& login_timeout() {
        record({});
        run();
        if (!closed_) session_->on_login_timeout();
        waiting_ = false;
        return *this;
    }
    server_transcript& shutdown() {
        run();
        if (!closed_) session_->on_shutdown();
        waiting_ = false;
        return *this;
    }

    /// Runs the session until it needs input or closes; the bytes sent since the last
    /// expectation must equal `expected` exactly.
    server_transcript& expect_send(std::string_view expected) {
        run();
        EXPECT_EQ(unchecked(), std::string(expected));
        checked_ = sent_.size();
        return *this;
    }
    /// Runs the session and expects it to have closed for `r`.
    server_transcript& expect_close(core::close_reason r) {
        run();
        EXPECT_TRUE(closed_);
        if (closed_) {
            EXPECT_EQ(core::to_string(*close_), core::to_string(r));
        }
        return *this;
    }
    server_transcript& expect_open() {
        run();
        EXPECT_FALSE(closed_);
        return *this;
    }

    /// Runs one or more next() calls, answering requests, until need_input or close.
    /// Bounded so a session that loops forever fails the test instead of hanging it.
    void run() {
        for (int guard = 0; guard < 10'000'000 && !closed_; ++guard) {
            if (!step()) return;
        }
        if (!closed_ && !waiting_) ADD_FAILURE() << "session did not settle";
    }

    /// One next() call, with its request answered. False when it returned need_input.
    bool step() {
        if (closed_) return false;
        if (waiting_) return false;
        auto a = session_->next();
        return std::visit([this](auto& act) { return handle(act); }, a);
    }

    /// Everything the server sent, greeting included.
    const std::string& sent() const { return sent_; }
    std::string unchecked() const { return sent_.substr(checked_); }
    /// Runs the session and returns what it sent since the last expectation, marking it
    /// checked (for exchanges whose bytes depend on a peer, like SASL).
    std::string take() {
        run();
        std::string r = unchecked();
        checked_ = sent_.size();
        return r;
    }
    /// Actions taken, one string each ("open_maildrop alice", "commit 0,2", ...).
    const std::vector<std::string>& events() const { return events_; }
    bool has_event_prefix(std::string_view prefix) const {
        return std::any_of(events_.begin(), events_.end(),
                           [&](const std::string& e) { return e.starts_with(prefix); });
    }
    const std::vector<std::string>& transcript() const { return transcript_; }
    const std::vector<std::size_t>& send_sizes() const { return send_sizes_; }
    /// Octets sent so far at each need_input.
    const std::vector<std::size_t>& input_points() const { return input_points_; }
    std::vector<std::uint32_t> delays() const { return delays_; }
    /// Octets sent so far at each delay (the failed-login reply must come after it).
    const std::vector<std::size_t>& delay_points() const { return delay_points_; }
    std::vector<std::vector<std::size_t>> commits() const { return commits_; }
    unsigned tls_handshakes() const { return tls_handshakes_; }
    /// The key derivations the session asked the environment for, in order.
    struct derivation {
        std::string hash_name, password, salt;
        std::uint32_t iterations = 0;
    };
    const std::vector<derivation>& derivations() const { return derivations_; }
    bool closed() const { return closed_; }
    std::optional<core::close_reason> close_reason() const { return close_; }

  private:
    // With IZYPOP3_FUZZ_SEEDS=DIR, what the test fed becomes a seed of the server_session
    // fuzz target (tests/fuzz/seed_corpus.sh): a separator octet that occurs in no chunk,
    // then the chunks joined by it (an empty chunk stands for a timeout there too).
    // Only when seeds are wanted, and only the first 16 KiB: a test that feeds megabytes
    // (S08) must not hold them, and a fuzz input is small anyway.
    void record(std::string_view bytes) {
        if (!seed_dir_ || fed_octets_ > 16 * 1024) return;
        fed_octets_ += bytes.size();
        fed_.emplace_back(bytes.substr(0, 16 * 1024));
    }

    void write_fuzz_seed() const {
        const char* dir = seed_dir_;
        if (!dir || fed_.empty()) return;
        int sep = 1;
        for (; sep < 256; ++sep) {
            const char c = static_cast<char>(sep);
            if (std::none_of(fed_.begin(), fed_.end(),
                             [c](const std::string& f) { return f.find(c) != std::string::npos; }))
                break;
        }
        if (sep == 256) return;
        std::string seed(1, static_cast<char>(sep));
        for (std::size_t i = 0; i < fed_.size(); ++i) {
            if (i) seed += static_cast<char>(sep);
            seed += fed_[i];
        }
        const auto name =
            std::filesystem::path(dir) / "server_session" /
            core::to_hex(core::digest(core::hash_algorithm::sha256, seed)).substr(0, 16);
        std::filesystem::create_directories(name.parent_path());
        std::ofstream(name, std::ios::binary) << seed;
    }

    void build_maildrop() {
        infos_.clear();
        for (std::size_t i = 0; i < env_.bodies.size(); ++i) {
            core::wire_size_counter w;
            w.add(env_.bodies[i]);
            core::message_info m;
            m.size = w.finish();
            m.uid = i < env_.uids.size() ? env_.uids[i] : "uid-" + std::to_string(i + 1);
            infos_.push_back(std::move(m));
        }
    }

    std::optional<std::string> password_of(std::string_view user) const {
        auto it = env_.users.find(std::string(user));
        if (it != env_.users.end()) return it->second;
        if (env_.demo_password) return *env_.demo_password;
        return std::nullopt;
    }

    bool handle(core::server_action::send& s) {
        sent_.append(s.bytes);
        send_sizes_.push_back(s.bytes.size());
        return true;
    }
    bool handle(core::server_action::need_input&) {
        input_points_.push_back(sent_.size());
        waiting_ = true;
        return false;
    }
    bool handle(core::server_action::verify_password& v) {
        events_.push_back("verify_password " + std::string(v.user));
        const std::string user(v.user);
        if (env_.unavailable_users.count(user)) {
            session_->complete_verify(core::auth_outcome::temporary_failure);
            return true;
        }
        auto pw = password_of(user);
        session_->complete_verify(pw && *pw == v.password ? core::auth_outcome::accepted
                                                          : core::auth_outcome::rejected);
        return true;
    }
    bool handle(core::server_action::lookup_secret& l) {
        events_.push_back("lookup_secret " + std::string(l.user));
        const std::string user(l.user);
        if (env_.unavailable_users.count(user)) {
            session_->complete_lookup(std::nullopt, true);
            return true;
        }
        auto pw = password_of(user);
        if (!pw) {
            session_->complete_lookup(std::nullopt);
            return true;
        }
        core::sasl::stored_secret s;
        s.plaintext = *pw;
        if (env_.scram_iterations > 0) {
            s.scram_sha1 = core::sasl::derive_scram_secret("SHA-1", *pw, "salt-" + user,
                                                           env_.scram_iterations);
            s.scram_sha256 = core::sasl::derive_scram_secret("SHA-256", *pw, "salt-" + user,
                                                             env_.scram_iterations);
        }
        session_->complete_lookup(std::move(s));
        return true;
    }
    bool handle(core::server_action::derive_secret& d) {
        events_.push_back("derive_secret " + std::string(d.hash_name) + " " +
                          std::to_string(d.iterations));
        derivations_.push_back(derivation{std::string(d.hash_name), std::string(d.password),
                                          std::string(d.salt), d.iterations});
        session_->complete_derive(
            core::sasl::derive_scram_secret(d.hash_name, d.password, d.salt, d.iterations));
        return true;
    }
    bool handle(core::server_action::validate_token& v) {
        events_.push_back("validate_token " + std::string(v.user));
        const std::string token(v.token);
        if (env_.unavailable_tokens.count(token)) {
            session_->complete_validate_token(std::nullopt, true);
            return true;
        }
        const auto it = env_.tokens.find(token);
        session_->complete_validate_token(
            it == env_.tokens.end() ? std::nullopt : std::optional<std::string>(it->second));
        return true;
    }
    bool handle(core::server_action::open_maildrop& o) {
        events_.push_back("open_maildrop " + std::string(o.user));
        const auto delayed = env_.login_delayed.find(std::string(o.user));
        if (delayed != env_.login_delayed.end()) {
            session_->complete_login_delayed(delayed->second.first, delayed->second.second);
        } else if (env_.in_use_users.count(std::string(o.user))) {
            session_->complete_open_maildrop(core::maildrop_failure::in_use);
        } else if (env_.maildrop_failure) {
            session_->complete_open_maildrop(*env_.maildrop_failure);
        } else {
            session_->complete_open_maildrop(std::span<const core::message_info>(infos_),
                                             env_.stable_uids, env_.user_policy);
        }
        return true;
    }
    bool handle(core::server_action::open_message& o) {
        events_.push_back("open_message " + std::to_string(o.index));
        session_->complete_open_message(o.index < env_.bodies.size() &&
                                        !env_.vanished.count(o.index));
        return true;
    }
    bool handle(core::server_action::stream_message& m) {
        std::string e = "stream_message " + std::to_string(m.index);
        if (m.body_lines) e += " lines=" + std::to_string(*m.body_lines);
        events_.push_back(e);
        const std::string& body = env_.bodies.at(m.index);
        auto fail = env_.stream_failure_after.find(m.index);
        const std::size_t limit =
            fail == env_.stream_failure_after.end() ? body.size() : fail->second;
        core::dot_stuffer ds(m.body_lines);
        std::string out;
        std::size_t pos = 0;
        while (pos < limit && !ds.saturated()) {
            const std::size_t n = std::min(env_.chunk, limit - pos);
            ds.encode(std::string_view(body).substr(pos, n), out);
            pos += n;
        }
        if (fail != env_.stream_failure_after.end()) {
            sent_ += out;
            session_->complete_message(false, out.size());
            return true;
        }
        ds.finish(out);
        sent_ += out;
        session_->complete_message(true, out.size());
        return true;
    }
    bool handle(core::server_action::start_tls&) {
        events_.push_back("start_tls");
        ++tls_handshakes_;
        session_->complete_tls(env_.tls_ok);
        return true;
    }
    bool handle(core::server_action::delay& d) {
        events_.push_back("delay " + std::to_string(d.milliseconds));
        delays_.push_back(d.milliseconds);
        delay_points_.push_back(sent_.size());
        return true;
    }
    bool handle(core::server_action::commit_deletions& c) {
        std::string e = "commit";
        std::vector<std::size_t> v(c.indices.begin(), c.indices.end());
        for (std::size_t i = 0; i < v.size(); ++i) {
            e += i == 0 ? ' ' : ',';
            e += std::to_string(v[i]);
        }
        if (!c.retrieved.empty()) {
            e += " retrieved";
            for (std::size_t i = 0; i < c.retrieved.size(); ++i) {
                e += i == 0 ? ' ' : ',';
                e += std::to_string(c.retrieved[i]);
            }
        }
        events_.push_back(e);
        commits_.push_back(std::move(v));
        session_->complete_commit(env_.commit_ok);
        return true;
    }
    bool handle(core::server_action::close& c) {
        events_.push_back("close " + std::string(core::to_string(c.reason)));
        closed_ = true;
        close_ = c.reason;
        return false;
    }

    fake_environment env_;
    std::vector<core::message_info> infos_;
    std::unique_ptr<core::server_session> session_;
    std::string sent_;
    std::size_t checked_ = 0;
    std::vector<std::string> events_;
    std::vector<std::string> transcript_;
    std::vector<std::size_t> send_sizes_;
    std::vector<std::size_t> input_points_;
    std::vector<std::uint32_t> delays_;
    std::vector<std::size_t> delay_points_;
    std::vector<std::vector<std::size_t>> commits_;
    std::vector<derivation> derivations_;
    const char* seed_dir_ = std::getenv("IZYPOP3_FUZZ_SEEDS");
    std::vector<std::string> fed_;
    std::size_t fed_octets_ = 0;
    unsigned tls_handshakes_ = 0;
    bool waiting_ = false;
    bool closed_ = false;
    std::optional<core::close_reason> close_;
};

}  // namespace izypop3::test
