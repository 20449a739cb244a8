#pragma once
// The POP3 server: listeners (plain with STLS, implicit TLS), one coroutine per connection
// driving a core::server_session, and the embedder's hooks (pop3-emitter's events as a C++
// API). No Asio in this header; the implementation is behind a pointer.

#include <izypop3/core/maildrop.hpp>
#include <izypop3/core/sasl/credentials.hpp>
#include <izypop3/core/sasl/server_mechanism.hpp>
#include <izypop3/core/server_session.hpp>
#include <izypop3/transport/ip_network.hpp>
#include <izypop3/transport/logger.hpp>
#include <izypop3/transport/oauth2_options.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::transport {

/// Who may log in with a password that crosses the wire (USER/PASS, AUTH PLAIN/LOGIN, APOP)
/// before TLS.
enum class cleartext_policy {
    loopback,  ///< peers on the loopback interface (not proxied connections)
    always,    ///< everyone
    never,     ///< no one, loopback included
};

struct server_options {
    std::string host = "::";       ///< "::" listens on all IPv6 and IPv4 addresses
    std::uint16_t port = 110;      ///< plain POP3 with STLS; 0 = off
    std::uint16_t tls_port = 0;    ///< implicit TLS (RFC 8314); 0 = off
    bool pick_free_ports = false;  ///< bind port 0 and let the kernel choose (tests)
    std::string cert_file;         ///< PEM chain; with key_file empty, a self-signed one
    std::string key_file;
    std::string host_name = "localhost";         ///< greeting timestamp, self-signed certificate
    unsigned threads = 0;                        ///< I/O threads; 0 = number of cores
    unsigned blocking_threads = 4;               ///< threads for credential checks and store reads
    std::chrono::seconds idle_timeout{600};      ///< RFC 1939 autologout, at least 10 min
    std::chrono::seconds handshake_timeout{30};  ///< a TLS handshake; a PROXY header
    std::chrono::seconds login_timeout{60};      ///< from the greeting to a login
    std::chrono::seconds send_timeout{120};      ///< one write may take this long at most
    std::chrono::milliseconds auth_failure_delay{2000};  ///< first failed login; then doubled
                                                         ///< per failure of the address, to 15 s
    std::size_t max_connections = 10000;
    /// Open sessions per client address (an IPv6 /64 counts as one address).
    std::size_t max_connections_per_ip = 50;
    /// Password checks and key derivations running at once per client address; more wait.
    std::size_t max_auth_work_per_ip = 2;
    /// Failed-login counts remembered (addresses); the longest quiet is dropped when full.
    std::size_t penalty_table_size = 65536;
    cleartext_policy cleartext = cleartext_policy::loopback;
    /// Peers that start each connection with a PROXY protocol header (v1 or v2) naming the
    /// real client. From them the header is required; from anyone else it is never read.
    std::vector<ip_network> trusted_proxies;
    bool stls = true;  ///< offer STLS on the plain port when TLS is configured
    bool apop = true;  ///< offer APOP (and the greeting's timestamp) when it can be
    /// Bearer-token validation; when configured, XOAUTH2 and OAUTHBEARER are offered.
    oauth2_options oauth2;
};

/// What server_hooks::admit_login says of one login.
struct login_admission {
    core::mail_policy policy;        ///< the user's EXPIRE and LOGIN-DELAY
    std::uint32_t wait_seconds = 0;  ///< not 0: too early, refused with [LOGIN-DELAY]
};

/// What the embedding program provides. Every function may be called from several threads
/// at once and may block: the server calls them off its I/O threads.
struct server_hooks {
    /// Accept or refuse a connection by peer address (pop3-emitter's "connected").
    std::function<bool(std::string_view peer_address)> on_connect;
    std::function<core::auth_outcome(std::string_view user, std::string_view password)>
        verify_password;
    std::function<std::optional<core::sasl::stored_secret>(std::string_view user)> lookup_secret;
    core::sasl::secret_forms secret_forms;
    std::function<boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure>(
        std::string_view user)>
        open_maildrop;
    /// After a login's maildrop is open: the user's policy, and whether the login comes
    /// too soon after the last accepted one (RFC 2449 LOGIN-DELAY); an accepted login is
    /// recorded as the last one at `now`. Unset: every user has server_options-free
    /// defaults (core::server_config::policy). Runs where open_maildrop runs.
    std::function<login_admission(std::string_view user, std::chrono::system_clock::time_point now)>
        admit_login;
    /// What CAPA says before login (core::server_config::policy, policy_per_user).
    core::mail_policy advertised_policy;
    bool policy_per_user = false;
    /// open_maildrop touches only local files or memory (mime_store::reads_locally): the
    /// server calls it on its I/O thread, where it costs less than a hand-off to a worker.
    bool maildrops_local = false;
    std::function<void(core::session_state, std::vector<std::string>&)> edit_capabilities;
    /// pop3-emitter's per-command event: every command with its redacted arguments and
    /// whether it succeeded. Unlike the other hooks it is called on the connection's I/O
    /// thread, in command order, so it must return quickly and never block.
    std::function<void(const core::command_event&)> on_command;
    /// Called on SIGHUP (when run() handles signals), off the I/O threads: re-read
    /// configuration such as a users file. Sessions already logged in are not affected.
    std::function<void()> on_reload;
    /// Called once when the server begins to stop (a signal or stop()), before sessions
    /// close: tell a service manager.
    std::function<void()> on_stopping;
    const core::sasl::server_registry* mechanisms = nullptr;
};

class server_metrics;

class server {
  public:
    server(server_options options, server_hooks hooks, logger log);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    /// Binds the listeners and loads or makes the TLS identity. An error names what failed
    /// (port in use, unreadable certificate...) in `error_text`.
    boost::system::error_code start(std::string& error_text);
    /// Runs until stop() or SIGINT/SIGTERM (when handle_signals): stops accepting, closes
    /// every session without UPDATE (nothing is deleted), returns.
    void run(bool handle_signals = true);
    /// Thread-safe.
    void stop();

    std::uint16_t port() const noexcept;
    std::uint16_t tls_port() const noexcept;
    /// SHA-256 fingerprint of the certificate, "AB:CD:...", empty without TLS.
    std::string tls_fingerprint() const;
    /// The counters for /metrics; reading them is thread-safe and lock-free.
    const server_metrics& metrics() const noexcept;

    struct impl;  // opaque; public only so the connection code can name it

  private:
    void wait_for_signal();

    std::unique_ptr<impl> impl_;
};

}  // namespace izypop3::transport
