#include "postgres_schema.hpp"

#include "postgres_lock_key.hpp"

#include <fmt/format.h>

#include <array>

namespace izypop3::store::detail {
namespace {

// The payload is stored uncompressed (STORAGE EXTERNAL) so that substring() reads only the
// TOAST chunks it needs: a message is streamed in bounded pieces without PostgreSQL
// decompressing it from the start for every piece. `status` mirrors the original's column:
// the item's status tag, kept by PostgreSQL itself.
constexpr std::string_view create_v1 = R"SQL(
CREATE TABLE {table} (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox      text NOT NULL,
    uidl         text NOT NULL,
    source_id    text NOT NULL DEFAULT '',
    fingerprint  text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{{64}}$'),
    size         bigint NOT NULL,
    wire_size    bigint NOT NULL CHECK (wire_size >= size),
    tags         text[] NOT NULL DEFAULT '{{unread}}',
    status       text GENERATED ALWAYS AS (
                     CASE WHEN 'unread' = ANY (tags) THEN 'unread'
                          WHEN 'archive' = ANY (tags) THEN 'archive'
                          WHEN 'staged' = ANY (tags) THEN 'staged'
                          WHEN 'dup' = ANY (tags) THEN 'dup'
                          WHEN 'pop3failed' = ANY (tags) THEN 'pop3failed'
                          WHEN 'conversionerror' = ANY (tags) THEN 'conversionerror'
                          ELSE '' END) STORED,
    group_id     text NOT NULL DEFAULT '',
    message_time timestamptz,
    created      timestamptz NOT NULL DEFAULT now(),
    payload      bytea NOT NULL,
    UNIQUE (mailbox, uidl),
    CHECK (size = octet_length(payload))
);
ALTER TABLE {table} ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX ON {table} USING gin (tags);
CREATE INDEX ON {table} (mailbox, id);
COMMENT ON TABLE {table} IS 'izypop3 message store (docs/postgres.md); schema version in izypop3_migrations';
)SQL";

// RFC 2449 EXPIRE DAYS and LOGIN-DELAY across nodes: when each message was first retrieved
// over POP3, and each mailbox's last accepted login (one table per schema, keyed by the
// message table's name, like izypop3_migrations). Every table after the first finds the
// logins table there; the NOTICE saying so would only clutter the log.
constexpr std::string_view add_retrieval_and_logins_v2 = R"SQL(
SET LOCAL client_min_messages = warning;
ALTER TABLE {table} ADD COLUMN retrieved timestamptz;
CREATE TABLE IF NOT EXISTS {logins} (
    table_name text NOT NULL,
    mailbox    text NOT NULL,
    last_login timestamptz NOT NULL,
    PRIMARY KEY (table_name, mailbox)
);
COMMENT ON TABLE {logins} IS 'izypop3: last accepted POP3 login per mailbox (RFC 2449 LOGIN-DELAY)';
)SQL";

struct migration {
    int version;
    std::string_view sql;  // {table} is the quoted schema.table
};

// Append only: a released migration never changes; the next one is version 2.
constexpr std::array<migration, 2> migrations{{
    {1, create_v1},
    {2, add_retrieval_and_logins_v2},
}};
static_assert(migrations.back().version == pg_schema_version);

constexpr std::string_view create_migrations = R"SQL(
CREATE TABLE {migrations} (
    table_name text PRIMARY KEY,
    version    integer NOT NULL,
    applied    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {migrations} IS 'izypop3: schema version of each message table in this schema';
)SQL";

// The condition every query shares; see pg_statements::query_asc for the parameters.
constexpr std::string_view query_condition =
    "($1 = '' OR mailbox = $1) AND tags @> $2::text[] AND NOT (tags && $3::text[])";

