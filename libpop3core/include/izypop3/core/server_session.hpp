#pragma once
// The server side of a POP3 connection as a sans-I/O state machine (RFC 1939, 2449, 2595,
// 3206, 5034, 6856). Bytes go in through feed(); next() says what to do: send bytes, read
// more, verify a password, open a maildrop, stream a message, start TLS, wait, commit
// deletions or close. The session never touches a socket, a clock, a file or a store.

#include <izypop3/core/command.hpp>
#include <izypop3/core/line_reader.hpp>
#include <izypop3/core/maildrop.hpp>
#include <izypop3/core/random_source.hpp>
#include <izypop3/core/sasl/server_mechanism.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace izypop3::core {

enum class session_state { authorization, transaction, update, closed };

/// Why a session ended. Only `quit` after TRANSACTION went through UPDATE.
enum class close_reason {
    quit,
    peer_closed,
    timeout,
    too_many_bad_commands,
    too_many_auth_failures,
    login_timeout,  ///< the transport's deadline to authenticate passed
    tls_failed,
    shutdown,
    stream_failed,  ///< a message could not be read while it was being sent
};
std::string_view to_string(close_reason r) noexcept;

/// One command and its result, as the embedder sees it (pop3-emitter's per-command event).
struct command_event {
    std::string verb;       ///< the command's first word, upper-cased as received
    std::string arguments;  ///< the rest of the line, secrets redacted (redact_command_line)
    bool ok = false;        ///< the final reply was +OK (else -ERR)
};

/// RFC 2449 EXPIRE and LOGIN-DELAY as one user (or the whole server) has them.
struct mail_policy {
    /// Days a retrieved message stays; nullopt = NEVER. 0: what a session retrieved is
    /// removed at its UPDATE.
    std::optional<std::uint32_t> expire_days;
    std::uint32_t login_delay_seconds = 0;  ///< between two logins of the same user
    bool operator==(const mail_policy&) const = default;
};

/// Policies and facts for one session. The transport fills it per connection.
struct server_config {
    std::string host_name = "localhost";         ///< in the APOP timestamp and CRAM-MD5
    std::string implementation = "izypop3";      ///< CAPA IMPLEMENTATION
    std::string greeting = "POP3 Server ready";  ///< the original's wording
    std::size_t max_command_line = 2048;         ///< Dovecot's limit; RFC 2449 needs >= 255
    std::size_t max_sasl_line = 16384;           ///< OAuth2 tokens exceed 255 octets
    std::size_t output_high_water = 64 * 1024;   ///< stop answering pipelined commands above
    unsigned max_bad_commands_before_login = 3;  ///< then disconnect (Dovecot's pre-login 3)
    unsigned max_bad_commands = 20;
    /// Failed or refused authentication steps (wrong password, unknown or unoffered
    /// mechanism, bad base64, "*", a refused cleartext login) before the connection closes.
    unsigned max_auth_failures = 3;
    /// Asked for before each failed-login reply, and before the reply that closes the
    /// connection at max_auth_failures; the transport adds its per-address penalty.
    std::uint32_t auth_failure_delay_ms = 2000;
    bool tls_active = false;     ///< implicit TLS, or after STLS
    bool tls_available = false;  ///< STLS can be offered
    /// USER/PASS, PLAIN, LOGIN and APOP before TLS (without it and TLS, the greeting has no
    /// APOP timestamp)
    bool cleartext_without_tls = false;
    /// APOP is offered at all (serverpop3 `apop`): false leaves the timestamp out of the
    /// greeting and refuses APOP.
    bool apop = true;
    /// What CAPA announces before login, and every user's policy unless the maildrop is
    /// opened with one of its own (complete_open_maildrop).
    mail_policy policy{};
    /// Some users have a policy of their own: before login EXPIRE and LOGIN-DELAY carry
    /// "USER" and `policy` should then be the least of them (RFC 2449 sections 6.5, 6.7).
    bool policy_per_user = false;
    sasl::secret_forms secret_forms{};  ///< what the credential source can give
    bool verify_passwords = true;       ///< the source can check a cleartext password
    /// The environment answers validate_token (oauth2.introspect or oauth2.command): offer
    /// the bearer-token mechanisms (XOAUTH2, OAUTHBEARER).
    bool validate_tokens = false;
    const sasl::server_registry* mechanisms = nullptr;  ///< nullptr: built-ins
    random_source random;                               ///< empty: system_random()
    /// pop3-emitter's capabilities hook: edit the CAPA lines for the given state.
    std::function<void(session_state, std::vector<std::string>&)> edit_capabilities;
    /// Transcript hook: '<' received lines, '>' sent status lines (bodies are not
    /// included). Secrets are already redacted.
    std::function<void(char direction, std::string_view line)> transcript;
    /// Per-command hook: called once per command line with its final +OK/-ERR, in order.
    /// SASL continuation lines belong to their AUTH command; an over-long line has no verb
    /// and gives no event.
    std::function<void(const command_event&)> on_command;
};

