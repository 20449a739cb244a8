// method serverpop3: serve a message store over POP3 (RFC 1939, 2449, 2595, 8314).

#include "common/exit_codes.hpp"
#include "common/store_opening.hpp"
#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "serverpop3/server_option_types.hpp"
#include "serverpop3/user_directory.hpp"

#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>
#include <izypop3/transport/server.hpp>

#include <unistd.h>

#include <memory>
#include <optional>
#include <ostream>

namespace izypop3::app {

namespace po = boost::program_options;

po::options_description serverpop3_options() {
    po::options_description d("serverpop3");
    d.add_options()
        ("host", po::value<std::string>()->default_value("::")->value_name("ADDRESS"),
         "address to listen on; '::' means every interface, IPv4 and IPv6")
        ("port", po::value<port_number>()->default_value(port_number{110})->value_name("PORT"),
         "TCP port for plain POP3; STLS (RFC 2595) is offered only with a certificate: "
         "tls.cert, or the self-signed one made when tlsport is set")
        ("tlsport", po::value<port_or_zero>()->default_value(port_or_zero{0})->value_name("PORT"),
         "TCP port for implicit TLS (RFC 8314, usually 995); 0 = off")
        ("password", po::value<std::string>()->value_name("TEXT"),
         "demo mode: any user name is accepted with this one password")
        ("users", po::value<std::string>()->value_name("PATH"),
         "Dovecot passwd-file of users (user:{SCHEME}secret per line; PLAIN, SHA512-CRYPT, "
         "SHA256-CRYPT, BLF-CRYPT, SCRAM-SHA-256, SCRAM-SHA-1), instead of password; re-read "
         "when it changes and on SIGHUP")
        ("allowplaintext",
         po::value<plaintext_policy>()->default_value(plaintext_policy{})->value_name(
             "loopback|true|false"),
         "who may send a password before TLS (USER/PASS, AUTH PLAIN/LOGIN, APOP): loopback = "
         "clients on this machine (not through a proxy), true = everyone, false = no one")
        ("apop", po::value<flag>()->default_value(flag{true})->value_name("BOOL"),
         "offer APOP (RFC 1939; with a PLAIN password in users, or password): false leaves "
         "the timestamp out of the greeting and refuses APOP")
        ("trustedproxies", po::value<network_list>()->composing()->value_name("ADDRESS/PREFIX,..."),
         "load balancers or TLS terminators that start each connection with a PROXY protocol "
         "header (v1 or v2, HAProxy's send-proxy); the header's client address is used for "
         "maxperip, the failed-login delay and the logs, and such clients are not loopback")
        ("threads", po::value<count_value>()->default_value(count_value{0})->value_name("N"),
         "I/O threads; 0 = one per CPU core")
        ("timeout", po::value<seconds_value>()->default_value(seconds_value{600})->value_name("SECONDS"),
         "close a session idle this long, without deleting anything (RFC 1939 section 3)")
        ("maxconnections", po::value<count_value>()->default_value(count_value{10000})->value_name("N"),
         "sessions open at once; more are refused")
        ("maxperip", po::value<count_value>()->default_value(count_value{50})->value_name("N"),
         "sessions open at once from one client address (an IPv6 /64 counts as one)")
        ("maxauthperip", po::value<whole_number<1, 1000>>()->default_value(whole_number<1, 1000>{2})->value_name("N"),
         "password checks and key derivations running at once for one client address; more wait")
        ("logintimeout", po::value<seconds_value>()->default_value(seconds_value{60})->value_name("SECONDS"),
         "close a connection that has not logged in this long after the greeting")
        ("tls.cert", po::value<std::string>()->value_name("PATH"),
         "PEM certificate chain for STLS and tlsport")
        ("tls.key", po::value<std::string>()->value_name("PATH"),
         "PEM private key of tls.cert")
        ("tls.timeout", po::value<seconds_value>()->default_value(seconds_value{30})->value_name("SECONDS"),
         "close a connection whose TLS handshake (or PROXY header) is not done this long; "
         "needs tlsport, tls.cert or trustedproxies")
        ("hostname", po::value<std::string>()->default_value("", "<machine name>")->value_name("NAME"),
         "this server's name: in the greeting's APOP timestamp <...@NAME>, the CRAM-MD5 "
         "challenge, and the CN of the self-signed certificate made for tlsport");
    return d;
}

namespace {

std::string machine_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    return buf;
}

// The seed's demo mode: any user name, one shared password. The secret is known in the
// clear, so every mechanism (APOP, CRAM-MD5, SCRAM) can be served.
void use_demo_password(transport::server_hooks& hooks, std::string password) {
    auto secret = std::make_shared<const std::string>(std::move(password));
    hooks.verify_password = [secret](std::string_view, std::string_view given) {
        return given == *secret ? core::auth_outcome::accepted : core::auth_outcome::rejected;
    };
    hooks.lookup_secret = [secret](std::string_view) {
        core::sasl::stored_secret s;
        s.plaintext = *secret;
        return std::optional(s);
    };
    hooks.secret_forms.plaintext = true;
}

// users FILE or password TEXT, exactly one; nothing when they are right, else the exit code.
std::optional<int> check_credential_keys(const po::variables_map& o, std::ostream& err) {
    if (o.count("users") && o.count("password")) {
        err << "izypop3: serverpop3: 'password' and 'users' exclude each other; give 'users "
               "FILE' for real accounts or 'password TEXT' for the demo mode, not both\n";
        return exit_code::usage;
    }
    if (!o.count("password") && !o.count("users")) {
        err << "izypop3: serverpop3: no credentials; give 'users FILE' (a Dovecot passwd-file) "
               "or 'password TEXT' (any user name, one password), e.g. password 12345\n";
        return exit_code::usage;
    }
    return std::nullopt;
}

// The credential hooks: the users file (returned, for the banner) or the demo password.
// A bad users file is a command-line mistake, found before the store and the listeners.
std::optional<int> install_credentials(const po::variables_map& o, transport::logger& log,
                                       transport::server_hooks& hooks,
                                       std::shared_ptr<user_directory>& users, std::ostream& err) {
    if (!o.count("users")) {
        use_demo_password(hooks, o["password"].as<std::string>());
        return std::nullopt;
    }
    std::string error_text;
    users = user_directory::open(o["users"].as<std::string>(), log, error_text);
    if (!users) {
        err << "izypop3: serverpop3: " << error_text << "\n";
        return exit_code::usage;
    }
    install_user_directory(users, hooks);
    return std::nullopt;
}

// The listeners' settings from the keys; nothing after a message on `err`.
std::optional<transport::server_options> server_options_of(const po::variables_map& o,
                                                           std::ostream& err) {
    transport::server_options opt;
    opt.host = o["host"].as<std::string>();
    opt.port = o["port"].as<port_number>().value;
    opt.tls_port = o["tlsport"].as<port_or_zero>().value;
    opt.cleartext = o["allowplaintext"].as<plaintext_policy>().value;
    opt.apop = o["apop"].as<flag>().value;
    if (o.count("trustedproxies"))
        opt.trusted_proxies = o["trustedproxies"].as<network_list>().networks;
    opt.max_auth_work_per_ip = o["maxauthperip"].as<whole_number<1, 1000>>().value;
    opt.login_timeout = std::chrono::seconds(o["logintimeout"].as<seconds_value>().value);
    opt.handshake_timeout = std::chrono::seconds(o["tls.timeout"].as<seconds_value>().value);
    opt.threads = static_cast<unsigned>(o["threads"].as<count_value>().value);
    opt.idle_timeout = std::chrono::seconds(o["timeout"].as<seconds_value>().value);
    opt.max_connections = o["maxconnections"].as<count_value>().value;
    opt.max_connections_per_ip = o["maxperip"].as<count_value>().value;
    if (o.count("tls.cert") != o.count("tls.key")) {
        err << "izypop3: serverpop3: tls.cert and tls.key go together; give both or neither\n";
        return std::nullopt;
    }
    if (o.count("tls.cert")) {
        opt.cert_file = o["tls.cert"].as<std::string>();
        opt.key_file = o["tls.key"].as<std::string>();
    }
    const auto host_name = o["hostname"].as<std::string>();
    opt.host_name = host_name.empty() ? machine_name() : host_name;
    return opt;
}

void serve_maildrops_from(std::shared_ptr<store::mime_store> data, transport::server_hooks& hooks) {
    hooks.maildrops_local = data->reads_locally();
    hooks.open_maildrop = [data = std::move(data)](std::string_view user)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        auto md = data->open_maildrop(user);
        if (!md) return store::to_maildrop_failure(md.error());
        return std::move(*md);
    };
}

