#include <izypop3/store/errc.hpp>
#include <izypop3/store/postgres_store.hpp>

#include "postgres_schema.hpp"
#include "postgres_state.hpp"

#include <fmt/format.h>

#include <libpq-fe.h>

#include <algorithm>
#include <array>

namespace izypop3::store {
namespace {

const std::array<setting_info, 7>& settings_table() {
    static const std::array<setting_info, 7> table{{
        {"dataservice", "",
         "PostgreSQL connection URI, e.g. postgresql://user@db.example.org/mail?sslmode="
         "verify-full; empty = libpq defaults and PG* variables"},
        {"accesstoken", "",
         "password of the database user; empty = PGPASSWORD, ~/.pgpass or none"},
        {"tablename", "public.izypop3_messages",
         "schema.table holding the messages (letters, digits, _), created if absent"},
        {"mailbox", "",
         "serve and fill this one mailbox for every user; empty = the mailbox named after "
         "the user"},
        {"poolsize", "4",
         fmt::format("database connections shared by store calls (1 to {}); each POP3 "
                     "session holds one more",
                     postgres_store_options::max_poolsize)},
        {"commitmode", "remove",
         "what QUIT does with messages deleted in a POP3 session (serverpop3, test "
         "fullclientserver, test load without ip): remove | archive"},
        {"maxitemsize", "268435456",
         fmt::format("largest message in octets that clientpop3 cmd retr may store (1 to {})",
                     postgres_store_options::max_item_limit)},
    }};
    return table;
}

bool is_identifier(std::string_view s) {
    auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return !s.empty() && s.size() <= 63 && alpha(s.front()) &&
           std::all_of(s.begin(), s.end(), [&](char c) { return alpha(c) || digit(c); });
}

// A value for an error message: the first 60 octets, control characters shown as '?'.
std::string shown(std::string_view v) {
    std::string out;
    for (char c : v.substr(0, 60)) {
        auto u = static_cast<unsigned char>(c);
        out += u < 0x20 || u == 0x7f ? '?' : c;
    }
    if (v.size() > 60) out += "...";
    return out;
}

boost::system::error_code check_dataservice(const std::string& text, std::string& why) {
    if (text.empty()) return {};
    char* err = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(text.c_str(), &err);
    if (parsed != nullptr) {
        PQconninfoFree(parsed);
        return {};
    }
    std::string detail = err != nullptr ? err : "out of memory";
    if (err != nullptr) PQfreemem(err);
    while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
    why = fmt::format(
        "mimestore.dataservice is not a PostgreSQL connection URI or key=value string ({}); "
        "write it like postgresql://user@host:5432/database?sslmode=require",
        detail);
    return errc::bad_setting_value;
}

}  // namespace

boost::system::error_code parse_table_name(std::string_view text, std::string& schema,
                                           std::string& table, std::string& why) {
    auto dot = text.find('.');
    std::string_view s = dot == std::string_view::npos ? std::string_view("public")
                                                       : text.substr(0, dot);
    std::string_view t = dot == std::string_view::npos ? text : text.substr(dot + 1);
    if (!is_identifier(s) || !is_identifier(t)) {
        why = fmt::format(
            "mimestore.tablename must be schema.table or table, each part 1 to 63 letters, "
            "digits or _ and not starting with a digit, not '{}'",
            shown(text));
        return errc::bad_setting_value;
    }
    if (t == detail::pg_migrations_table) {
        why = fmt::format("mimestore.tablename may not be {}: izypop3 keeps its schema "
                          "versions in that table",
                          detail::pg_migrations_table);
        return errc::bad_setting_value;
    }
    schema = s;
    table = t;
    return {};
}

std::span<const setting_info> postgres_settings() noexcept { return settings_table(); }

boost::system::result<postgres_store_options> postgres_options(const store_config& cfg,
                                                               std::string& why) {
    postgres_store_options o;
    o.dataservice = setting_text(cfg, "dataservice", "");
    if (auto ec = check_dataservice(o.dataservice, why)) return ec;
    o.accesstoken = setting_text(cfg, "accesstoken", "");
    if (auto ec = parse_table_name(setting_text(cfg, "tablename", "public.izypop3_messages"),
                                   o.schema, o.table, why))
        return ec;
    o.mailbox = setting_text(cfg, "mailbox", "");
    if (!detail::is_storable_text(o.mailbox, postgres_store_options::max_name_octets)) {
        why = fmt::format("mimestore.mailbox must be UTF-8 text of at most {} octets",
                          postgres_store_options::max_name_octets);
        return errc::bad_setting_value;
    }
    auto pool = setting_uint(cfg, "poolsize", o.poolsize, 1, postgres_store_options::max_poolsize,
                             why);
    if (!pool) return pool.error();
    o.poolsize = static_cast<std::size_t>(*pool);
    auto mode = setting_text(cfg, "commitmode", "remove");
    if (mode == "remove") {
        o.commitmode = commit_mode::remove;
    } else if (mode == "archive") {
        o.commitmode = commit_mode::archive;
    } else {
        why = fmt::format("mimestore.commitmode must be remove or archive, not '{}'", shown(mode));
        return errc::bad_setting_value;
    }
    auto max = setting_uint(cfg, "maxitemsize", o.maxitemsize, 1,
                            postgres_store_options::max_item_limit, why);
    if (!max) return max.error();
    o.maxitemsize = *max;
    return o;
}

boost::system::error_code validate_postgres_settings(const store_config& cfg,
                                                     std::string& error_text) {
    auto o = postgres_options(cfg, error_text);
    return o ? boost::system::error_code() : o.error();
}

boost::system::result<std::unique_ptr<mime_store>> make_postgres_store(const store_config& cfg,
                                                                       std::string& error_text) {
    auto o = postgres_options(cfg, error_text);
    if (!o) return o.error();
    auto s = postgres_store::open(*o, error_text);
    if (!s) return s.error();
    return std::unique_ptr<mime_store>(std::move(*s));
}

}  // namespace izypop3::store