/// The answer of a credential source.
enum class auth_outcome { accepted, rejected, temporary_failure };

namespace server_action {
/// Write these bytes, then call next() again. The view is valid until that call.
struct send {
    std::string_view bytes;
};
/// Read from the peer and call feed() (or feed_eof()); arm the idle timer.
struct need_input {};
/// Check a cleartext password; answer with complete_verify().
struct verify_password {
    std::string_view user;
    std::string_view password;
};
/// Fetch the user's stored secret; answer with complete_lookup().
struct lookup_secret {
    std::string_view user;
};
/// Derive SCRAM keys: run sasl::derive_scram_secret(hash_name, password, salt, iterations)
/// off the I/O threads (PBKDF2 is expensive on purpose) and answer with complete_derive().
/// The views are valid until then.
struct derive_secret {
    std::string_view hash_name;
    std::string_view password;
    std::string_view salt;
    std::uint32_t iterations;
};
/// Find out whose OAuth 2.0 bearer token this is (introspection, a command); answer with
/// complete_validate_token(). `user` is the login name the client asked for (empty when it
/// named none); the session itself checks that the token belongs to it. Views valid until
/// then.
struct validate_token {
    std::string_view user;
    std::string_view token;
};
/// Open and lock the user's maildrop; answer with complete_open_maildrop().
struct open_maildrop {
    std::string_view user;
};
/// Open message `index` (0-based) for RETR/TOP; answer with complete_open_message().
struct open_message {
    std::size_t index;
};
/// Send the opened message through a dot_stuffer (with `body_lines` for TOP), write it,
/// then answer with complete_message(). The status line has been sent before this.
struct stream_message {
    std::size_t index;
    std::optional<std::uint64_t> body_lines;
};
/// Run the TLS handshake on the connection; answer with complete_tls(). The session has
/// already discarded every byte received after the STLS line (RFC 2595 section 4).
struct start_tls {};
/// Wait this long, then call next() (failed-login delay).
struct delay {
    std::uint32_t milliseconds;
};
/// UPDATE state: remove these messages; answer with complete_commit(). `retrieved` (only
/// under EXPIRE DAYS, see maildrop::record_retrieval) lists the messages retrieved in the
/// session and not deleted, whose retrieval time the store should keep; either may be empty.
struct commit_deletions {
    std::span<const std::size_t> indices;
    std::span<const std::size_t> retrieved;
};
/// Close the connection. Nothing is deleted unless reason is quit after a commit.
struct close {
    close_reason reason;
};
}  // namespace server_action

using server_action_t =
    std::variant<server_action::send, server_action::need_input, server_action::verify_password,
                 server_action::lookup_secret, server_action::derive_secret,
                 server_action::validate_token, server_action::open_maildrop,
                 server_action::open_message, server_action::stream_message,
                 server_action::start_tls, server_action::delay, server_action::commit_deletions,
                 server_action::close>;

/// Counters for the per-session summary line.
struct session_stats {
    std::uint32_t retrieved = 0;
    std::uint64_t retrieved_octets = 0;
    std::uint32_t top = 0;
    std::uint32_t deleted = 0;  ///< committed in UPDATE
    std::uint32_t bad_commands = 0;
    std::uint32_t auth_failures = 0;
};

