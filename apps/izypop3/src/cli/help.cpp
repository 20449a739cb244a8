#include "cli/help.hpp"

#include "cli/version.hpp"

#include <izypop3/store/store_factory.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <ostream>

namespace izypop3::app {

namespace po = boost::program_options;

namespace {

constexpr std::string_view key_styles_text =
    "Keys and values alternate ('key value'); '--key value' and '--key=value' work too.";
constexpr std::string_view key_styles_markdown =
    "Keys and values alternate (`key value`); `--key value` and `--key=value` work too.";

/// Text for a Markdown table cell: a pipe would end the cell, '<' could open an HTML tag,
/// '*' and '`' could start emphasis or code.
std::string markdown_text(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '|' || c == '<' || c == '>' || c == '*' || c == '`') out += '\\';
        out += c;
    }
    return out;
}

/// A code span in a table cell: only the pipe needs escaping (GFM tables, section 4.10).
std::string markdown_code(std::string_view text) {
    std::string out = "`";
    for (char c : text) {
        if (c == '|') out += '\\';
        out += c;
    }
    out += '`';
    return out;
}

/// The store keys of every backend, as rows whose key carries the mimestore. prefix.
struct store_group {
    std::string modhandler;
    bool built = false;
    std::vector<option_row> rows;
    std::string aliases;  ///< other names of the same store ("cloud" for postgres)
    const store::setting_info* table = nullptr;
};

std::vector<store_group> store_groups() {
    std::vector<store_group> groups;
    for (const std::string& name : store::known_modhandlers()) {
        const auto settings = store::settings_of(name);
        // An alias shares its store's settings table: list its keys once, under both names.
        auto same = std::find_if(groups.begin(), groups.end(), [&](const store_group& g) {
            return !settings.empty() && g.table == settings.data();
        });
        if (same != groups.end()) {
            same->aliases += (same->aliases.empty() ? "" : ", ") + name;
            continue;
        }
        store_group g{name, store::is_built(name), {}, {}, settings.data()};
        for (const store::setting_info& s : store::settings_of(name)) {
            g.rows.push_back({"mimestore." + s.name, "", s.default_value, s.description});
        }
        groups.push_back(std::move(g));
    }
    return groups;
}

/// mimestore.modhandler and the settings every store has (mimestore.verbose).
std::vector<option_row> store_rows() {
    std::vector<option_row> rows = rows_of(store_options());
    for (const store::setting_info& s : store::common_settings()) {
        rows.push_back({"mimestore." + s.name, "BOOL", s.default_value, s.description});
    }
    return rows;
}

/// "fake; not built yet: localfs, maildir".
std::string modhandler_list() {
    std::string built;
    std::string later;
    for (const store_group& g : store_groups()) {
        std::string& list = g.built ? built : later;
        if (!list.empty()) list += ", ";
        list += g.modhandler;
        if (!g.aliases.empty()) list += ", " + g.aliases;
    }
    return later.empty() ? built : fmt::format("{}; not built yet: {}", built, later);
}

void write_rows_text(std::ostream& out, const std::vector<option_row>& rows) {
    for (const option_row& r : rows) {
        std::string head = fmt::format("  {}", r.key);
        if (!r.value.empty()) head += fmt::format(" {}", r.value);
        if (r.default_text) {
            head += r.default_text->empty() ? std::string("  (default: empty)")
                                            : fmt::format("  (default: {})", *r.default_text);
        }
        out << head << "\n      " << r.help << '\n';
    }
}

void write_rows_markdown(std::ostream& out, const std::vector<option_row>& rows) {
    out << "| key | value | default | meaning |\n| --- | --- | --- | --- |\n";
    for (const option_row& r : rows) {
        const std::string value = r.value.empty() ? std::string() : markdown_code(r.value);
        std::string default_cell = "none";
        if (r.default_text) {
            default_cell =
                r.default_text->empty() ? std::string("empty") : markdown_code(*r.default_text);
        }
        out << "| " << markdown_code(r.key) << " | " << value << " | " << default_cell << " | "
            << markdown_text(r.help) << " |\n";
    }
}

}  // namespace

