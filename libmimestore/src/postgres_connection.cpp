#include "postgres_connection.hpp"

#include <fmt/format.h>

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace izypop3::store::detail {
namespace {

// Server errors that are not "try again later"; everything else (lost connections,
// shutdowns, resource shortages, serialization failures) is io_error, which the POP3
// server reports as [SYS/TEMP]. SQLSTATE codes: PostgreSQL manual, appendix A.
struct sqlstate_mapping {
    std::string_view sqlstate;
    errc code;
};
constexpr std::array<sqlstate_mapping, 6> sqlstate_table{{
    {"53100", errc::disk_full},     // disk_full
    {"25006", errc::read_only},     // read_only_sql_transaction (a hot standby)
    {"42501", errc::read_only},     // insufficient_privilege
    {"22021", errc::invalid_item},  // character_not_in_repertoire (bad UTF-8)
    {"22P05", errc::invalid_item},  // untranslatable_character (database encoding)
    {"54000", errc::invalid_item},  // program_limit_exceeded (e.g. an index row too large)
}};

errc map_sqlstate(std::string_view state) {
    for (const auto& m : sqlstate_table)
        if (m.sqlstate == state) return m.code;
    return errc::io_error;
}

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running
// ...?\n"); a report wants one line.
std::string one_line(const char* text) {
    std::string out;
    std::string_view rest = text == nullptr ? std::string_view() : std::string_view(text);
    while (!rest.empty()) {
        auto eol = rest.find('\n');
        auto line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
            line.remove_prefix(1);
        while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
            line.remove_suffix(1);
        if (line.empty()) continue;
        if (!out.empty()) out += "; ";
        out += line;
    }
    return out;
}

std::string describe(PGconn* c) {
    auto text = [](const char* s) {
        return s == nullptr || *s == '\0' ? std::string("?") : std::string(s);
    };
    return fmt::format("database {} as user {} on {} port {}", text(PQdb(c)), text(PQuser(c)),
                       text(PQhost(c)), text(PQport(c)));
}

}  // namespace

pg_params& pg_params::owned(std::string v) {
    owned_.push_back(std::move(v));
    const std::string& s = owned_.back();
    values_.push_back(s.c_str());
    lengths_.push_back(static_cast<int>(s.size()));
    formats_.push_back(0);
    return *this;
}

pg_params& pg_params::text(std::string_view v) {
    return owned(std::string(v));
}

pg_params& pg_params::number(std::int64_t v) {
    return owned(std::to_string(v));
}

pg_params& pg_params::optional_number(std::optional<std::int64_t> v) {
    if (v) return number(*v);
    values_.push_back(nullptr);
    lengths_.push_back(0);
    formats_.push_back(0);
    return *this;
}

pg_params& pg_params::text_array(std::span<const std::string> v) {
    // Every element quoted, so that no content (commas, braces, "NULL", spaces) is special;
    // inside quotes only the backslash and the double quote need escaping.
    std::string lit = "{";
    for (const auto& e : v) {
        if (lit.size() > 1) lit += ',';
        lit += '"';
        for (char c : e) {
            if (c == '"' || c == '\\') lit += '\\';
            lit += c;
        }
        lit += '"';
    }
    lit += '}';
    return owned(std::move(lit));
}

pg_params& pg_params::number_array(std::span<const std::int64_t> v) {
    std::string lit = "{";
    for (auto n : v) {
        if (lit.size() > 1) lit += ',';
        lit += std::to_string(n);
    }
    lit += '}';
    return owned(std::move(lit));
}

pg_params& pg_params::bytes(std::string_view v) {
    values_.push_back(v.data());
    lengths_.push_back(static_cast<int>(v.size()));
    formats_.push_back(1);
    return *this;
}

boost::system::result<std::unique_ptr<pg_connection>> pg_connection::open(
    const pg_connect_options& opts, std::string& error_text) {
    // Entries before "dbname" are defaults the connection string may override; those after
    // it override the string. Keepalives make a vanished server or network show up as an
    // error within about a minute instead of a session hanging for hours.
    const char* keys[] = {"connect_timeout",  "keepalives",
                          "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "fallback_application_name",
                          "dbname",           "password",
                          "client_encoding",  nullptr};
    const char* values[] = {"10",
                            "1",
                            "30",
                            "10",
                            "3",
                            "izypop3",
                            opts.conninfo.c_str(),
                            opts.password.empty() ? nullptr : opts.password.c_str(),
                            "UTF8",
                            nullptr};
    PGconn* raw = PQconnectdbParams(keys, values, 1);
    if (raw == nullptr) {
        error_text = "cannot connect to PostgreSQL: libpq is out of memory";
        return errc::io_error;
    }
    std::unique_ptr<pg_connection> conn(new pg_connection(raw));
    if (PQstatus(raw) != CONNECTION_OK) {
        auto msg = one_line(PQerrorMessage(raw));
        if (PQconnectionNeedsPassword(raw)) {
            error_text = fmt::format(
                "PostgreSQL ({}) asks for a password and none was given: set "
                "mimestore.accesstoken, PGPASSWORD or a ~/.pgpass entry",
                describe(raw));
            return errc::bad_config;
        }
        // It asked for our password, so it was reached: what follows is its verdict (a wrong
        // password, an unknown database or role), which retrying will not change.
        if (PQconnectionUsedPassword(raw)) {
            error_text = fmt::format(
                "PostgreSQL ({}) refused the connection: {}; check the user and database in "
                "mimestore.dataservice and the password in mimestore.accesstoken",
                describe(raw), msg);
            return errc::bad_config;
        }
        error_text = fmt::format(
            "cannot connect to PostgreSQL ({}): {}; check mimestore.dataservice and that the "
            "server is running and reachable",
            describe(raw), msg);
        return errc::io_error;
    }
    // A backup client deletes a message on the POP3 server once our COMMIT returns, so the
    // commit must be durable; "off" (asynchronous commit) would make that a lie. Any
    // stricter setting the administrator chose (remote_apply ...) is kept.
    auto r = conn->exec(
        "SELECT set_config('synchronous_commit', 'on', false) "
        "WHERE current_setting('synchronous_commit') = 'off'");
    if (!r) {
        error_text = fmt::format("PostgreSQL ({}) failed to set up the session: {}", describe(raw),
                                 conn->error_text());
        return r.error();
    }
    return conn;
}

pg_connection::~pg_connection() {
    PQfinish(conn_);
}

boost::system::error_code pg_connection::fail(const PGresult* r) {
    // The server's own words without the "ERROR:  " prefix, with its detail and hint.
    const char* primary = r != nullptr ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
    if (primary != nullptr) {
        error_text_ = one_line(primary);
        for (auto code : {PG_DIAG_MESSAGE_DETAIL, PG_DIAG_MESSAGE_HINT}) {
            const char* more = PQresultErrorField(r, code);
            if (more != nullptr && *more != '\0') error_text_.append("; ").append(one_line(more));
        }
    } else {
        error_text_ = one_line(PQerrorMessage(conn_));
    }
    if (error_text_.empty()) error_text_ = "PostgreSQL reported a failure without a message";
    if (PQstatus(conn_) != CONNECTION_OK || r == nullptr) return errc::io_error;
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return map_sqlstate(state == nullptr ? std::string_view() : std::string_view(state));
}

boost::system::result<pg_result> pg_connection::exec(const std::string& sql,
                                                     const pg_params& params, bool binary_result) {
    drain();
    error_text_.clear();
    pg_result r(PQexecParams(conn_, sql.c_str(), params.size(), nullptr, params.values(),
                             params.lengths(), params.formats(), binary_result ? 1 : 0));
    auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return r;
    return fail(r.get());
}

const std::string* pg_connection::prepared_name(const std::string& sql) {
    if (auto it = prepared_.find(sql); it != prepared_.end()) return &it->second;
    std::string name = "izypop3_" + std::to_string(prepared_.size() + 1);
    pg_result r(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        (void)fail(r.get());
        return nullptr;
    }
    return &prepared_.emplace(sql, std::move(name)).first->second;
}

boost::system::result<pg_result> pg_connection::exec_prepared(const std::string& sql,
                                                              const pg_params& params,
                                                              bool binary_result) {
    drain();
    error_text_.clear();
    const std::string* name = prepared_name(sql);
    if (name == nullptr) return fail(nullptr);
    pg_result r(PQexecPrepared(conn_, name->c_str(), params.size(), params.values(),
                               params.lengths(), params.formats(), binary_result ? 1 : 0));
    auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return r;
    return fail(r.get());
}

boost::system::error_code pg_connection::send_prepared(const std::string& sql,
                                                       const pg_params& params,
                                                       bool binary_result) {
    error_text_.clear();
    // Preparing waits for the server, which pipeline mode does not allow: a statement is
    // prepared when the pipeline is empty, and only such a one may join a running pipeline.
    const std::string* name = nullptr;
    if (in_flight_ == 0) {
        name = prepared_name(sql);
    } else if (auto it = prepared_.find(sql); it != prepared_.end()) {
        name = &it->second;
    }
    if (name == nullptr) return fail(nullptr);
    if (PQpipelineStatus(conn_) == PQ_PIPELINE_OFF && PQenterPipelineMode(conn_) == 0)
        return fail(nullptr);
    // Each statement has its own sync point: one that fails does not abort the next, and
    // the server sends each result as soon as it is ready.
    if (PQsendQueryPrepared(conn_, name->c_str(), params.size(), params.values(), params.lengths(),
                            params.formats(), binary_result ? 1 : 0) == 0 ||
        PQpipelineSync(conn_) == 0)
        return fail(nullptr);
    ++in_flight_;
    return {};
}

boost::system::result<pg_result> pg_connection::receive() {
    if (in_flight_ == 0) return errc::io_error;  // nothing was sent
    error_text_.clear();
    // The statement's result, the NULL that ends it, then its sync point.
    pg_result r(PQgetResult(conn_));
    if (r) PQclear(PQgetResult(conn_));
    if (PGresult* sync = PQgetResult(conn_)) PQclear(sync);
    if (--in_flight_ == 0) (void)PQexitPipelineMode(conn_);
    auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return r;
    return fail(r.get());
}

void pg_connection::drain() noexcept {
    while (in_flight_ > 0 && PQstatus(conn_) == CONNECTION_OK) (void)receive();
    in_flight_ = 0;
}

boost::system::error_code pg_connection::exec_script(const std::string& sql) {
    drain();
    error_text_.clear();
    pg_result r(PQexec(conn_, sql.c_str()));
    auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return {};
    return fail(r.get());
}

bool pg_connection::exec_bounded(const std::string& sql, const pg_params& params,
                                 std::chrono::milliseconds timeout) noexcept {
    // Results still owed would have to be received first, without a bound: give up, and
    // the caller closes the connection (which is what the bound is for).
    if (PQstatus(conn_) != CONNECTION_OK || in_flight_ > 0) return false;
    if (PQsendQueryParams(conn_, sql.c_str(), params.size(), nullptr, params.values(),
                          params.lengths(), params.formats(), 0) == 0)
        return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (PQconsumeInput(conn_) == 0) return false;
        if (PQisBusy(conn_) == 0) break;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{PQsocket(conn_), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return false;
    }
    bool ok = true;
    while (PGresult* r = PQgetResult(conn_)) {
        auto status = PQresultStatus(r);
        ok = ok && (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK);
        PQclear(r);
    }
    return ok;
}

void pg_connection::rollback_if_open() noexcept {
    auto t = PQtransactionStatus(conn_);
    if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR) PQclear(PQexec(conn_, "ROLLBACK"));
}