std::string query_statement(const std::string& table, std::string_view direction) {
    // One statement, so the totals and the page come from the same snapshot.
    return fmt::format(
        "SELECT totals.n, totals.octets, page.id, page.uidl, page.size, page.wire_size, "
        "page.source_id, page.tags, page.fingerprint, page.mailbox, page.created_us, "
        "page.message_time_us "
        "FROM (SELECT count(*) AS n, coalesce(sum(size), 0) AS octets FROM {0} WHERE {1}) "
        "AS totals LEFT JOIN LATERAL ("
        "SELECT id, uidl, size, wire_size, source_id, tags, fingerprint, mailbox, "
        "(extract(epoch FROM created) * 1000000)::bigint AS created_us, "
        "(extract(epoch FROM message_time) * 1000000)::bigint AS message_time_us "
        "FROM {0} WHERE {1} ORDER BY id {2} LIMIT $4::bigint) AS page ON true "
        "ORDER BY page.id {2}",
        table, query_condition, direction);
}

std::string insert_statement(const std::string& table, std::string_view payload) {
    return fmt::format(
        "INSERT INTO {} (mailbox, uidl, source_id, fingerprint, size, wire_size, tags, "
        "message_time, created, payload) VALUES ($1, $2, $3, $4, $5::bigint, $6::bigint, "
        "$7::text[], timestamptz 'epoch' + $8::bigint * interval '1 microsecond', "
        "timestamptz 'epoch' + $9::bigint * interval '1 microsecond', {}) "
        "ON CONFLICT (mailbox, uidl) DO NOTHING RETURNING id",
        table, payload);
}

// Keeps the order of the tags that stay.
constexpr std::string_view tags_without =
    "ARRAY(SELECT u.x FROM unnest(t.tags) WITH ORDINALITY AS u(x, n) "
    "WHERE u.x <> ALL({}::text[]) ORDER BY u.n)";

bool exists(pg_connection& conn, const std::string& quoted_name, bool& out) {
    auto r = conn.exec("SELECT to_regclass($1) IS NOT NULL", pg_params().text(quoted_name));
    if (!r) return false;
    out = field(r->get(), 0, 0) == "t";
    return true;
}

}  // namespace

boost::system::error_code quote_table(pg_connection& conn, pg_table& t, std::string& why) {
    t.quoted_schema = conn.quote_identifier(t.schema);
    auto table = conn.quote_identifier(t.table);
    if (t.quoted_schema.empty() || table.empty()) {
        why = fmt::format("cannot quote mimestore.tablename {}.{}: {}", t.schema, t.table,
                          conn.error_text());
        return errc::bad_config;
    }
    t.quoted = t.quoted_schema + "." + table;
    t.quoted_logins = t.quoted_schema + "." + conn.quote_identifier(pg_logins_table);
    return {};
}

