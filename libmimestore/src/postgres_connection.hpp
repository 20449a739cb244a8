#pragma once
// One libpq connection of the postgres store, with parameterised statements only, errors
// mapped to store::errc, and the server's message kept (one line, never the password) for
// the caller to report.

#include <izypop3/store/errc.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace izypop3::store::detail {

struct pg_result_free {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_result = std::unique_ptr<PGresult, pg_result_free>;

/// The parameters of one statement, in order ($1, $2, ...). Text values are copied; binary
/// values are views that must stay valid until the statement has run.
class pg_params {
  public:
    pg_params& text(std::string_view v);
    pg_params& number(std::int64_t v);
    pg_params& optional_number(std::optional<std::int64_t> v);
    /// A text[] literal ({"a","b"}); elements must not contain NUL.
    pg_params& text_array(std::span<const std::string> v);
    pg_params& number_array(std::span<const std::int64_t> v);
    /// Octets sent as they are (binary format): a bytea value.
    pg_params& bytes(std::string_view v);

    int size() const noexcept { return static_cast<int>(values_.size()); }
    const char* const* values() const noexcept { return values_.data(); }
    const int* lengths() const noexcept { return lengths_.data(); }
    const int* formats() const noexcept { return formats_.data(); }

  private:
    pg_params& owned(std::string v);

    std::deque<std::string> owned_;  // a deque keeps element addresses stable as it grows
    std::vector<const char*> values_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
};

/// Where and how to connect: a libpq connection string or URI (empty = libpq's defaults and
/// PG* environment variables) and an optional password that overrides the one in it.
struct pg_connect_options {
    std::string conninfo;
    std::string password;
};

class pg_connection {
  public:
    /// Connects and prepares the session (UTF-8 client encoding, durable commits). Errors:
    /// bad_config when the server refused us (authentication, unknown database or role),
    /// io_error when it could not be reached; `error_text` says which and what to check.
    static boost::system::result<std::unique_ptr<pg_connection>> open(
        const pg_connect_options& opts, std::string& error_text);

    ~pg_connection();
    pg_connection(const pg_connection&) = delete;
    pg_connection& operator=(const pg_connection&) = delete;

    /// Runs one statement with parameters (never text pasted into SQL). Results come in
    /// text format, or binary when `binary_result`. On failure the mapped error is returned
    /// and error_text() holds the server's message.
    boost::system::result<pg_result> exec(const std::string& sql, const pg_params& params = {},
                                          bool binary_result = false);
    /// exec() of a statement the server prepares once per connection (named after its
    /// text): the parse and plan of the statements a POP3 session repeats are paid once.
    boost::system::result<pg_result> exec_prepared(const std::string& sql,
                                                   const pg_params& params = {},
                                                   bool binary_result = false);
    /// Pipelining (libpq's pipeline mode): queues a prepared statement, each with its own
    /// sync point, without waiting; receive() hands the results back in the order sent.
    /// `params` is copied. Any other call on the connection first waits for and drops the
    /// results not yet received.
    boost::system::error_code send_prepared(const std::string& sql, const pg_params& params,
                                            bool binary_result = false);
    boost::system::result<pg_result> receive();
    /// Statements sent and not yet received.
    std::size_t in_flight() const noexcept { return in_flight_; }
    /// Runs one or more statements without parameters (schema changes, BEGIN, COMMIT).
    boost::system::error_code exec_script(const std::string& sql);
    /// Sends one statement and waits at most `timeout` for its outcome; false on any failure
    /// or timeout (the connection is then unusable and must be closed). For the lock release
    /// when a maildrop is destroyed, which must not hang on a dead network.
    bool exec_bounded(const std::string& sql, const pg_params& params,
                      std::chrono::milliseconds timeout) noexcept;
    /// Rolls back an open transaction, if any; errors are ignored (the connection is then
    /// lost or in a state unhealthy() reports).
    void rollback_if_open() noexcept;

    /// The server or network dropped the connection; it cannot be used again.
    bool lost() const noexcept;
    /// Connected and outside any transaction: fit to be reused.
    bool reusable() const noexcept;
    /// Why the most recent statement failed, one line; empty after one that succeeded.
    const std::string& error_text() const noexcept { return error_text_; }
    /// The identifier quoted by libpq (PQescapeIdentifier), for table and schema names.
    std::string quote_identifier(std::string_view name);
    int server_version() const noexcept;

  private:
    explicit pg_connection(PGconn* c) : conn_(c) {}
    boost::system::error_code fail(const PGresult* r);
    // The statement name for `sql`, prepared on the server first if need be; empty on
    // failure (error_text_ says why).
    const std::string* prepared_name(const std::string& sql);
    // Receives and drops what pipelined statements still owe.
    void drain() noexcept;

    PGconn* conn_;
    std::string error_text_;
    std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
    std::size_t in_flight_ = 0;
};

/// Reads a bigint column of a result in binary format (network byte order).
std::int64_t binary_int8(const PGresult* r, int row, int col) noexcept;
/// Reads an integer column of a result in text format; 0 when it is NULL or malformed.
std::int64_t text_int(const PGresult* r, int row, int col) noexcept;
/// The octets of a field as a view into the result.
std::string_view field(const PGresult* r, int row, int col) noexcept;
/// Parses a text[] value in PostgreSQL's text output form ({a,"b c"}); NULL elements are
/// dropped. Returns nullopt when the text is not an array literal.
std::optional<std::vector<std::string>> parse_text_array(std::string_view text);
/// The number of rows an INSERT, UPDATE or DELETE touched.
std::uint64_t affected_rows(const PGresult* r) noexcept;

}  // namespace izypop3::store::detail
