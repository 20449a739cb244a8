// libFuzzer target for core::server_session (SECURITY.md F01): the command parser, the line
// reader, the state machine and the SASL server mechanisms under arbitrary client input.
//
// Input layout: the first octet picks a separator; the rest is split at it into chunks that
// are fed one per need_input (an empty chunk fires the idle or the login timeout instead).
// tests/fuzz/seed_corpus.sh writes the transcript tests' inputs in this layout. Every request
// action is answered from a fixed environment; whether an answer is a success or a failure
// is decided by the input's octets too, so both paths are explored. Crashes, sanitizer
// reports, a session that never settles, and a send larger than the output bound are bugs.

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/core/maildrop.hpp>
#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/server_session.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace izypop3::core;

constexpr std::size_t high_water = 512;
constexpr std::string_view password = "12345";

const std::array<std::string_view, 3> bodies{
    "Subject: a\r\n\r\nhello\r\n",
    "Subject: b\n\n.dot\n..two\r\n.\r\nend",
    "From: x\r\nSubject: c\r\n\r\nl1\r\nl2\r\nl3\r\n\r.\r\n",
};

const std::vector<message_info>& messages() {
    static const std::vector<message_info> m = [] {
        std::vector<message_info> v;
        for (std::size_t i = 0; i < bodies.size(); ++i) {
            wire_size_counter w;
            w.add(bodies[i]);
            v.push_back(message_info{w.finish(), "uid" + std::to_string(i + 1)});
        }
        return v;
    }();
    return m;
}

const sasl::stored_secret& secret() {
    static const sasl::stored_secret s = [] {
        sasl::stored_secret r;
        r.plaintext = std::string(password);
        // Few iterations: the fuzzer is after the state machine, not PBKDF2.
        r.scram_sha1 = sasl::derive_scram_secret("SHA-1", password, "salt", 2);
        r.scram_sha256 = sasl::derive_scram_secret("SHA-256", password, "salt", 2);
        return r;
    }();
    return s;
}

// Stands in for PBKDF2 at the requested cost: the state machine is what is fuzzed here.
const sasl::scram_secret& derived(std::string_view hash_name) {
    static const sasl::scram_secret sha1 = sasl::derive_scram_secret("SHA-1", "x", "salt", 2);
    static const sasl::scram_secret sha256 = sasl::derive_scram_secret("SHA-256", "x", "salt", 2);
    return hash_name == "SHA-1" ? sha1 : sha256;
}

[[noreturn]] void fail() {
    std::abort();
}