class server_session {
  public:
    explicit server_session(server_config config);
    ~server_session();
    server_session(const server_session&) = delete;
    server_session& operator=(const server_session&) = delete;

    /// Received bytes. Call only after next() returned need_input.
    void feed(std::string_view bytes);
    /// The peer closed its side.
    void feed_eof();
    /// The idle timer fired: the session says so and closes without UPDATE.
    void on_timeout();
    /// The deadline to authenticate (counted by the transport from the greeting) passed
    /// before login: the session says so and closes.
    void on_login_timeout();
    /// The server is shutting down: close without UPDATE.
    void on_shutdown();

    /// The next thing to do. After a request action (verify, lookup, open, stream, tls,
    /// commit) call the matching complete_*() before calling next() again.
    server_action_t next();

    void complete_verify(auth_outcome outcome);
    void complete_lookup(std::optional<sasl::stored_secret> secret, bool temporary_failure = false);
    void complete_derive(const sasl::scram_secret& derived);
    /// `owner`: the user the token belongs to; nullopt when it is not valid (unknown,
    /// inactive, expired). temporary_failure: no verdict could be had (validator down).
    void complete_validate_token(std::optional<std::string> owner, bool temporary_failure = false);
    /// On success `messages` must stay valid and unchanged for the rest of the session.
    /// `stable_uids` is the maildrop's maildrop::stable_uids(): without it, no UIDL.
    /// `policy` is the user's EXPIRE and LOGIN-DELAY (nullopt: server_config::policy); CAPA
    /// announces it after login, and EXPIRE 0 removes what the session retrieved at UPDATE.
    void complete_open_maildrop(std::span<const message_info> messages, bool stable_uids = true,
                                std::optional<mail_policy> policy = std::nullopt);
    void complete_open_maildrop(maildrop_failure failure);
    /// The user logged in again sooner than the login delay allows: the login is refused
    /// with [LOGIN-DELAY] (RFC 2449 section 8.1.1) and the session stays in AUTHORIZATION.
    /// `delay_seconds` is the user's LOGIN-DELAY, `seconds_left` how long until a login is
    /// accepted. The maildrop, if it was opened, must be released by the caller.
    void complete_login_delayed(std::uint32_t delay_seconds, std::uint32_t seconds_left);
    void complete_open_message(bool ok);
    void complete_open_message(message_open_failure failure);
    /// ok=false: the message failed mid-stream; the connection must be closed.
    void complete_message(bool ok, std::uint64_t octets_sent = 0);
    void complete_tls(bool ok);
    void complete_commit(bool ok);

    session_state state() const noexcept { return state_; }
    /// UPDATE is over (QUIT's deletions committed, or there were none): the maildrop is no
    /// longer needed, and the environment may release it before the final reply is sent.
    bool update_finished() const noexcept { return update_finished_; }
    /// Part of a command line has arrived and the rest has not: the idle timeout runs from
    /// the line's first octet, not from the latest one (a trickle must not keep the
    /// connection forever).
    bool mid_line() const noexcept { return reader_.mid_line(); }
    /// The authenticated user, empty before login.
    const std::string& user() const noexcept { return user_; }
    bool tls_active() const noexcept { return config_.tls_active; }
    const session_stats& stats() const noexcept { return stats_; }
    /// The APOP timestamp of the greeting, empty when APOP is not offered.
    const std::string& apop_timestamp() const noexcept { return apop_timestamp_; }
    /// RFC 6856: the client sent UTF8, so user names and passwords may be UTF-8.
    bool utf8() const noexcept { return utf8_; }
    /// The policy in force: the user's after login, else server_config::policy.
    const mail_policy& policy() const noexcept { return policy_; }

  private:
    enum class pending {
        none,
        verify,
        lookup_apop,
        lookup_sasl,
        derive,
        validate_token,
        maildrop,
        message_open,
        message_stream,
        tls,
        commit,
        delay,
        delay_challenge  // a failed-login delay, then the bearer-token error challenge
    };
    struct listing_cursor {
        bool uidl = false;
        std::size_t next = 0;
    };

