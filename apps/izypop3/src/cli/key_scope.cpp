#include "cli/key_scope.hpp"

#include "cli/option_types.hpp"

#include <fmt/format.h>

#include <array>
#include <initializer_list>
#include <span>
#include <string_view>

namespace izypop3::app {

namespace {

constexpr std::string_view store_prefix = store::store_config::key_prefix;
constexpr std::string_view any_store_key = "mimestore.*";

// Given on the command line, not filled in from the table's default.
bool given(const invocation& inv, std::string_view key) {
    if (key.starts_with(store_prefix) && key != "mimestore.modhandler")
        return inv.store.settings.contains(std::string(key.substr(store_prefix.size())));
    const auto it = inv.options.find(std::string(key));
    return it != inv.options.end() && !it->second.defaulted();
}

// The first mimestore.* key given, or empty.
std::string given_store_key(const invocation& inv) {
    if (given(inv, "mimestore.modhandler")) return "mimestore.modhandler";
    if (inv.store.settings.empty()) return {};
    return std::string(store_prefix) + inv.store.settings.begin()->first;
}

template <class Names>
std::string choice_of(const invocation& inv, const char* key) {
    const auto it = inv.options.find(key);
    return it == inv.options.end() ? std::string() : it->second.as<choice<Names>>().value;
}
bool flag_of(const invocation& inv, const char* key) {
    const auto it = inv.options.find(key);
    return it != inv.options.end() && it->second.as<flag>().value;
}
bool has(const invocation& inv, const char* key) {
    return inv.options.count(key) != 0;
}

// clientpop3: without cmd every key may apply (the method then says cmd is missing).
bool cmd_in(const invocation& inv, std::initializer_list<std::string_view> cmds) {
    const std::string cmd = choice_of<cmd_names>(inv, "cmd");
    if (cmd.empty()) return true;
    for (const auto c : cmds)
        if (c == cmd) return true;
    return false;
}
bool testtype_is(const invocation& inv, std::string_view type) {
    return choice_of<testtype_names>(inv, "testtype") == type;
}
bool load_own_server(const invocation& inv) {
    return testtype_is(inv, "load") && !has(inv, "ip");
}
bool load_other_server(const invocation& inv) {
    return testtype_is(inv, "load") && has(inv, "ip");
}

// Where a key does something, and what the refusal says: "KEY does nothing CONTEXT; it
// applies WHERE". CONTEXT is `idle_when`, or else the method's own (cmd, testtype).
struct key_use {
    std::string_view method;  ///< empty: every method that has the key
    std::string_view key;     ///< a key, or "mimestore.*" for every store key
    bool (*applies)(const invocation&);
    std::string_view where;
    std::string_view idle_when = {};
};

bool retr(const invocation& inv) {
    return cmd_in(inv, {"retr"});
}
bool names_messages(const invocation& inv) {
    return cmd_in(inv, {"list", "uidl", "top", "retr", "dele"});
}
bool client_tls(const invocation& inv) {
    return flag_of(inv, "tls") || choice_of<starttls_names>(inv, "starttls") != "false";
}
bool load(const invocation& inv) {
    return testtype_is(inv, "load");
}
bool load_without_implicit_tls(const invocation& inv) {
    return load(inv) && !flag_of(inv, "tls");
}
bool test_server_in_process(const invocation& inv) {
    return testtype_is(inv, "fullclientserver") || load_own_server(inv);
}

constexpr std::string_view load_keys_where = "to testtype load";
constexpr std::string_view selection_where =
    "to cmd list, uidl, top, retr and dele, which pick messages";

// clang-format off
constexpr std::array client_uses{
    key_use{"clientpop3", "delete", retr,
            "to cmd retr (delete each message once it is stored); cmd dele deletes every "
            "message query names"},
    key_use{"clientpop3", "lines", [](const invocation& i) { return cmd_in(i, {"top"}); },
            "to cmd top"},
    key_use{"clientpop3", "query", names_messages, selection_where},
    key_use{"clientpop3", "query.id", names_messages, selection_where},
    key_use{"clientpop3", "limit", names_messages, selection_where},
    key_use{"clientpop3", "maxsize", names_messages,
            "to cmd list, uidl, top, retr and dele, which skip messages larger than it"},
    key_use{"clientpop3", "maxmessages", names_messages,
            "to cmd list, uidl, top, retr and dele, which read the server's listing"},
    key_use{"clientpop3", any_store_key, retr,
            "to cmd retr (the store the backup writes to); remove it"},
    key_use{"clientpop3", "tls.cafile", client_tls, "to TLS: tls true, or starttls auto|true",
            "with tls false and starttls false (no TLS at all)"},
    key_use{"clientpop3", "tls.fingerprint", client_tls,
            "to TLS: tls true, or starttls auto|true",
            "with tls false and starttls false (no TLS at all)"},
    key_use{"clientpop3", "tls.verify", client_tls, "to TLS: tls true, or starttls auto|true",
            "with tls false and starttls false (no TLS at all)"},
    key_use{"clientpop3", "starttls", [](const invocation& i) { return !flag_of(i, "tls"); },
            "only without tls true (implicit TLS needs no STLS); remove one of them",
            "with tls true"},
    key_use{"clientpop3", "allowplaintext",
            [](const invocation& i) { return !flag_of(i, "tls"); },
            "only without tls true (with implicit TLS nothing is sent in clear); remove it",
            "with tls true"},
    key_use{"clientpop3", "oauth2.twostep",
            [](const invocation& i) { return choice_of<auth_names>(i, "auth") == "xoauth2"; },
            "to auth xoauth2 (auth auto never picks XOAUTH2); add auth xoauth2 or remove it",
            "without auth xoauth2"},
};

constexpr std::array test_uses{
    key_use{"test", "verbose.serverLog", test_server_in_process,
            "to fullclientserver, and load without ip"},
    key_use{"test", "verbose.clientLog",
            [](const invocation& i) { return testtype_is(i, "fullclientserver"); },
            "to fullclientserver"},
    key_use{"test", "verbose.waitTime", test_server_in_process,
            "to fullclientserver, and load without ip"},
    key_use{"test", "report", load, "to load"},
    key_use{"test", "query.tags", [](const invocation& i) { return testtype_is(i, "mimestore"); },
            "to testtype mimestore"},
    key_use{"test", "query.limit", [](const invocation& i) { return testtype_is(i, "mimestore"); },
            "to testtype mimestore"},
    key_use{"test", "query.order", [](const invocation& i) { return testtype_is(i, "mimestore"); },
            "to testtype mimestore"},
    key_use{"test", "port",
            [](const invocation& i) {
                return testtype_is(i, "fullclientserver") || load_other_server(i);
            },
            "to fullclientserver, and load with ip (without ip the server in this process "
            "takes a free port)"},
    key_use{"test", "ip", load, load_keys_where},
    key_use{"test", "user", load, load_keys_where},
    key_use{"test", "pass", load_other_server,
            "to load with ip (the server in this process takes the user name as the "
            "password); remove it"},
    key_use{"test", "clients", load, load_keys_where},
    key_use{"test", "sessions", load, load_keys_where},
    key_use{"test", "duration", load, load_keys_where},
    key_use{"test", "mode", load, load_keys_where},
    key_use{"test", "serverpid", load, load_keys_where},
    key_use{"test", "tls", load, load_keys_where},
    key_use{"test", "starttls", load, load_keys_where},
    key_use{"test", "starttls", load_without_implicit_tls,
            "only without tls true (implicit TLS needs no STLS); remove one of them",
            "with tls true"},
    key_use{"test", "tls.fingerprint", load_other_server,
            "to load with ip (the server in this process is checked by its own certificate)"},
    key_use{"test", "tls.verify", load, load_keys_where},
    key_use{"test", any_store_key,
            [](const invocation& i) { return !load_other_server(i); },
            "to testtype mimestore, fullclientserver, and load without ip (the store of the "
            "server in this process)"},
};

constexpr std::array server_and_store_uses{
    key_use{"serverpop3", "tls.timeout",
            [](const invocation& i) {
                return given(i, "tls.cert") || has(i, "trustedproxies") ||
                       (has(i, "tlsport") && i.options["tlsport"].as<port_or_zero>().value != 0);
            },
            "to TLS handshakes and PROXY headers: with tlsport, tls.cert or trustedproxies",
            "without TLS (tlsport 0, no tls.cert) and without trustedproxies"},
    key_use{{}, "mimestore.commitmode",
            [](const invocation& i) {
                return i.method == "serverpop3" || test_server_in_process(i);
            },
            "to maildrops served over POP3, where QUIT removes or archives what was deleted: "
            "serverpop3, test fullclientserver, test load without ip"},
    key_use{{}, "mimestore.maxitemsize",
            [](const invocation& i) { return i.method == "clientpop3" && retr(i); },
            "to adding messages: clientpop3 cmd retr"},
};
// clang-format on

// "with cmd list", "in testtype load with ip", "in method querystore".
std::string context_of(const invocation& inv) {
    if (inv.method == "clientpop3")
        return fmt::format("with cmd {}", choice_of<cmd_names>(inv, "cmd"));
    if (inv.method == "test") {
        const std::string type = choice_of<testtype_names>(inv, "testtype");
        if (type != "load") return fmt::format("in testtype {}", type);
        return fmt::format("in testtype load {}", has(inv, "ip") ? "with ip" : "without ip");
    }
    return fmt::format("in method {}", inv.method);
}

std::optional<std::string> check_uses(const invocation& inv, std::span<const key_use> uses) {
    for (const key_use& u : uses) {
        if (!u.method.empty() && u.method != inv.method) continue;
        const std::string key = u.key == any_store_key ? given_store_key(inv) : std::string(u.key);
        if (key.empty() || !given(inv, key) || u.applies(inv)) continue;
        return fmt::format("{} does nothing {}; it applies {}", key,
                           u.idle_when.empty() ? context_of(inv) : std::string(u.idle_when),
                           u.where);
    }
    return std::nullopt;
}

// Values that would lose mail, or keys that cancel each other.
std::optional<std::string> client_combination(const invocation& inv) {
    if (inv.method != "clientpop3") return std::nullopt;
    const std::string cmd = choice_of<cmd_names>(inv, "cmd");
    const bool only_new = inv.options["query"].as<std::string>() == "new";
    if (only_new && cmd == "dele")
        return "query new with cmd dele would delete every message not backed up yet; to back "
               "up and then delete, use cmd retr query new delete true; to delete named "
               "messages, use query N-M or query.id";
    if (only_new && !cmd.empty() && cmd != "retr")
        return fmt::format(
            "query new (the messages the store does not hold yet) applies to "
            "cmd retr only; with cmd {} name the messages with query N-M or "
            "query.id",
            cmd);
    if (given(inv, "query") && given(inv, "query.id"))
        return "query and query.id both name messages; give one of them";
    if (cmd == "retr" && flag_of(inv, "delete") && inv.store.modhandler == "fake")
        return "delete true with mimestore.modhandler fake would delete mail kept nowhere (the "
               "fake store lives in memory and is gone at exit); name a store that keeps it: "
               "mimestore.modhandler localfs, maildir or postgres";
    return std::nullopt;
}

std::optional<std::string> store_change(const invocation& inv) {
    if (inv.method != "querystore" || inv.store.modhandler != "fake") return std::nullopt;
    for (const char* key : {"mark", "unmark"})
        if (has(inv, key))
            return fmt::format(
                "{} with mimestore.modhandler fake changes nothing that lasts "
                "(the fake store lives in memory and is gone at exit); name "
                "the store to change: mimestore.modhandler localfs, maildir "
                "or postgres",
                key);
    return std::nullopt;
}

}  // namespace

std::optional<std::string> idle_key(const invocation& inv) {
    if (auto why = client_combination(inv)) return why;
    if (auto why = store_change(inv)) return why;
    if (auto why = check_uses(inv, client_uses)) return why;
    if (auto why = check_uses(inv, test_uses)) return why;
    return check_uses(inv, server_and_store_uses);
}

}  // namespace izypop3::app