boost::system::error_code migrate(pg_connection& conn, const pg_table& t, std::string& why) {
    const std::string name = t.schema + "." + t.table;
    const std::string migrations_table =
        t.quoted_schema + "." + conn.quote_identifier(pg_migrations_table);
    // "<what> for mimestore.tablename s.t: <server's message>[; <what to do>]"
    auto failed = [&](std::string_view what, boost::system::error_code ec,
                      std::string_view remedy = {}) {
        why = fmt::format("{} for mimestore.tablename {}: {}", what, name, conn.error_text());
        if (!remedy.empty()) why.append("; ").append(remedy);
        conn.rollback_if_open();
        return ec;
    };

    if (conn.server_version() < 120000) {
        why = fmt::format(
            "the PostgreSQL server is version {}; the postgres store needs 12 or "
            "newer (generated columns)",
            conn.server_version());
        return errc::unsupported;
    }
    if (auto ec = conn.exec_script("BEGIN")) return failed("cannot start the schema check", ec);
    // Serialises schema changes in this schema across every node starting at once: two
    // nodes creating the schema, the migrations table or one message table together would
    // otherwise race (CREATE ... IF NOT EXISTS is not safe against that either).
    auto lock = conn.exec("SELECT pg_advisory_xact_lock($1::bigint)",
                          pg_params().number(pg_lock_key("migrate", t.schema)));
    if (!lock) return failed("cannot lock the schema", lock.error());

    auto schema =
        conn.exec("SELECT 1 FROM pg_namespace WHERE nspname = $1", pg_params().text(t.schema));
    if (!schema) return failed("cannot look up the schema", schema.error());
    if (PQntuples(schema->get()) == 0) {
        if (auto ec = conn.exec_script("CREATE SCHEMA " + t.quoted_schema))
            return failed(fmt::format("cannot create schema {}", t.schema), ec,
                          "create it, or use a role that may (GRANT CREATE ON DATABASE)");
    }
    bool have_migrations = false, have_table = false;
    if (!exists(conn, migrations_table, have_migrations) || !exists(conn, t.quoted, have_table))
        return failed("cannot look up the tables", errc::io_error);
    if (!have_migrations) {
        auto sql =
            fmt::format(fmt::runtime(create_migrations), fmt::arg("migrations", migrations_table));
        if (auto ec = conn.exec_script(sql))
            return failed(fmt::format("cannot create {}.{}", t.schema, pg_migrations_table), ec,
                          fmt::format("use a role that may create tables in schema {}, or see "
                                      "docs/postgres.md",
                                      t.schema));
    }
    auto recorded = conn.exec("SELECT version FROM " + migrations_table + " WHERE table_name = $1",
                              pg_params().text(t.table));
    if (!recorded) return failed("cannot read the schema version", recorded.error());
    const bool has_record = PQntuples(recorded->get()) > 0;
    if (have_table && !has_record) {
        why = fmt::format(
            "table {} exists but izypop3 did not create it (no row for it in {}.{}); choose "
            "another mimestore.tablename",
            name, t.schema, pg_migrations_table);
        conn.rollback_if_open();
        return errc::bad_config;
    }
    // A record without its table (dropped by hand) starts over: there is nothing to upgrade.
    const auto version = have_table ? text_int(recorded->get(), 0, 0) : 0;
    if (version > pg_schema_version) {
        why = fmt::format(
            "table {} has schema version {}, newer than this izypop3 knows ({}); upgrade "
            "izypop3 on this node",
            name, version, pg_schema_version);
        conn.rollback_if_open();
        return errc::unsupported;
    }
    for (const auto& m : migrations) {
        if (m.version <= version) continue;
        auto sql = fmt::format(fmt::runtime(m.sql), fmt::arg("table", t.quoted),
                               fmt::arg("logins", t.quoted_logins));
        if (auto ec = conn.exec_script(sql))
            return failed(fmt::format("cannot apply schema migration {}", m.version), ec,
                          fmt::format("use a role that may create tables in schema {}, or see "
                                      "docs/postgres.md",
                                      t.schema));
    }
    if (version < pg_schema_version) {
        auto up = conn.exec("INSERT INTO " + migrations_table +
                                " (table_name, version) VALUES ($1, $2::integer) "
                                "ON CONFLICT (table_name) DO UPDATE SET version = "
                                "EXCLUDED.version, applied = now()",
                            pg_params().text(t.table).number(pg_schema_version));
        if (!up) return failed("cannot record the schema version", up.error());
    }
    if (auto ec = conn.exec_script("COMMIT")) return failed("cannot commit the schema", ec);
    return {};
}

