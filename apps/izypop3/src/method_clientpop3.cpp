// method clientpop3: talk to a POP3 server; list, fetch, or back up into a message store.

#include "methods.hpp"
#include "option_types.hpp"

namespace izypop3::app {

namespace po = boost::program_options;

po::options_description clientpop3_options() {
    po::options_description d("clientpop3");
    d.add_options()
        ("ip", po::value<std::string>()->value_name("HOST"),
         "server to connect to (a name or an address)")
        ("port", po::value<port_number>()->default_value(port_number{110})->value_name("PORT"),
         "server port; 995 usually means implicit TLS (tls true)")
        ("user", po::value<std::string>()->value_name("TEXT"), "user name")
        ("pass", po::value<std::string>()->value_name("TEXT"),
         "password (visible in the process list; prefer passeval)")
        ("passeval", po::value<std::string>()->value_name("COMMAND"),
         "command whose first output line is the password")
        ("tls", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "implicit TLS from the first byte (RFC 8314)")
        ("starttls", po::value<choice<starttls_names>>()->default_value(choice<starttls_names>{"auto"})->value_name("auto|true|false"),
         "STLS (RFC 2595): auto = when offered, true = required before login, false = never")
        ("tls.cafile", po::value<std::string>()->value_name("PATH"),
         "PEM file of trusted CAs (default: the system's)")
        ("tls.fingerprint", po::value<std::string>()->value_name("HEX"),
         "accept only a server certificate with this SHA-256 fingerprint")
        ("tls.verify", po::value<flag>()->default_value(flag{true})->value_name("BOOL"),
         "check the server certificate and name (RFC 7817)")
        ("auth", po::value<choice<auth_names>>()->default_value(choice<auth_names>{"auto"})->value_name("auto|user|apop|plain|login|cram-md5|scram-sha-1|scram-sha-256|xoauth2|oauthbearer"),
         "login mechanism; auto = the strongest one the server offers")
        ("cmd", po::value<choice<cmd_names>>()->value_name("capa|stat|list|uidl|top|retr|dele"),
         "what to do")
        ("query", po::value<std::string>()->default_value("all")->value_name("RANGE"),
         "which messages: all, N or N-M (message numbers)")
        ("query.id", po::value<count_value>()->value_name("N"), "one message number")
        ("lines", po::value<count_value>()->default_value(count_value{0})->value_name("N"),
         "body lines for cmd top")
        ("limit", po::value<count_value>()->default_value(count_value{0})->value_name("N"),
         "at most this many messages per run; 0 = no limit")
        ("delete", po::value<flag>()->default_value(flag{false})->value_name("BOOL"),
         "delete each message on the server once it is durably stored")
        ("timeout", po::value<seconds_value>()->default_value(seconds_value{60})->value_name("SECONDS"),
         "give up on a server silent this long")
        ("pipelining", po::value<choice<pipelining_names>>()->default_value(choice<pipelining_names>{"auto"})->value_name("auto|on|off"),
         "send commands ahead of replies (RFC 2449 PIPELINING); auto = when offered")
        ("maxsize", po::value<size_value>()->default_value(size_value{0})->value_name("OCTETS"),
         "skip messages larger than this; 0 = no limit")
        ("format", po::value<choice<format_names>>()->default_value(choice<format_names>{"text"})->value_name("text|json"),
         "output format");
    return d;
}

int run_clientpop3(const invocation& /*inv*/, std::ostream& /*out*/, std::ostream& err) {
    return not_built(err, "method clientpop3", "coming with the client work");
}

}  // namespace izypop3::app
