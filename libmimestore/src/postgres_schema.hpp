#pragma once
// The postgres store's table: its versioned schema (migrations) and every statement the
// store runs on it. Table and schema names enter SQL only quoted by libpq
// (PQescapeIdentifier) and after validation; values enter only as parameters.

#include "postgres_connection.hpp"

#include <boost/system/error_code.hpp>

#include <string>

namespace izypop3::store::detail {

/// The schema version this build writes; a table at a higher version is refused.
inline constexpr int pg_schema_version = 2;

/// The table that records each message table's schema version, in the same schema.
inline constexpr std::string_view pg_migrations_table = "izypop3_migrations";

/// Each mailbox's last accepted login (LOGIN-DELAY), one table per schema (migration 2).
inline constexpr std::string_view pg_logins_table = "izypop3_logins";

/// A validated schema.table, with both parts quoted for SQL.
struct pg_table {
    std::string schema;         ///< as given, e.g. public
    std::string table;          ///< as given, e.g. izypop3_messages
    std::string quoted;         ///< "public"."izypop3_messages"
    std::string quoted_schema;  ///< "public"
    std::string quoted_logins;  ///< "public"."izypop3_logins"
};

/// Quotes `schema` and `table` with `conn`. Returns bad_config if libpq cannot.
boost::system::error_code quote_table(pg_connection& conn, pg_table& t, std::string& why);

/// Brings the table to pg_schema_version: creates the schema, the migrations table and the
/// message table when they are absent, applies newer migrations, all in one transaction
/// under an advisory lock on the schema so that nodes starting together do not race. Statements
/// that need privileges run only when something is missing, so a role that may only read and write
/// rows can use a table an administrator set up. Errors come with a one-line `why`.
boost::system::error_code migrate(pg_connection& conn, const pg_table& t, std::string& why);

/// Every statement the store runs, built once for its table.
struct pg_statements {
    explicit pg_statements(const pg_table& t);

    // $1 mailbox ('' = all), $2 tags wanted (text[]), $3 tags excluded (text[]),
    // $4 limit (NULL = none). Columns: see postgres_store.cpp (query_columns).
    std::string query_asc;
    std::string query_desc;
    // $1 mailbox, $2 candidate uidls (text[]). Columns: uidl, fingerprint, size, and whether
    // the row only records a failed fetch (tagged pop3failed).
    std::string probe;
    // $1 mailbox, $2 uidl: removes the row if it only records a failed fetch.
    std::string remove_failure_record;
    // $1 mailbox, $2 uidl, $3 source_id, $4 fingerprint, $5 size, $6 wire_size, $7 tags,
    // $8 message_time (µs since 1970, NULL = unknown), $9 created (µs), $10 payload (bytea).
    // RETURNING id; no row when (mailbox, uidl) exists.
    std::string insert;
    // As insert, but $10 is a large object whose octets become the payload.
    std::string insert_from_large_object;
    // $1 mailbox, $2 uidl, $3 first-chunk length. Columns (binary): id, size, first chunk.
    std::string open_by_uidl;
    // $1 ids (bigint[]), $2 first-chunk length, $3 the id asked for, whose row comes first.
    // Columns (binary): id, size, first chunk; no row for an id that is gone.
    std::string open_ahead;
    // $1 id, $2 offset (1-based), $3 length. Columns (binary): chunk.
    std::string read_chunk;
    // $1 mailbox, $2 uidl, $3 tags to drop (text[]), $4 tag to add if absent.
    std::string mark;
    // $1 mailbox, $2 uidl, $3 tag to drop, $4 tag to add when $3 was dropped ('' = none).
    std::string unmark;
    // $1 mailbox, $2 uidl.
    std::string remove;
    // $1 mailbox. Columns: id, uidl, wire_size; every servable item (not archive, dup or
    // pop3failed), oldest first.
    std::string snapshot;
    // $1 ids (bigint[]).
    std::string delete_ids;
    // $1 table name, $2 mailbox, $3 now (µs since 1970), $4 login delay (s). Columns: 1 when
    // the login was recorded (0: too soon), the last login before it (µs; NULL = none).
    std::string record_login;
    // $1 ids (bigint[]), $2 now (µs): sets `retrieved` where it is NULL.
    std::string record_retrieval;
    // $1 mailbox, $2 cutoff (µs): servable rows first retrieved before it are deleted ...
    std::string expire_delete;
    // ... or archived ($3 status tags, text[]), per commitmode.
    std::string expire_archive;
    // $1 ids (bigint[]), $2 status tags (text[]): they become "archive".
    std::string archive_ids;
};

}  // namespace izypop3::store::detail
