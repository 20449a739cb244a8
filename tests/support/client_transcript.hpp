#pragma once
// A transcript driver for core::client_session against a scripted server: the test says
// what the server sends (server_says), checks what the client wrote (expect_client_sends),
// answers start_tls as scripted, and asserts on the collected events (logged_in, responses,
// listing entries, bodies concatenated per request id, body ends, failure, close).

#include <izypop3/core/client_session.hpp>
#include <izypop3/core/random_source.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace izypop3::test {

/// Deterministic octets for the client: 'A'+k continuing across calls, so SCRAM nonces
/// are the same on every run.
inline core::random_source client_counting_random() {
    auto counter = std::make_shared<unsigned>(0);
    return [counter](std::size_t n) {
        std::string r(n, '\0');
        for (auto& ch : r) ch = static_cast<char>(0x41 + (++*counter % 26));
        return r;
    };
}

class client_transcript {
public:
    struct response_record {
        std::uint64_t id = 0;
        core::request_kind kind{};
        bool ok = false;
        std::string code;
        std::string text;
        std::uint64_t a = 0, b = 0;
        std::string uid;
    };
    struct entry_record {
        std::uint64_t id = 0;
        std::uint32_t number = 0;
        std::uint64_t size = 0;
        std::string uid;
    };
    struct body_end_record {
        std::uint64_t id = 0;
        std::uint64_t octets = 0;
        boost::system::error_code ec;
    };
    struct failure_record {
        boost::system::error_code ec;
        std::string detail;
    };

    /// A config for tests: user "alice", password "wonderland", deterministic random.
    static core::client_config default_config() {
        core::client_config c;
        c.user = "alice";
        c.secret = "wonderland";
        c.host = "pop.example.org";
        c.port = 110;
        c.random = client_counting_random();
        return c;
    }

    explicit client_transcript(core::client_config config = default_config())
        : session_(std::make_unique<core::client_session>(std::move(config))) {}

    core::client_session& session() { return *session_; }

    /// The results of the next start_tls actions, in order; true when the list is empty.
    client_transcript& tls_results(std::deque<bool> r) {
        tls_results_ = std::move(r);
        return *this;
    }

    /// Runs the client until it waits for input, then feeds `bytes` and runs again.
    client_transcript& server_says(std::string_view bytes) {
        run();
        log_.push_back("S: " + std::string(bytes));
        session_->feed(bytes);
        run();
        return *this;
    }
    /// The same bytes, fed `piece` octets at a time with the client run after each piece.
    client_transcript& server_says_in_pieces(std::string_view bytes, std::size_t piece) {
        run();
        log_.push_back("S: " + std::string(bytes));
        for (std::size_t pos = 0; pos < bytes.size(); pos += piece) {
            session_->feed(bytes.substr(pos, piece));
            run();
        }
        return *this;
    }
    /// Feeds bytes without running the client first (bytes that arrive in the same read
    /// as what came before them are simulated by one server_says; this is for bytes fed
    /// while the client still had something else to do).
    client_transcript& feed_raw(std::string_view bytes) {
        session_->feed(bytes);
        return *this;
    }
    client_transcript& server_closes() {
        run();
        log_.push_back("S: <eof>");
        session_->feed_eof();
        run();
        return *this;
    }

    /// What the client sent since the last expectation must equal `expected` exactly.
    client_transcript& expect_client_sends(std::string_view expected) {
        run();
        EXPECT_EQ(unchecked(), std::string(expected));
        checked_ = sent_.size();
        return *this;
    }
    /// Returns (and marks checked) what the client sent since the last expectation.
    std::string take() {
        run();
        std::string r = unchecked();
        checked_ = sent_.size();
        return r;
    }
    std::string unchecked() const { return sent_.substr(checked_); }

    std::uint64_t submit(const core::request& r) { return session_->submit(r); }
    std::uint64_t submit(core::request_kind k, std::uint32_t number = 0,
                         std::uint64_t lines = 0, std::uint64_t max_octets = 0) {
        core::request r;
        r.kind = k;
        r.number = number;
        r.lines = lines;
        r.max_octets = max_octets;
        return session_->submit(r);
    }

    /// Calls next() until the client needs input, fails or closes. Bounded, so a client
    /// that loops forever fails the test instead of hanging it.
    void run() {
        for (int guard = 0; guard < 1'000'000; ++guard) {
            if (!step()) return;
        }
        ADD_FAILURE() << "client session did not settle";
    }