    // Dispatch and TRANSACTION (server_session.cpp)
    server_action_t flush();
    void expect(pending p);
    void handle_line(const line& l);
    void handle_command(const command& c);
    void reply_ok(std::string_view text);
    void reply_err(std::string_view text);
    void reply_err_code(std::string_view code, std::string_view text);
    void send_line(std::string_view l);
    void begin_command_event(std::string_view l);
    void bad_command(std::string_view text);
    void close_after_flush(close_reason r);
    bool message_ref(const command& c, std::size_t& index);
    std::pair<std::size_t, std::uint64_t> live_totals() const noexcept;
    void continue_listing();
    void cmd_stat(const command& c);
    void cmd_list(const command& c);  // LIST and UIDL
    void cmd_retr(const command& c);  // RETR and TOP
    void cmd_dele(const command& c);
    void cmd_noop(const command& c);
    void cmd_rset(const command& c);
    void cmd_quit(const command& c);
    // AUTHORIZATION (server_auth.cpp)
    void cmd_user(const command& c);
    void cmd_pass(const command& c);
    void cmd_apop(const command& c);
    void cmd_auth(const command& c);
    void cmd_stls(const command& c);
    void cmd_utf8(const command& c);
    void list_mechanisms();
    void sasl_line(std::string_view l);
    void sasl_step(sasl::step_result r);
    void end_sasl();
    void auth_failed(std::string_view reason);
    void error_challenge(std::string encoded);
    void auth_refused(std::string_view code, std::string_view text);
    void finish_auth_failure();
    void login_succeeded(std::string user);
    bool cleartext_allowed() const noexcept;
    bool mechanism_offered(const sasl::mechanism_traits& t) const noexcept;
    bool prepare_credential(std::string& text, std::string_view what);
    const sasl::server_registry& registry() const noexcept;
    // CAPA and LANG (server_capabilities.cpp)
    std::vector<std::string> capabilities() const;
    void add_policy_capabilities(std::vector<std::string>& caps) const;
    void cmd_capa(const command& c);
    void cmd_lang(const command& c);

    server_config config_;
    line_reader reader_;
    std::string out_;
    bool out_sent_ = false;  // out_ was handed out in a send action and is now written
    session_state state_ = session_state::authorization;
    pending pending_ = pending::none;
    std::optional<server_action_t> request_;  // handed out by the next call to next()
    std::optional<close_reason> closing_;
    bool update_finished_ = false;
    bool eof_ = false;

    // Authorization
    std::string user_;      // after login
    std::string user_arg_;  // from USER, before PASS
    std::string password_;  // held only while a verify is pending
    std::string apop_timestamp_;
    std::string apop_digest_;
    std::string failure_reply_;         // the -ERR line a counted failure sends after its delay
    sasl::step::derive_secret derive_;  // held while a derivation is pending
    std::unique_ptr<sasl::server_mechanism> mechanism_;
    std::string sasl_user_;
    std::string token_;                      // held while a token validation is pending
    std::optional<std::string> sasl_error_;  // an error challenge was sent: fail on any answer
    bool in_sasl_ = false;
    bool utf8_ = false;

    // Transaction
    std::span<const message_info> messages_;
    std::vector<std::uint8_t> deleted_;
    std::vector<std::uint8_t> retrieved_;  // RETR completed in this session (for EXPIRE 0)
    mail_policy policy_;
    std::vector<std::size_t> to_delete_;
    std::vector<std::size_t> to_record_;  // retrieved, kept, under EXPIRE DAYS
    std::size_t current_message_ = 0;
    std::optional<std::uint64_t> current_body_lines_;
    std::optional<listing_cursor> listing_;
    bool stable_uids_ = true;

    // The command whose final reply is awaited, for config_.on_command.
    std::optional<command_event> command_event_;

    session_stats stats_;
};

/// A client line as it may be logged: passwords, APOP digests and SASL payloads replaced.
std::string redact_command_line(std::string_view line, bool in_sasl_exchange);

}  // namespace izypop3::core