// What a script waits for: the ports, and the fingerprint of the certificate in use.
void print_listening(std::ostream& out, const transport::server& srv,
                     const transport::server_options& opt, std::string_view store_kind,
                     const user_directory* users) {
    out << "izypop3 serverpop3: store " << store_kind;
    if (srv.port()) out << ", POP3 on port " << srv.port() << " (STLS " << (opt.tls_port || !opt.cert_file.empty() ? "on" : "off") << ")";
    if (srv.tls_port()) out << ", POP3S on port " << srv.tls_port();
    if (users) out << ", " << users->table()->size() << " users from " << users->path();
    out << "\n";
    if (!srv.tls_fingerprint().empty())
        out << "TLS certificate SHA-256 fingerprint: " << srv.tls_fingerprint()
            << (opt.cert_file.empty() ? " (self-signed, made at start-up)" : "") << "\n";
    out.flush();
}

}  // namespace

int run_serverpop3(const invocation& inv, std::ostream& out, std::ostream& err) {
    const auto& o = inv.options;
    if (const auto bad = check_credential_keys(o, err)) return *bad;
    auto log = logger_for(inv);
    transport::server_hooks hooks;
    std::shared_ptr<user_directory> users;
    if (const auto bad = install_credentials(o, log, hooks, users, err)) return *bad;
    std::string error_text;
    auto made = open_store(inv.store, log, error_text);
    if (!made) {
        err << "izypop3: serverpop3: " << error_text << "\n";
        return exit_code::failure;
    }
    std::shared_ptr<store::mime_store> data = std::move(*made);
    const auto opt = server_options_of(o, err);
    if (!opt) return exit_code::usage;
    serve_maildrops_from(data, hooks);

    transport::server srv(*opt, hooks, log);
    if (srv.start(error_text)) {
        err << "izypop3: serverpop3: " << error_text << "\n";
        return exit_code::failure;
    }
    print_listening(out, srv, *opt, data->kind(), users.get());
    srv.run(true);
    out << "izypop3 serverpop3: stopped\n";
    return exit_code::ok;
}

}  // namespace izypop3::app
