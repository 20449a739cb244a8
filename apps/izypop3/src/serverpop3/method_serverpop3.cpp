// method serverpop3: serve a message store over POP3 (RFC 1939, 2449, 2595, 8314).

#include "common/exit_codes.hpp"
#include "common/store_opening.hpp"
#include "cli/methods.hpp"
#include "cli/option_types.hpp"
#include "serverpop3/login_policy.hpp"
#include "serverpop3/oauth2_keys.hpp"
#include "serverpop3/privilege_drop.hpp"
#include "serverpop3/server_option_types.hpp"
#include "serverpop3/status_endpoints.hpp"
#include "serverpop3/user_directory.hpp"

#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>
#include <izypop3/transport/http_server.hpp>
#include <izypop3/transport/server.hpp>
#include <izypop3/transport/service_notifier.hpp>

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
        ("expire", po::value<expire_setting>()->default_value(expire_setting{})->value_name("never|DAYS"),
         "RFC 2449 EXPIRE: 0 = what a session retrieved is deleted when it ends (QUIT); DAYS "
         "needs the postgres store (retrieval times); a user's userdb_expire= in users "
         "overrides it")
        ("logindelay", po::value<whole_number<0, 604800>>()->default_value(whole_number<0, 604800>{0})->value_name("SECONDS"),
         "RFC 2449 LOGIN-DELAY: refuse a user's login sooner than this after the last one "
         "with -ERR [LOGIN-DELAY] (kept per server process; shared by every node on the "
         "postgres store); 0 = off; a user's userdb_logindelay= in users overrides it")
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
         "challenge, and the CN of the self-signed certificate made for tlsport")
        ("http.port", po::value<port_or_zero>()->default_value(port_or_zero{0})->value_name("PORT"),
         "serve /metrics (Prometheus text format), /healthz and /readyz over HTTP on this "
         "port; 0 = off")
        ("http.host", po::value<std::string>()->default_value("127.0.0.1")->value_name("ADDRESS"),
         "address of http.port; the endpoints have no login, so keep them off public networks")
        ("runas", po::value<std::string>()->value_name("USER"),
         "started as root: bind the ports and read the keys, then serve as USER (its primary "
         "group, no other groups); 'runas root' keeps root on purpose. As root, a port below "
         "1024 needs runas")
        ("runas.group", po::value<std::string>()->value_name("GROUP"),
         "the group to serve as with runas, instead of USER's primary group");
    add_oauth2_keys(d);
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
    const bool tokens = o.count("oauth2.introspect") || o.count("oauth2.command");
    if (!o.count("password") && !o.count("users") && !tokens) {
        err << "izypop3: serverpop3: no credentials; give 'users FILE' (a Dovecot passwd-file), "
               "'password TEXT' (any user name, one password), e.g. password 12345, or "
               "oauth2.introspect/oauth2.command for bearer tokens\n";
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
        // Without either, bearer tokens (oauth2.*) are the only way in.
        if (o.count("password")) use_demo_password(hooks, o["password"].as<std::string>());
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
    auto oauth2 = oauth2_options_of(o, err);
    if (!oauth2) return std::nullopt;
    opt.oauth2 = std::move(*oauth2);
    return opt;
}

// expire and logindelay (RFC 2449), and the users file's own values. EXPIRE DAYS needs a
// store that records when a message was retrieved; with another, the key is refused rather
// than announced and never done.
std::optional<int> install_mail_policy(const po::variables_map& o, const transport::logger& log,
                                       const std::shared_ptr<user_directory>& users,
                                       const std::shared_ptr<store::mime_store>& data,
                                       transport::server_hooks& hooks,
                                       std::shared_ptr<login_policy>& installed,
                                       std::ostream& err) {
    const std::uint32_t expire = o["expire"].as<expire_setting>().days;
    const auto delay =
        static_cast<std::uint32_t>(o["logindelay"].as<whole_number<0, 604800>>().value);
    auto policy = std::make_shared<login_policy>(expire, delay, users, data, log);
    const bool needs_times = (expire != core::sasl::expire_never && expire > 0) ||
                             (users && users->table()->has_expire_days());
    if (needs_times && !data->keeps_retrieval_times()) {
        err << "izypop3: serverpop3: expire DAYS (or a userdb_expire= of days) needs a store "
               "that records when each message was retrieved; the "
            << data->kind()
            << " store does not: use mimestore.modhandler postgres, or expire 0 or never\n";
        return exit_code::usage;
    }
    if (expire != core::sasl::expire_never || delay > 0 || policy->per_user()) {
        install_login_policy(policy, hooks);
        installed = std::move(policy);
    }
    return std::nullopt;
}