pg_statements::pg_statements(const pg_table& t)
    : query_asc(query_statement(t.quoted, "ASC")),
      query_desc(query_statement(t.quoted, "DESC")),
      probe(fmt::format("SELECT uidl, fingerprint, size, 'pop3failed' = ANY (tags) FROM {} "
                        "WHERE mailbox = $1 AND uidl = ANY($2::text[])",
                        t.quoted)),
      remove_failure_record(fmt::format("DELETE FROM {} WHERE mailbox = $1 AND uidl = $2 AND "
                                        "'pop3failed' = ANY (tags)",
                                        t.quoted)),
      insert(insert_statement(t.quoted, "$10::bytea")),
      insert_from_large_object(insert_statement(t.quoted, "lo_get($10::oid)")),
      open_by_uidl(fmt::format("SELECT id, size, substring(payload FROM 1 FOR $3::integer) "
                               "FROM {} WHERE mailbox = $1 AND uidl = $2",
                               t.quoted)),
      open_ahead(fmt::format("SELECT id, size, substring(payload FROM 1 FOR $2::integer) FROM {} "
                             "WHERE id = ANY ($1::bigint[]) ORDER BY id = $3::bigint DESC",
                             t.quoted)),
      read_chunk(fmt::format("SELECT substring(payload FROM $2::integer FOR $3::integer) "
                             "FROM {} WHERE id = $1::bigint",
                             t.quoted)),
      mark(fmt::format("UPDATE {} AS t SET tags = (SELECT CASE WHEN $4::text = ANY (k.kept) "
                       "THEN k.kept ELSE array_append(k.kept, $4::text) END FROM (SELECT {} "
                       "AS kept) AS k) WHERE t.mailbox = $1 AND t.uidl = $2",
                       t.quoted, fmt::format(fmt::runtime(tags_without), "$3"))),
      unmark(fmt::format("UPDATE {} AS t SET tags = CASE WHEN $3::text = ANY (t.tags) THEN "
                         "(SELECT CASE WHEN $4::text = '' THEN k.kept ELSE "
                         "array_append(k.kept, $4::text) END FROM (SELECT {} AS kept) AS k) "
                         "ELSE t.tags END WHERE t.mailbox = $1 AND t.uidl = $2",
                         t.quoted, fmt::format(fmt::runtime(tags_without), "ARRAY[$3::text]"))),
      remove(fmt::format("DELETE FROM {} WHERE mailbox = $1 AND uidl = $2", t.quoted)),
      snapshot(fmt::format("SELECT id, uidl, wire_size FROM {} WHERE mailbox = $1 AND NOT "
                           "(tags && ARRAY['archive', 'dup', 'pop3failed']::text[]) ORDER BY id",
                           t.quoted)),
      delete_ids(fmt::format("DELETE FROM {} WHERE id = ANY ($1::bigint[])", t.quoted)),
      record_login(fmt::format(
          "WITH prev AS (SELECT last_login FROM {0} WHERE table_name = $1 AND mailbox = $2), "
          "up AS (INSERT INTO {0} AS l (table_name, mailbox, last_login) VALUES ($1, $2, "
          "timestamptz 'epoch' + $3::bigint * interval '1 microsecond') "
          "ON CONFLICT (table_name, mailbox) DO UPDATE SET last_login = EXCLUDED.last_login "
          "WHERE l.last_login <= EXCLUDED.last_login - $4::bigint * interval '1 second' "
          "RETURNING 1) "
          "SELECT (SELECT count(*) FROM up), "
          "(SELECT (extract(epoch FROM last_login) * 1000000)::bigint FROM prev)",
          t.quoted_logins)),
      record_retrieval(fmt::format("UPDATE {} SET retrieved = timestamptz 'epoch' + "
                                   "$2::bigint * interval '1 microsecond' "
                                   "WHERE id = ANY ($1::bigint[]) AND retrieved IS NULL",
                                   t.quoted)),
      expire_delete(fmt::format("DELETE FROM {} WHERE mailbox = $1 AND retrieved < "
                                "timestamptz 'epoch' + $2::bigint * interval '1 microsecond' "
                                "AND NOT (tags && ARRAY['archive', 'dup', 'pop3failed']::text[])",
                                t.quoted)),
      expire_archive(fmt::format(
          "UPDATE {} AS t SET tags = array_append({}, 'archive') WHERE t.mailbox = $1 AND "
          "t.retrieved < timestamptz 'epoch' + $2::bigint * interval '1 microsecond' AND NOT "
          "(t.tags && ARRAY['archive', 'dup', 'pop3failed']::text[])",
          t.quoted, fmt::format(fmt::runtime(tags_without), "$3"))),
      archive_ids(fmt::format("UPDATE {} AS t SET tags = array_append({}, 'archive') "
                              "WHERE t.id = ANY ($1::bigint[])",
                              t.quoted, fmt::format(fmt::runtime(tags_without), "$2"))) {}

}  // namespace izypop3::store::detail
