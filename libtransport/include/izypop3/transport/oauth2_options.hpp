#pragma once
// How the server finds out whose OAuth 2.0 bearer token a client presented (XOAUTH2,
// OAUTHBEARER): token introspection (RFC 7662) over HTTPS, or a local command. No Asio here.

#include <chrono>
#include <cstddef>
#include <string>

namespace izypop3::transport {

/// Which member of an introspection response names the token's user.
enum class token_user_claim { username, sub };

struct oauth2_options {
    /// "https://host[:port]/path" of the introspection endpoint; empty = not used.
    std::string introspect_url;
    /// PEM CA certificates the endpoint's certificate must chain to; empty = the system store.
    std::string ca_file;
    /// HTTP Basic credentials of this server at the endpoint (RFC 7662 section 2.1); empty
    /// client_id = no Authorization header.
    std::string client_id;
    std::string client_secret;
    token_user_claim user_claim = token_user_claim::username;
    /// "/bin/sh -c" command: the token on stdin; exit 0 and the user name on the first line
    /// of stdout = valid, exit 75 (EX_TEMPFAIL) = try again later, anything else = not valid.
    std::string command;
    /// One introspection request or one run of the command, start to end.
    std::chrono::seconds timeout{10};
    /// Active tokens remembered until their "exp" (introspection only).
    std::size_t cache_entries = 4096;

    bool configured() const noexcept { return !introspect_url.empty() || !command.empty(); }
};

/// The parts of an introspection URL; parse_https_url() checks one at start-up.
struct https_url {
    std::string host;
    std::string port = "443";
    std::string target = "/";
};

/// Parses "https://host[:port][/path]" (an IPv6 host in brackets); false with a one-line
/// reason in `why` for anything else (http://, user info, a fragment, a bad port).
bool parse_https_url(const std::string& url, https_url& out, std::string& why);

}  // namespace izypop3::transport