// Under EXPIRE DAYS what was retrieved long enough ago goes before the maildrop is opened,
// so the session never lists it.
void serve_maildrops_from(std::shared_ptr<store::mime_store> data,
                          std::shared_ptr<login_policy> policy, transport::server_hooks& hooks) {
    hooks.maildrops_local = data->reads_locally();
    hooks.open_maildrop = [data = std::move(data),
                           policy = std::move(policy)](std::string_view user)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        const auto days = policy ? policy->policy_of(user).expire_days : std::nullopt;
        if (days && *days > 0) {
            const auto cutoff = std::chrono::system_clock::now() - std::chrono::days(*days);
            auto gone = data->expire_retrieved(user, cutoff);
            if (!gone) return store::to_maildrop_failure(gone.error());
        }
        auto md = data->open_maildrop(user);
        if (!md) return store::to_maildrop_failure(md.error());
        return std::move(*md);
    };
}

// What a script waits for: the ports, and the fingerprint of the certificate in use.
void print_listening(std::ostream& out, const transport::server& srv,
                     const transport::server_options& opt, std::string_view store_kind,
                     const user_directory* users, const transport::http_server* web) {
    out << "izypop3 serverpop3: store " << store_kind;
    if (srv.port()) out << ", POP3 on port " << srv.port() << " (STLS " << (opt.tls_port || !opt.cert_file.empty() ? "on" : "off") << ")";
    if (srv.tls_port()) out << ", POP3S on port " << srv.tls_port();
    if (web) out << ", HTTP on port " << web->port();
    if (users) out << ", " << users->table()->size() << " users from " << users->path();
    out << "\n";
    if (!srv.tls_fingerprint().empty())
        out << "TLS certificate SHA-256 fingerprint: " << srv.tls_fingerprint()
            << (opt.cert_file.empty() ? " (self-signed, made at start-up)" : "") << "\n";
    out.flush();
}

// runas: who to become after binding; nothing after a message on `err` (`failed` set). As
// root without runas, a port below 1024 is refused: that is a deployment, and it must say
// who serves. Unprivileged ports as root (a container, a test) are served with a warning.
std::optional<unix_identity> runas_identity(const po::variables_map& o, transport::logger& log,
                                            bool& failed, std::ostream& err) {
    const bool root = ::geteuid() == 0;
    if (!o.count("runas")) {
        if (o.count("runas.group")) {
            err << "izypop3: serverpop3: runas.group needs runas USER\n";
            failed = true;
            return std::nullopt;
        }
        if (!root) return std::nullopt;
        const unsigned ports[] = {o["port"].as<port_number>().value,
                                  o["tlsport"].as<port_or_zero>().value,
                                  o["http.port"].as<port_or_zero>().value};
        for (const unsigned p : ports) {
            if (p == 0 || p >= 1024) continue;
            err << "izypop3: serverpop3: started as root to listen on port " << p
                << "; give 'runas USER' to serve as USER once the ports are bound (e.g. runas "
                   "izypop3), or 'runas root' to serve as root on purpose\n";
            failed = true;
            return std::nullopt;
        }
        log.warn("serving as root; give 'runas USER' to drop root once the ports are bound, or "
                 "'runas root' to say it is on purpose");
        return std::nullopt;
    }
    std::string why;
    auto who = resolve_identity(o["runas"].as<std::string>(),
                                o.count("runas.group") ? o["runas.group"].as<std::string>() : "",
                                why);
    if (who && !root && (who->uid != ::geteuid() || who->gid != ::getegid()))
        why = "runas " + who->user + ": only root can change user; start as root or leave runas out";
    if (!why.empty()) {
        err << "izypop3: serverpop3: " << why << "\n";
        failed = true;
        return std::nullopt;
    }
    return who;
}