class driver {
  public:
    driver(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {
        if (size_ > 0) {
            const char sep = static_cast<char>(data_[0]);
            std::string_view rest(reinterpret_cast<const char*>(data_) + 1, size_ - 1);
            for (;;) {
                const auto p = rest.find(sep);
                chunks_.push_back(rest.substr(0, p));
                if (p == std::string_view::npos) break;
                rest.remove_prefix(p + 1);
            }
        }
    }

    void run() {
        server_config c;
        c.host_name = "fuzz.example";
        c.cleartext_without_tls = true;
        c.tls_available = true;
        c.secret_forms.plaintext = true;
        c.secret_forms.scram_sha1 = true;
        c.secret_forms.scram_sha256 = true;
        c.validate_tokens = true;
        c.output_high_water = high_water;
        c.max_sasl_line = 4096;
        c.auth_failure_delay_ms = 1;
        std::uint8_t counter = 0;
        c.random = [counter](std::size_t n) mutable {
            std::string r(n, '\0');
            for (auto& ch : r) ch = static_cast<char>(++counter);
            return r;
        };
        c.transcript = [](char, std::string_view l) {
            // Touch every octet so ASan sees a dangling view.
            volatile char sink = 0;
            for (char ch : l) sink = static_cast<char>(sink ^ ch);
        };
        server_session s(std::move(c));

        bool eof_fed = false;
        for (std::size_t steps = 0;; ++steps) {
            if (steps > 2'000'000) fail();  // a session must settle
            auto a = s.next();
            if (auto* snd = std::get_if<server_action::send>(&a)) {
                if (snd->bytes.empty() || snd->bytes.size() > high_water + 4096) fail();
                volatile char sink = 0;
                for (char ch : snd->bytes) sink = static_cast<char>(sink ^ ch);
            } else if (std::holds_alternative<server_action::need_input>(a)) {
                if (next_chunk_ < chunks_.size()) {
                    const auto chunk = chunks_[next_chunk_++];
                    if (chunk.empty()) {
                        // The transport's two deadlines: idle, or the one to log in.
                        if (choice() || s.state() != session_state::authorization) {
                            s.on_timeout();
                        } else {
                            s.on_login_timeout();
                        }
                    } else {
                        s.feed(chunk);
                    }
                } else if (!eof_fed) {
                    s.feed_eof();
                    eof_fed = true;
                } else {
                    fail();  // after EOF the session must close, not wait
                }
            } else if (auto* v = std::get_if<server_action::verify_password>(&a)) {
                const bool ok = v->password == password && choice();
                s.complete_verify(ok         ? auth_outcome::accepted
                                  : choice() ? auth_outcome::rejected
                                             : auth_outcome::temporary_failure);
            } else if (auto* l = std::get_if<server_action::lookup_secret>(&a)) {
                if (l->user.empty() || !choice()) {
                    s.complete_lookup(std::nullopt, choice());
                } else {
                    s.complete_lookup(secret());
                }
            } else if (auto* k = std::get_if<server_action::derive_secret>(&a)) {
                if (k->hash_name != "SHA-1" && k->hash_name != "SHA-256") fail();
                if (k->iterations == 0) fail();
                s.complete_derive(derived(k->hash_name));
            } else if (auto* t = std::get_if<server_action::validate_token>(&a)) {
                // The token's owner: the named user, someone else, nobody, or no verdict.
                if (t->token.empty()) fail();
                if (choice()) {
                    s.complete_validate_token(choice() ? std::string(t->user) : "mallory");
                } else {
                    s.complete_validate_token(std::nullopt, choice());
                }
            } else if (std::holds_alternative<server_action::open_maildrop>(a)) {
                if (choice() || choice()) {
                    // EXPIRE NEVER (the config's), EXPIRE 0 or EXPIRE 7 (RFC 2449).
                    std::optional<mail_policy> policy;
                    if (!choice()) policy = mail_policy{choice() ? 0u : 7u, 60};
                    s.complete_open_maildrop(std::span<const message_info>(messages()), true,
                                             policy);
                } else if (!choice()) {
                    s.complete_login_delayed(60, 5);
                } else {
                    s.complete_open_maildrop(choice() ? maildrop_failure::in_use
                                                      : maildrop_failure::temporary);
                }
            } else if (auto* o = std::get_if<server_action::open_message>(&a)) {
                if (o->index >= messages().size()) fail();
                s.complete_open_message(choice() || choice());
            } else if (auto* m = std::get_if<server_action::stream_message>(&a)) {
                if (m->index >= messages().size()) fail();
                dot_stuffer ds(m->body_lines);
                std::string out;
                const std::string_view body = bodies[m->index];
                for (std::size_t pos = 0; pos < body.size() && !ds.saturated(); pos += 5)
                    ds.encode(body.substr(pos, 5), out);
                ds.finish(out);
                if (choice() || choice()) {
                    s.complete_message(true, out.size());
                } else {
                    s.complete_message(false, out.size() / 2);
                }
            } else if (std::holds_alternative<server_action::start_tls>(a)) {
                s.complete_tls(choice() || choice());
            } else if (std::holds_alternative<server_action::delay>(a)) {
                // Nothing to wait for here.
            } else if (auto* d = std::get_if<server_action::commit_deletions>(&a)) {
                // Deletions happen only in UPDATE, i.e. after a QUIT in TRANSACTION
                // (RFC 1939 section 6), and never for nothing. Retrieval times are asked for
                // only under EXPIRE DAYS, and never for a message being deleted.
                if (s.state() != session_state::update) fail();
                if (d->indices.empty() && d->retrieved.empty()) fail();
                if (!d->retrieved.empty() && s.policy().expire_days.value_or(0) == 0) fail();
                for (auto i : d->indices)
                    if (i >= messages().size()) fail();
                for (auto i : d->retrieved)
                    if (i >= messages().size() ||
                        std::find(d->indices.begin(), d->indices.end(), i) != d->indices.end())
                        fail();
                s.complete_commit(choice());
            } else if (std::holds_alternative<server_action::close>(a)) {
                if (s.state() != session_state::closed) fail();
                return;
            }
        }
    }

  private:
    // A decision drawn from the input itself, so the fuzzer can steer it.
    bool choice() {
        if (size_ == 0) return true;
        const std::uint8_t b = data_[(decision_++ * 7) % size_];
        return (b & 1) != 0;
    }

    const std::uint8_t* data_;
    std::size_t size_;
    std::vector<std::string_view> chunks_;
    std::size_t next_chunk_ = 0;
    std::size_t decision_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 256 * 1024) return 0;
    driver(data, size).run();
    return 0;
}