bool pg_connection::lost() const noexcept {
    return PQstatus(conn_) != CONNECTION_OK;
}

bool pg_connection::reusable() const noexcept {
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE &&
           in_flight_ == 0;
}

std::string pg_connection::quote_identifier(std::string_view name) {
    char* q = PQescapeIdentifier(conn_, name.data(), name.size());
    if (q == nullptr) return {};
    std::string out(q);
    PQfreemem(q);
    return out;
}

int pg_connection::server_version() const noexcept {
    return PQserverVersion(conn_);
}

std::int64_t binary_int8(const PGresult* r, int row, int col) noexcept {
    if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8) return 0;
    const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, col));
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
    return static_cast<std::int64_t>(v);
}

std::int64_t text_int(const PGresult* r, int row, int col) noexcept {
    if (PQgetisnull(r, row, col)) return 0;
    const char* s = PQgetvalue(r, row, col);
    std::int64_t v = 0;
    std::from_chars(s, s + std::strlen(s), v);
    return v;
}

std::string_view field(const PGresult* r, int row, int col) noexcept {
    return {PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col))};
}

std::uint64_t affected_rows(const PGresult* r) noexcept {
    const char* s = PQcmdTuples(const_cast<PGresult*>(r));
    std::uint64_t v = 0;
    std::from_chars(s, s + std::strlen(s), v);
    return v;
}

std::optional<std::vector<std::string>> parse_text_array(std::string_view text) {
    // Arrays whose lower bound is not 1 carry a "[m:n]=" prefix.
    if (!text.empty() && text.front() == '[') {
        auto eq = text.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        text.remove_prefix(eq + 1);
    }
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return std::nullopt;
    text = text.substr(1, text.size() - 2);
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::string element;
        if (text[i] == '"') {
            ++i;
            while (i < text.size() && text[i] != '"') {
                if (text[i] == '\\' && i + 1 < text.size()) ++i;
                element += text[i++];
            }
            if (i >= text.size()) return std::nullopt;
            ++i;  // closing quote
            out.push_back(std::move(element));
        } else {
            auto end = text.find(',', i);
            auto raw =
                text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
            if (raw != "NULL") out.emplace_back(raw);
            i += raw.size();
        }
        if (i < text.size()) {
            if (text[i] != ',') return std::nullopt;
            ++i;
        }
    }
    return out;
}

}  // namespace izypop3::store::detail