// The store's own files, for the checks of runas and /readyz.
std::vector<std::string> store_paths(const store::store_config& sc) {
    if (auto it = sc.settings.find("path"); it != sc.settings.end()) return {it->second};
    return {};
}

// After the drop: the files the server reads later (the users file is re-read on change,
// the store on every session) must be readable as the new user, and the store must answer.
bool serve_as(const unix_identity& who, const po::variables_map& o, const store::store_config& sc,
              store::mime_store& data, transport::logger& log, std::ostream& err) {
    std::string why;
    if (who.uid == 0 && who.gid == 0) {
        log.info("runas root: serving as root on purpose");
        return true;
    }
    if (::geteuid() != 0) return true;  // started as that user already (runas_identity checked)
    if (!drop_privileges(who, why)) {
        err << "izypop3: serverpop3: " << why << "\n";
        return false;
    }
    std::vector<std::string> paths;
    if (o.count("users")) paths.push_back(o["users"].as<std::string>());
    for (auto& p : store_paths(sc)) paths.push_back(std::move(p));
    auto bad = first_unreadable(paths);
    if (bad) {
        err << "izypop3: serverpop3: runas " << who.user << ": cannot read " << *bad << " as "
            << who.user << ":" << who.group << "; give it to that user or group (chown/chmod)\n";
        return false;
    }
    if (auto unready = store_unready(data, {})) {
        err << "izypop3: serverpop3: runas " << who.user << ": " << *unready << "\n";
        return false;
    }
    log.info("serving as user {} ({}), group {} ({})", who.user, who.uid, who.group, who.gid);
    return true;
}

// The service manager (systemd Type=notify) hears of reloads and of the stop.
void tell_service_manager(transport::server_hooks& hooks) {
    hooks.on_reload = [inner = std::move(hooks.on_reload)] {
        (void)transport::notify_service_manager(transport::reloading_state());
        if (inner) inner();
        (void)transport::notify_service_manager("READY=1");
    };
    hooks.on_stopping = [] { (void)transport::notify_service_manager("STOPPING=1"); };
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
    bool refused = false;
    const auto who = runas_identity(o, log, refused, err);
    if (refused) return exit_code::usage;
    std::shared_ptr<login_policy> policy;
    if (const auto bad = install_mail_policy(o, log, users, data, hooks, policy, err)) return *bad;
    serve_maildrops_from(data, policy, hooks);
    tell_service_manager(hooks);

    transport::server srv(*opt, hooks, log);
    if (srv.start(error_text)) {
        err << "izypop3: serverpop3: " << error_text << "\n";
        return exit_code::failure;
    }
    std::unique_ptr<transport::http_server> web;
    if (const auto http_port = o["http.port"].as<port_or_zero>().value) {
        transport::http_options ho;
        ho.host = o["http.host"].as<std::string>();
        ho.port = http_port;
        web = std::make_unique<transport::http_server>(ho, status_endpoints(srv, data, store_paths(inv.store)),
                                                       log.with_prefix("[HTTP]"));
        if (web->start(error_text)) {
            err << "izypop3: serverpop3: " << error_text << "\n";
            return exit_code::failure;
        }
    }
    if (who && !serve_as(*who, o, inv.store, *data, log, err)) return exit_code::failure;
    if (web) web->serve_in_background();
    print_listening(out, srv, *opt, data->kind(), users.get(), web.get());
    (void)transport::notify_service_manager("READY=1");
    srv.run(true);
    if (web) web->stop();
    out << "izypop3 serverpop3: stopped\n";
    return exit_code::ok;
}

}  // namespace izypop3::app