    /// Everything the client wrote.
    const std::string& sent() const { return sent_; }
    /// Every send, event and server write in order: "C: bytes", "S: bytes", "start_tls",
    /// "logged_in user", "response 3 ok", "failed <message>", "closed", ...
    const std::vector<std::string>& log() const { return log_; }
    const std::vector<std::string>& events() const { return events_; }
    std::optional<std::string> logged_in() const { return logged_in_; }
    const std::vector<response_record>& responses() const { return responses_; }
    const std::vector<entry_record>& entries() const { return entries_; }
    const std::map<std::uint64_t, std::string>& bodies() const { return bodies_; }
    std::string body(std::uint64_t id) const {
        auto it = bodies_.find(id);
        return it == bodies_.end() ? std::string() : it->second;
    }
    /// Sizes of the body events, in order.
    const std::vector<std::size_t>& body_pieces() const { return body_pieces_; }
    const std::vector<body_end_record>& body_ends() const { return body_ends_; }
    const std::vector<std::uint64_t>& listing_ends() const { return listing_ends_; }
    const std::optional<failure_record>& failure() const { return failure_; }
    bool failed() const { return failure_.has_value(); }
    bool closed() const { return closed_; }
    unsigned tls_handshakes() const { return tls_handshakes_; }
    /// The response to request `id`, or nullptr.
    const response_record* response(std::uint64_t id) const {
        for (const auto& r : responses_)
            if (r.id == id) return &r;
        return nullptr;
    }
    const body_end_record* body_end(std::uint64_t id) const {
        for (const auto& r : body_ends_)
            if (r.id == id) return &r;
        return nullptr;
    }
    /// Number of commands (CRLF-terminated lines) the client has written so far.
    std::size_t lines_sent() const {
        std::size_t n = 0;
        for (std::size_t pos = 0; (pos = sent_.find("\r\n", pos)) != std::string::npos; pos += 2)
            ++n;
        return n;
    }

private:
    // One next(); false when the client waits for input or is done.
    bool step() {
        if (done_) return false;
        auto a = session_->next();
        return std::visit([this](auto& act) { return handle(act); }, a);
    }

    bool handle(core::client_action::send& s) {
        EXPECT_FALSE(s.bytes.empty()) << "empty send action";
        sent_.append(s.bytes);
        log_.push_back("C: " + std::string(s.bytes));
        return true;
    }
    bool handle(core::client_action::need_input&) { return false; }
    bool handle(core::client_action::start_tls&) {
        ++tls_handshakes_;
        bool ok = true;
        if (!tls_results_.empty()) {
            ok = tls_results_.front();
            tls_results_.pop_front();
        }
        record(ok ? "start_tls" : "start_tls failed");
        session_->complete_tls(ok);
        return true;
    }
    bool handle(core::client_action::logged_in& l) {
        logged_in_ = std::string(l.mechanism);
        record("logged_in " + *logged_in_);
        return true;
    }
    bool handle(core::client_action::response& r) {
        response_record rec{r.id,           r.kind, r.ok, std::string(r.code),
                            std::string(r.text), r.a,   r.b,  std::string(r.uid)};
        responses_.push_back(rec);
        record("response " + std::to_string(r.id) + (r.ok ? " ok" : " err"));
        return true;
    }
    bool handle(core::client_action::listing_entry& e) {
        entries_.push_back({e.id, e.number, e.size, std::string(e.uid)});
        return true;
    }
    bool handle(core::client_action::listing_end& e) {
        listing_ends_.push_back(e.id);
        record("listing_end " + std::to_string(e.id));
        return true;
    }
    bool handle(core::client_action::body& b) {
        EXPECT_FALSE(b.data.empty()) << "empty body event";
        bodies_[b.id].append(b.data);
        body_pieces_.push_back(b.data.size());
        return true;
    }
    bool handle(core::client_action::body_end& e) {
        body_ends_.push_back({e.id, e.octets, e.ec});
        bodies_[e.id];  // an empty body is still a body
        record("body_end " + std::to_string(e.id) + (e.ec ? " " + e.ec.message() : ""));
        return true;
    }
    bool handle(core::client_action::failed& f) {
        failure_ = failure_record{f.ec, std::string(f.detail)};
        record("failed " + f.ec.message());
        done_ = true;
        return false;
    }
    bool handle(core::client_action::closed&) {
        closed_ = true;
        record("closed");
        done_ = true;
        return false;
    }

    void record(std::string e) {
        events_.push_back(e);
        log_.push_back(std::move(e));
    }

    std::unique_ptr<core::client_session> session_;
    std::deque<bool> tls_results_;
    std::string sent_;
    std::size_t checked_ = 0;
    std::vector<std::string> log_;
    std::vector<std::string> events_;
    std::optional<std::string> logged_in_;
    std::vector<response_record> responses_;
    std::vector<entry_record> entries_;
    std::map<std::uint64_t, std::string> bodies_;
    std::vector<std::size_t> body_pieces_;
    std::vector<body_end_record> body_ends_;
    std::vector<std::uint64_t> listing_ends_;
    std::optional<failure_record> failure_;
    unsigned tls_handshakes_ = 0;
    bool closed_ = false;
    bool done_ = false;
};

}  // namespace izypop3::test
