#include "cli/cli.hpp"

#include "common/exit_codes.hpp"
#include "cli/help.hpp"
#include "cli/key_scope.hpp"
#include "cli/option_types.hpp"
#include "cli/suggest.hpp"
#include "cli/version.hpp"

#include <izypop3/store/store_factory.hpp>
#include <izypop3/transport/logger.hpp>

#include <boost/program_options/parsers.hpp>
#include <boost/program_options/variables_map.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <ostream>

namespace izypop3::app {

namespace po = boost::program_options;

namespace {

struct key_value {
    std::string key;
    std::string value;
};

bool is_help_word(std::string_view token) noexcept {
    return token == "help" || token == "--help" || token == "-h";
}

/// User text quoted for an error line: control characters escaped, at most 80 octets.
std::string quoted(std::string_view text) {
    // Appended piece by piece: g++ 12 reports a false -Wrestrict for "'" + string + "'".
    std::string out(1, '\'');
    out += transport::sanitize_for_log(text, 80);
    out += '\'';
    return out;
}

std::string help_hint(const method_entry& m) {
    return fmt::format("run 'izypop3 method {} help' for the list", m.name);
}

[[noreturn]] void fail(const method_entry& m, const std::string& text,
                       int code = exit_code::usage) {
    throw cli_error(fmt::format("{}: {}", m.name, text), code);
}

std::string did_you_mean(std::string_view typed, const std::vector<std::string>& candidates) {
    const std::vector<std::string_view> views(candidates.begin(), candidates.end());
    if (auto near = suggest(typed, views)) return fmt::format(" (did you mean '{}'?)", *near);
    return {};
}

std::vector<std::string> store_keys_of(std::string_view modhandler) {
    std::vector<std::string> keys;
    for (const auto table : {store::settings_of(modhandler), store::common_settings()}) {
        for (const store::setting_info& s : table) {
            keys.push_back(std::string(store::store_config::key_prefix) + s.name);
        }
    }
    return keys;
}

/// The hint for a trailing key: in "verbose.clientLog cmd list" (the original README's own
/// example) the real mistake is the value missing after verbose.clientLog.
std::string lost_value_hint(const std::vector<key_value>& pairs,
                            const std::vector<std::string>& keys) {
    for (const key_value& kv : pairs) {
        if (std::find(keys.begin(), keys.end(), kv.value) != keys.end()) {
            return fmt::format(" ('{}' took the key '{}' as its value: is the value of '{}' "
                               "missing?)",
                               transport::sanitize_for_log(kv.key, 80), kv.value,
                               transport::sanitize_for_log(kv.key, 80));
        }
    }
    return {};
}

/// Splits the tokens into key/value pairs; nullopt when one asks for help. `keys` are the
/// method's keys, for hints.
// `--key value` or `--key=value` at tokens[i]; `used` gets the number of tokens it took.
key_value gnu_pair(const method_entry& m, std::span<const std::string> tokens, std::size_t i,
                   std::size_t& used) {
    key_value kv;
    const std::string_view body = std::string_view(tokens[i]).substr(2);
    if (const std::size_t eq = body.find('='); eq != std::string_view::npos) {
        kv.key = body.substr(0, eq);
        kv.value = body.substr(eq + 1);
        used = 1;
        return kv;
    }
    kv.key = body;
    if (i + 1 >= tokens.size()) {
        fail(m, fmt::format("key {} has no value; write '--{} VALUE' or '--{}=VALUE'",
                            quoted(kv.key), kv.key, kv.key));
    }
    // "--tls --port 995": the user forgot a value; "--pass=--x" is the way to give a value
    // that starts with "--".
    if (tokens[i + 1].starts_with("--")) {
        fail(m, fmt::format("key {} has no value (the next token, {}, is a key); "
                            "write '--{} VALUE' or '--{}=VALUE'",
                            quoted(kv.key), quoted(tokens[i + 1]), kv.key, kv.key));
    }
    kv.value = tokens[i + 1];
    used = 2;
    return kv;
}

std::optional<std::vector<key_value>> pair_up(const method_entry& m,
                                              std::span<const std::string> tokens,
                                              const std::vector<std::string>& keys) {
    std::vector<key_value> pairs;
    for (std::size_t i = 0; i < tokens.size();) {
        const std::string& token = tokens[i];
        if (is_help_word(token)) return std::nullopt;
        key_value kv;
        std::size_t used = 2;
        if (token.starts_with("--")) {
            kv = gnu_pair(m, tokens, i, used);
        } else {
            kv.key = token;
            if (i + 1 >= tokens.size()) {
                fail(m, fmt::format("key {} has no value; keys and values come in pairs, "
                                    "write '{} VALUE'{}",
                                    quoted(kv.key), transport::sanitize_for_log(kv.key, 80),
                                    lost_value_hint(pairs, keys)));
            }
            kv.value = tokens[i + 1];
        }
        i += used;
        if (kv.key.empty()) {
            fail(m, fmt::format("empty key name before value {}; {}", quoted(kv.value),
                                help_hint(m)));
        }
        pairs.push_back(std::move(kv));
    }
    return pairs;
}

/// The pairs as Program_options input. Built directly rather than through
/// command_line_parser: that parser refuses an empty "--key=" and values that look like
/// known keys, while here a value is whatever token follows its key.
po::parsed_options to_parsed(const std::vector<key_value>& pairs,
                             const po::options_description& desc) {
    po::parsed_options parsed(&desc);
    for (const key_value& kv : pairs) {
        po::option opt(kv.key, {kv.value});
        opt.original_tokens = {kv.key, kv.value};
        parsed.options.push_back(std::move(opt));
    }
    return parsed;
}

/// Validates one value with the table of its key, so an error can name the key.
void check_value(const method_entry& m, const po::options_description& desc,
                 const key_value& kv) {
    try {
        po::variables_map one;
        po::store(to_parsed({kv}, desc), one);
    } catch (const bad_value& e) {
        fail(m, fmt::format("key {} wants {}; {}", quoted(kv.key), e.what(), help_hint(m)));
    } catch (const po::error& e) {
        fail(m, fmt::format("key {} has a bad value {} ({}); {}", quoted(kv.key),
                            quoted(kv.value), e.what(), help_hint(m)));
    }
}

void check_store(const method_entry& m, const store::store_config& cfg,
                 const std::vector<key_value>& store_pairs) {
    const std::vector<std::string> known = store::known_modhandlers();
    if (std::find(known.begin(), known.end(), cfg.modhandler) == known.end()) {
        std::string list;
        for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
        fail(m, fmt::format("key 'mimestore.modhandler' names no known store: {}{}; use one "
                            "of {}",
                            quoted(cfg.modhandler), did_you_mean(cfg.modhandler, known), list));
    }
    if (!store::is_built(cfg.modhandler)) {
        fail(m,
             fmt::format("mimestore.modhandler {} is not built yet; see docs/cli.md",
                         cfg.modhandler),
             exit_code::not_built);
    }
    const std::vector<std::string> keys = store_keys_of(cfg.modhandler);
    for (const key_value& kv : store_pairs) {
        if (std::find(keys.begin(), keys.end(), kv.key) == keys.end()) {
            fail(m, fmt::format("unknown key {} for mimestore.modhandler {}{}; {}",
                                quoted(kv.key), cfg.modhandler, did_you_mean(kv.key, keys),
                                help_hint(m)));
        }
    }
    std::string why;
    if (const auto ec = store::validate(cfg, why)) {
        fail(m, fmt::format("{}; {}", why.empty() ? ec.message() : why, help_hint(m)));
    }
}

void write_unknown_method(std::ostream& err, std::string_view name) {
    std::vector<std::string> names;
    for (const method_entry& m : method_table()) names.emplace_back(m.name);
    err << "izypop3: unknown method " << quoted(name) << did_you_mean(name, names)
        << "; the methods are listed below\n\n";
    write_usage(err);
}

// `izypop3 help [NAME | markdown]`.
int run_help(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
    if (args.size() == 1) {
        write_usage(out);
        return exit_code::ok;
    }
    if (args.size() > 2) {
        err << "izypop3: help takes one topic; write 'izypop3 help', 'izypop3 help "
               "markdown' or 'izypop3 help NAME'\n";
        return exit_code::usage;
    }
    if (args[1] == "markdown") {
        write_markdown(out);
        return exit_code::ok;
    }
    if (const method_entry* m = find_method(args[1]); m != nullptr) {
        write_method_help(out, *m);
        return exit_code::ok;
    }
    std::vector<std::string> topics{"markdown"};
    for (const method_entry& m : method_table()) topics.emplace_back(m.name);
    err << "izypop3: help: unknown topic " << quoted(args[1]) << did_you_mean(args[1], topics)
        << "; write 'izypop3 help', 'izypop3 help markdown' or 'izypop3 help NAME'\n";
    return exit_code::usage;
}

// A first word that is neither help, version nor method.
int refuse_command(const std::string& first, std::ostream& err) {
    if (find_method(first) != nullptr) {
        err << "izypop3: the method name follows the word 'method': write 'izypop3 method " << first
            << " ...'\n";
    } else {
        err << "izypop3: unknown command " << quoted(first)
            << did_you_mean(first, {"method", "help", "--version"})
            << "; run 'izypop3 help' for usage\n";
    }
    return exit_code::usage;
}

// `izypop3 method NAME key value ...`.
int run_method(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
    if (args.size() < 2) {
        err << "izypop3: missing method name after 'method'; the methods are listed below\n\n";
        write_usage(err);
        return exit_code::usage;
    }
    const method_entry* m = find_method(args[1]);
    if (m == nullptr) {
        write_unknown_method(err, args[1]);
        return exit_code::usage;
    }
    std::optional<invocation> inv = parse_method_args(*m, args.subspan(2));
    if (!inv) {
        write_method_help(out, *m);
        return exit_code::ok;
    }
    if (const auto why = idle_key(*inv)) {
        err << "izypop3: " << m->name << ": " << *why << '\n';
        return exit_code::usage;
    }
    return m->run(*inv, out, err);
}

int dispatch(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
    if (args.empty()) {
        write_usage(err);
        return exit_code::usage;
    }
    const std::string& first = args[0];
    if (is_help_word(first)) return run_help(args, out, err);
    if (first == "--version" || first == "version") {
        out << "izypop3 " << version << '\n';
        return exit_code::ok;
    }
    if (first != "method") return refuse_command(first, err);
    return run_method(args, out, err);
}

// The store is named before its keys are checked, wherever mimestore.modhandler sits.
std::string modhandler_of(const std::vector<key_value>& pairs) {
    for (const key_value& kv : pairs) {
        if (kv.key == "mimestore.modhandler") return kv.value;
    }
    return "fake";
}

// A key that is neither in the method's tables nor a mimestore.* key: say what was meant.
[[noreturn]] void fail_unknown_key(const method_entry& m, const po::options_description& desc,
                                   const key_value& kv,
                                   const std::vector<std::string>& candidates) {
    // "port=110" written without the leading "--".
    if (const std::size_t eq = kv.key.find('=');
        eq != std::string::npos && desc.find_nothrow(kv.key.substr(0, eq), false) != nullptr) {
        const std::string key = kv.key.substr(0, eq);
        fail(m, fmt::format("unknown key {}; write '{} {}' or '--{}'", quoted(kv.key), key,
                            transport::sanitize_for_log(kv.key.substr(eq + 1), 80),
                            transport::sanitize_for_log(kv.key, 80)));
    }
    // A key of another method: say whose it is, so "verbose.serverLog" given to clientpop3
    // reads as "not here" rather than "misspelt".
    if (const std::string owners = methods_with_key(m, kv.key); !owners.empty()) {
        fail(m, fmt::format("key {} belongs to {}, not to {}{}; {}", quoted(kv.key), owners, m.name,
                            did_you_mean(kv.key, candidates), help_hint(m)));
    }
    fail(m, fmt::format("unknown key {}{}; {}", quoted(kv.key), did_you_mean(kv.key, candidates),
                        help_hint(m)));
}

// The pairs split into the method's options and the store's keys, each checked: known,
// given once (unless the key composes), a valid value.
struct sorted_pairs {
    std::vector<key_value> options;
    std::vector<key_value> store;
};
sorted_pairs sort_pairs(const method_entry& m, const po::options_description& desc,
                        const std::vector<key_value>& pairs,
                        const std::vector<std::string>& candidates) {
    std::map<std::string, std::string, std::less<>> seen;
    sorted_pairs out;
    for (const key_value& kv : pairs) {
        const po::option_description* d = desc.find_nothrow(kv.key, false);
        const bool store_key =
            d == nullptr && kv.key.starts_with(store::store_config::key_prefix);
        if (d == nullptr && !store_key) fail_unknown_key(m, desc, kv, candidates);
        if (auto [it, inserted] = seen.emplace(kv.key, kv.value);
            !inserted && !(d != nullptr && d->semantic()->is_composing())) {
            fail(m, fmt::format("key {} is given twice ({} and {}); give it once",
                                quoted(kv.key), quoted(it->second), quoted(kv.value)));
        }
        if (store_key) {
            out.store.push_back(kv);
            continue;
        }
        check_value(m, desc, kv);
        out.options.push_back(kv);
    }
    return out;
}

}  // namespace

std::optional<invocation> parse_method_args(const method_entry& m,
                                            std::span<const std::string> tokens) {
    const po::options_description desc = all_options(m);
    std::vector<std::string> candidates;
    for (const auto& option : desc.options()) candidates.push_back(option->long_name());

    std::optional<std::vector<key_value>> pairs = pair_up(m, tokens, candidates);
    if (!pairs) return std::nullopt;
    for (std::string& k : store_keys_of(modhandler_of(*pairs))) candidates.push_back(std::move(k));
    const sorted_pairs sorted = sort_pairs(m, desc, *pairs, candidates);

    invocation inv;
    inv.method = m.name;
    try {
        po::store(to_parsed(sorted.options, desc), inv.options);
        po::notify(inv.options);
    } catch (const std::exception& e) {
        // Every value was checked on its own above; this is a table mistake.
        fail(m, fmt::format("internal error in the option table: {}", e.what()),
             exit_code::failure);
    }
    inv.store.modhandler = inv.options["mimestore.modhandler"].as<std::string>();
    for (const key_value& kv : sorted.store) store::apply_key(inv.store, kv.key, kv.value);
    check_store(m, inv.store, sorted.store);
    return inv;
}

int run_cli(std::span<const std::string> args, std::ostream& out, std::ostream& err) {
    try {
        return dispatch(args, out, err);
    } catch (const cli_error& e) {
        err << "izypop3: " << e.what() << '\n';
        return e.exit_code();
    } catch (const std::exception& e) {
        err << "izypop3: internal error: " << e.what() << '\n';
        return exit_code::failure;
    }
}

}  // namespace izypop3::app
