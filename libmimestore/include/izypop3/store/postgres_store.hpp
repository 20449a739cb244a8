#pragma once
// The "postgres" store (alias "cloud", the original's remote table): every item is a row of
// one PostgreSQL table, so any number of izypop3 processes on any hosts share one store.
// docs/postgres.md describes the table, its migrations, the locks and the settings.
//
// - Items are identified by (mailbox, guid); the guid is the row's uidl, unique per mailbox.
// - Adding is durable when commit() returns (a committed transaction, synchronous commit).
//   The same guid with the same octets is already_present; with other octets the copy is
//   stored as "<guid>.dup", "<guid>.dup2", ... tagged dup (as the fake store does).
// - open_maildrop(user) locks the mailbox with a session-level advisory lock held on a
//   connection of its own for the POP3 session: a second open anywhere (this process or
//   another host) fails with errc::in_use until the first maildrop is destroyed or its
//   process dies. commit_deletions() is one statement: all the deletions or none.
// - A lost database makes calls fail with io_error; nothing is changed by a failed call.
//
// Limits: a guid or mailbox of at most 1,000 octets and tags of at most 200 octets, all
// valid UTF-8 without NUL (they are text columns); a payload of at most maxitemsize octets
// (PostgreSQL's bytea holds less than 1 GiB).

#include <izypop3/store/store.hpp>
#include <izypop3/store/store_config.hpp>
#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace izypop3::store {

struct postgres_store_options {
    static constexpr std::size_t max_poolsize = 64;
    /// The bytea limit (1 GiB less a header) leaves room for about this much per value;
    /// PostgreSQL also needs that much memory per message being stored.
    static constexpr std::uint64_t max_item_limit = 1000ull * 1024 * 1024;
    static constexpr std::size_t max_name_octets = 1000;  ///< guid, mailbox
    static constexpr std::size_t max_tag_octets = 200;

    /// A libpq connection URI or key=value string (sslmode and the rest honoured); empty =
    /// libpq's defaults and the PG* environment variables.
    std::string dataservice;
    /// The password; empty = libpq finds it (PGPASSWORD, ~/.pgpass, or none needed).
    std::string accesstoken;
    std::string schema = "public";
    std::string table = "izypop3_messages";
    /// Non-empty pins this one mailbox: every maildrop serves it, every add goes into it,
    /// every query looks only at it.
    std::string mailbox;
    /// Connections store calls share (a POP3 session holds one more of its own).
    std::size_t poolsize = 4;
    commit_mode commitmode = commit_mode::remove;
    /// The largest payload begin_add accepts, in octets.
    std::uint64_t maxitemsize = 256ull * 1024 * 1024;
};

/// Splits mimestore.tablename: "schema.table", or "table" for schema public. Each part is 1
/// to 63 ASCII letters, digits and underscores, not starting with a digit (PostgreSQL's
/// identifier length; names are quoted, so they are case-sensitive). Anything else (quotes,
/// spaces, semicolons) is refused with bad_setting_value and a one-line `why`.
boost::system::error_code parse_table_name(std::string_view text, std::string& schema,
                                           std::string& table, std::string& why);

/// The mimestore.* settings of the postgres store, for --help and key checking.
std::span<const setting_info> postgres_settings() noexcept;

/// The options the settings describe, with defaults for absent ones; bad_setting_value with
/// a one-line `why` naming the setting when a value is malformed. Connects to nothing.
boost::system::result<postgres_store_options> postgres_options(const store_config& cfg,
                                                               std::string& why);

/// Checks the values of the postgres settings without connecting (unknown keys are the
/// factory's business).
boost::system::error_code validate_postgres_settings(const store_config& cfg,
                                                     std::string& error_text);

/// postgres_options + postgres_store::open.
boost::system::result<std::unique_ptr<mime_store>> make_postgres_store(const store_config& cfg,
                                                                       std::string& error_text);

class postgres_store final : public mime_store {
  public:
    /// Connects, checks the server and brings the table to this build's schema version
    /// (creating it when absent). Errors, always with a one-line `error_text`: bad_config
    /// (login refused, no password, a table izypop3 did not create), io_error (server not
    /// reachable), unsupported (server older than 12, table from a newer izypop3),
    /// read_only (no privilege to create what is missing).
    static boost::system::result<std::unique_ptr<postgres_store>> open(
        const postgres_store_options& opts, std::string& error_text);

    ~postgres_store() override;
    postgres_store(const postgres_store&) = delete;
    postgres_store& operator=(const postgres_store&) = delete;

    result<query_result> query(const query_options& opts) override;
    result<std::unique_ptr<core::message_source>> open_item(const item& it) override;
    /// Beyond the interface: invalid_item also for a guid, mailbox or tag that is not UTF-8,
    /// contains NUL or is longer than the limits above; the writer's write() fails with
    /// unsupported once the payload grows past maxitemsize (last_error() says so).
    result<std::unique_ptr<item_writer>> begin_add(item meta) override;
    error_code mark(const item& it, std::string_view t) override;
    error_code unmark(const item& it, std::string_view t) override;
    error_code remove(const item& it) override;
    result<std::unique_ptr<core::maildrop>> open_maildrop(std::string_view user) override;
    /// One statement on the schema's izypop3_logins table, so two nodes admitting the same
    /// mailbox at once cannot both record a login.
    result<std::uint32_t> record_login(std::string_view mailbox,
                                       std::chrono::system_clock::time_point now,
                                       std::chrono::seconds min_interval) override;
    bool keeps_retrieval_times() const noexcept override { return true; }
    result<std::uint64_t> expire_retrieved(std::string_view mailbox,
                                           std::chrono::system_clock::time_point cutoff) override;
    std::string_view kind() const noexcept override { return "postgres"; }
    /// Group commit: each add commits with synchronous_commit off (its commit record is
    /// written, not waited for), and flush() commits one transaction with an xid and
    /// synchronous_commit on, whose wait for the WAL covers every commit before it: one WAL
    /// flush per batch instead of one per message, with the same guarantee once flush()
    /// returned.
    void set_group_commit(bool on) override;
    error_code flush() override;

    /// What PostgreSQL or libpq said about the most recent failure, one line, for logs
    /// (never the password).
    std::string last_error() const;

    struct state;  // private, in postgres_store.cpp; public only so its helpers can name it

  private:
    explicit postgres_store(std::shared_ptr<state> st);
    std::shared_ptr<state> state_;
};

}  // namespace izypop3::store