std::vector<option_row> rows_of(const po::options_description& d) {
    std::vector<option_row> rows;
    for (const auto& option : d.options()) {
        option_row r;
        r.key = option->long_name();
        r.help = option->description();
        // Program_options renders a value as "NAME" or "NAME (=DEFAULT)"; our value names
        // never contain " (=", so the first occurrence starts the default.
        const std::string name = option->semantic()->name();
        const std::size_t open = name.find(" (=");
        if (open == std::string::npos) {
            r.value = name;
        } else {
            r.value = name.substr(0, open);
            r.default_text = name.substr(open + 3, name.size() - open - 4);
        }
        // A default given as "" has no text at all; the help shows it as empty.
        boost::any any_default;
        if (!r.default_text && option->semantic()->apply_default(any_default)) {
            r.default_text = std::string{};
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

void write_usage(std::ostream& out) {
    out << "izypop3 " << version << ": POP3 server, client and message-store toolkit\n\n"
        << "usage: izypop3 method NAME [key value]...\n"
        << "       izypop3 method NAME help\n"
        << "       izypop3 help [NAME | markdown]\n"
        << "       izypop3 --version\n\n"
        << key_styles_text << "\n\nmethods:\n";
    std::size_t width = 0;
    for (const method_entry& m : method_table()) width = std::max(width, m.name.size());
    for (const method_entry& m : method_table()) {
        out << fmt::format("  {:<{}}  {}\n", m.name, width, m.summary);
    }
    out << "\nexample: izypop3 method test testtype mimestore mimestore.modhandler fake "
           "query.limit 2 query.tags unread\n";
}

void write_method_help(std::ostream& out, const method_entry& m) {
    out << "izypop3 method " << m.name << ": " << m.summary << "\n\n"
        << "usage: izypop3 method " << m.name << " [key value]...\n"
        << key_styles_text << "\n\n";
    out << m.name << " keys:\n";
    write_rows_text(out, rows_of(m.options()));
    out << "\nlogging keys:\n";
    write_rows_text(out, rows_of(logging_options(m)));
    out << "\nmessage store keys:\n";
    write_rows_text(out, store_rows());
    out << "      stores: " << modhandler_list() << '\n';
    for (const store_group& g : store_groups()) {
        if (g.rows.empty()) continue;
        out << "\nkeys of mimestore.modhandler " << g.modhandler;
        if (!g.aliases.empty()) out << " (also named " << g.aliases << ")";
        out << ":\n";
        write_rows_text(out, g.rows);
    }
}

namespace {

void write_markdown_intro(std::ostream& out) {
    out << "# izypop3 command line reference\n\n"
        << "<!-- Generated by `izypop3 help markdown`; do not edit by hand. -->\n\n"
        << "```\nizypop3 method NAME [key value]...\nizypop3 method NAME help\n"
        << "izypop3 help [NAME | markdown]\nizypop3 --version\n```\n\n"
        << key_styles_markdown
        << " A dotted key such as `mimestore.modhandler` or `verbose.clientLog` is one "
           "key. Each key may be given once, except `query.tags`. Booleans accept "
           "`true`/`false`, `yes`/`no`, `on`/`off` and `1`/`0`.\n\n"
        << "An unknown key, a key without a value, a repeated key or a malformed value is "
           "reported on one line of stderr, naming the key.\n\n"
        << "## Exit codes\n\n"
        << "| code | meaning |\n| --- | --- |\n"
        << "| 0 | success, or help was asked for |\n"
        << "| 1 | the method ran and failed (for example, the store could not be opened) |\n"
        << "| 2 | the command line is wrong: unknown method or key, missing or malformed value; "
           "for clientpop3 also a passeval command that fails or prints no password |\n"
        << "| 3 | the method, test type or store is not built yet; for clientpop3: connection "
           "or TLS failure, or a login refused before any password went out because it would "
           "have gone in clear (see allowplaintext) |\n"
        << "| 4 | clientpop3: the server refused the login |\n"
        << "| 5 | clientpop3: the server refused the login for now ([IN-USE], [LOGIN-DELAY], "
           "[SYS/TEMP]); run again later |\n\n";
}

void write_markdown_methods(std::ostream& out) {
    out << "## Methods\n\n| method | what it does |\n| --- | --- |\n";
    for (const method_entry& m : method_table()) {
        out << "| " << markdown_code(m.name) << " | " << markdown_text(m.summary) << " |\n";
    }
    for (const method_entry& m : method_table()) {
        std::string summary(m.summary);
        if (!summary.empty() && summary[0] >= 'a' && summary[0] <= 'z')
            summary[0] = static_cast<char>(summary[0] - 'a' + 'A');
        out << "\n## `method " << m.name << "`\n\n" << markdown_text(summary) << ".\n\n";
        write_rows_markdown(out, rows_of(m.options()));
        out << "\nLogging keys of " << markdown_code(m.name) << ":\n\n";
        write_rows_markdown(out, rows_of(logging_options(m)));
        out << "\nThe message store keys below apply as well.\n";
    }
}

void write_markdown_store_keys(std::ostream& out) {
    out << "\n## Message store keys (every method)\n\n"
        << "`mimestore.modhandler` names the store: " << modhandler_list()
        << ". Each store has its own `mimestore.*` keys; a key the chosen store does not "
           "have is an error.\n\n";
    write_rows_markdown(out, store_rows());
    for (const store_group& g : store_groups()) {
        out << "\n### `mimestore.modhandler " << g.modhandler << "`\n\n";
        if (!g.aliases.empty()) out << "Also named `" << g.aliases << "`.\n\n";
        if (!g.built) {
            out << "Not built yet.\n";
        } else if (g.rows.empty()) {
            out << "No settings of its own.\n";
        } else {
            write_rows_markdown(out, g.rows);
        }
    }
}

}  // namespace

void write_markdown(std::ostream& out) {
    write_markdown_intro(out);
    write_markdown_methods(out);
    write_markdown_store_keys(out);
}

}  // namespace izypop3::app
