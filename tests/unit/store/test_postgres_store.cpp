// The postgres store against a real PostgreSQL 15: a private cluster that this program
// starts (tests/support/pg_cluster.sh) the first time a test needs it and stops at the end.
// When the cluster cannot start, every test that needs it fails; none is skipped.
//
// Also the home of the store conformance suite's test bodies (store_conformance.hpp), run
// here against the fake store and the postgres store.

#define IZYPOP3_STORE_CONFORMANCE_TESTS
#include "store_conformance.hpp"

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/store/errc.hpp>
#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/postgres_store.hpp>
#include <izypop3/store/store_config.hpp>
#include <izypop3/store/store_maildrop.hpp>

#include "../../../libmimestore/src/postgres_connection.hpp"
#include "../../../libmimestore/src/postgres_maildrop.hpp"

#include <gtest/gtest.h>

// libpq's header sits in a subdirectory on Debian; the library itself comes with the store.
#include <postgresql/libpq-fe.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <iostream>
#include <latch>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using namespace izypop3;
using store::add_outcome;
using store::errc;
using store::postgres_store;
using store::postgres_store_options;
using store::query_options;

// ---------------------------------------------------------------------------------------
// The private cluster.

struct command_output {
    int status = -1;
    std::string text;
};

command_output run_command(const std::string& cmd) {
    command_output out;
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (p == nullptr) {
        out.text = "popen failed: " + std::string(std::strerror(errno));
        return out;
    }
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.text.append(buf, n);
    out.status = ::pclose(p);
    return out;
}

std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

class test_cluster {
  public:
    static test_cluster& instance() {
        static test_cluster c;
        return c;
    }

    /// Starts the cluster the first time; "" when it runs, else why it does not.
    const std::string& ensure_started() {
        std::lock_guard lock(mu_);
        if (!started_ && failure_.empty()) start_first();
        return failure_;
    }

    /// Fast shutdown (sessions are cut), data kept.
    void stop() { expect_ok(script("stop " + shell_quote(dir_)), "stop"); }
    /// Starts it again after stop(), on the same port.
    void restart() { expect_ok(script("start " + shell_quote(dir_)), "start again"); }

    void destroy() {
        std::lock_guard lock(mu_);
        if (started_) run_command(script("destroy " + shell_quote(dir_)));
        started_ = false;
    }

    /// Runs SQL as the superuser; returns the first column of the first row ("" if none).
    std::string sql(const std::string& statement) {
        const std::string conninfo =
            "host=" + socket_dir_ + " port=" + port_ + " user=postgres dbname=izypop3_test";
        PGconn* c = PQconnectdb(conninfo.c_str());
        PQsetNoticeProcessor(
            c, [](void*, const char*) {}, nullptr);
        std::string value;
        if (PQstatus(c) != CONNECTION_OK) {
            ADD_FAILURE() << "superuser connection failed: " << PQerrorMessage(c);
        } else {
            PGresult* r = PQexec(c, statement.c_str());
            auto st = PQresultStatus(r);
            if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
                ADD_FAILURE() << statement << ": " << PQresultErrorMessage(r);
            } else if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) {
                value = PQgetvalue(r, 0, 0);
            }
            PQclear(r);
        }
        PQfinish(c);
        return value;
    }

    const std::string& uri() const { return uri_; }
    const std::string& socket_uri() const { return socket_uri_; }
    const std::string& password() const { return password_; }
    const std::string& port() const { return port_; }

  private:
    static std::string script(const std::string& args) {
        return "bash " +
               shell_quote(std::string(IZYPOP3_SOURCE_DIR) + "/tests/support/pg_cluster.sh") + " " +
               args;
    }

    static void expect_ok(const command_output& out, const char* what) {
        EXPECT_EQ(out.status, 0) << "pg_cluster.sh " << what << " failed: " << out.text;
    }
    void expect_ok(const std::string& cmd, const char* what) { expect_ok(run_command(cmd), what); }

    void start_first() {
        char tmpl[] = "/tmp/izypop3-pgtest-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) {
            failure_ = "cannot create a directory for the PostgreSQL test cluster: " +
                       std::string(std::strerror(errno));
            return;
        }
        dir_ = tmpl;
        // With our pid, the script's watchdog removes the cluster if this program crashes.
        auto out =
            run_command(script("start " + shell_quote(dir_) + " " + std::to_string(::getpid())));
        if (out.status != 0) {
            failure_ =
                "tests/support/pg_cluster.sh could not start a PostgreSQL 15 cluster "
                "(install postgresql-15, see .ci/deps.sh): " +
                out.text;
            return;
        }
        std::map<std::string, std::string> env;
        std::size_t pos = 0;
        while (pos < out.text.size()) {
            auto eol = out.text.find('\n', pos);
            std::string line = out.text.substr(pos, eol == std::string::npos ? eol : eol - pos);
            pos = eol == std::string::npos ? out.text.size() : eol + 1;
            auto eq = line.find('=');
            if (eq == std::string::npos) continue;
            std::string value = line.substr(eq + 1);
            if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'')
                value = value.substr(1, value.size() - 2);
            env[line.substr(0, eq)] = value;
        }
        uri_ = env["PG_URI"];
        socket_uri_ = env["PG_SOCKET_URI"];
        password_ = env["PG_PASSWORD"];
        port_ = env["PG_PORT"];
        socket_dir_ = env["PG_SOCKET_DIR"];
        if (uri_.empty() || password_.empty() || port_.empty() || socket_dir_.empty()) {
            failure_ = "pg_cluster.sh start printed no connection settings: " + out.text;
            return;
        }
        started_ = true;
    }

    std::mutex mu_;
    bool started_ = false;
    std::string failure_;
    std::string dir_, uri_, socket_uri_, password_, port_, socket_dir_;
};

class cluster_environment : public ::testing::Environment {
  public:
    void TearDown() override { test_cluster::instance().destroy(); }
};

[[maybe_unused]] ::testing::Environment* const cluster_env =
    ::testing::AddGlobalTestEnvironment(new cluster_environment);

test_cluster& cluster() {
    return test_cluster::instance();
}

std::string fresh_table() {
    static std::atomic<int> next{0};
    return "t" + std::to_string(++next);
}

postgres_store_options options_for(const std::string& table) {
    postgres_store_options o;
    o.dataservice = cluster().uri();
    o.accesstoken = cluster().password();
    o.table = table;
    return o;
}

std::unique_ptr<postgres_store> open_store(const postgres_store_options& o) {
    std::string why;
    auto s = postgres_store::open(o, why);
    EXPECT_TRUE(s.has_value()) << why;
    return s ? std::move(*s) : nullptr;
}

store::item meta(const std::string& guid, const std::string& mailbox = "alice") {
    store::item m;
    m.guid = guid;
    m.mailbox = mailbox;
    return m;
}

add_outcome add(store::mime_store& s, const std::string& guid, std::string_view payload,
                const std::string& mailbox = "alice") {
    auto r = store::add_item(s, meta(guid, mailbox), payload);
    EXPECT_TRUE(r.has_value()) << guid << ": " << (r ? "" : r.error().message());
    return r ? *r : add_outcome::already_present;
}

std::vector<std::string> uids(const core::maildrop& md) {
    std::vector<std::string> out;
    for (const auto& m : md.messages()) out.push_back(m.uid);
    return out;
}

std::vector<std::string> guids_of(store::mime_store& s, const std::string& mailbox = "") {
    query_options q;
    q.limit = query_options::unlimited;
    q.mailbox = mailbox;
    auto r = s.query(q);
    EXPECT_TRUE(r.has_value());
    std::vector<std::string> out;
    if (r)
        for (const auto& it : r->items) out.push_back(it.guid);
    return out;
}

std::string read_message(core::maildrop& md, std::size_t index) {
    auto src = md.open(index);
    EXPECT_TRUE(src.has_value());
    if (!src) return {};
    std::string out;
    char buf[65536];
    for (;;) {
        auto n = (*src)->read(buf);
        EXPECT_TRUE(n.has_value());
        if (!n || *n == 0) return out;
        out.append(buf, *n);
    }
}

bool contains(const std::string& hay, std::string_view needle) {
    return hay.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------------------------------
// A second process holding a maildrop: this program re-executed with IZYPOP3_PG_LOCK_HOLDER
// set. It opens the maildrop, reports "locked N" on stdout and waits to be killed.

[[noreturn]] void hold_lock_and_wait() {
    postgres_store_options o;
    o.dataservice = std::getenv("IZYPOP3_PG_URI");
    o.accesstoken = std::getenv("IZYPOP3_PG_PASSWORD");
    o.table = std::getenv("IZYPOP3_PG_TABLE");
    std::string why;
    auto s = postgres_store::open(o, why);
    if (!s) {
        std::printf("failed: %s\n", why.c_str());
        std::fflush(stdout);
        ::_exit(1);
    }
    auto md = (*s)->open_maildrop(std::getenv("IZYPOP3_PG_MAILBOX"));
    if (!md) {
        std::printf("failed: %s\n", md.error().message().c_str());
        std::fflush(stdout);
        ::_exit(1);
    }
    std::printf("locked %zu\n", (*md)->messages().size());
    std::fflush(stdout);
    for (;;) ::pause();
}

[[maybe_unused]] const bool is_lock_holder = [] {
    if (std::getenv("IZYPOP3_PG_LOCK_HOLDER") != nullptr) hold_lock_and_wait();
    return false;
}();

struct child_process {
    pid_t pid = -1;
    int out = -1;
    ~child_process() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (out >= 0) ::close(out);
    }
};

// Reads one line from the child, waiting at most 60 s.
std::string read_line(int fd) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 1000) <= 0) continue;
        char c = 0;
        if (::read(fd, &c, 1) != 1) break;
        if (c == '\n') return line;
        line += c;
    }
    return line;
}

void spawn_lock_holder(child_process& child, const postgres_store_options& o,
                       const std::string& mailbox) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.push_back("IZYPOP3_PG_LOCK_HOLDER=1");
    env_strings.push_back("IZYPOP3_PG_URI=" + o.dataservice);
    env_strings.push_back("IZYPOP3_PG_PASSWORD=" + o.accesstoken);
    env_strings.push_back("IZYPOP3_PG_TABLE=" + o.table);
    env_strings.push_back("IZYPOP3_PG_MAILBOX=" + mailbox);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string exe = "/proc/self/exe";
    char* argv[] = {exe.data(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    const int rc = ::posix_spawn(&child.pid, exe.c_str(), &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    child.out = fds[0];
    ASSERT_EQ(rc, 0) << std::strerror(rc);
}

// A port on 127.0.0.1 where nothing listens (bound, then released).
int closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

// Sets or unsets an environment variable for one scope.
class scoped_env {
  public:
    scoped_env(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value == nullptr) {
            ::unsetenv(name);
        } else {
            ::setenv(name, value, 1);
        }
    }
    ~scoped_env() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

  private:
    const char* name_;
    std::optional<std::string> old_;
};

// ---------------------------------------------------------------------------------------
// The conformance suite, against the fake store and the postgres store.

test::store_backend fake_backend() {
    test::store_backend b;
    b.name = "fake";
    b.make = [] {
        store::fake_store_options o;
        o.count = 0;
        return std::unique_ptr<store::mime_store>(std::make_unique<store::fake_store>(o));
    };
    return b;
}

test::store_backend postgres_backend() {
    test::store_backend b;
    b.name = "postgres";
    b.make = []() -> std::unique_ptr<store::mime_store> {
        const auto& failure = cluster().ensure_started();
        if (!failure.empty()) {
            ADD_FAILURE() << failure;
            return nullptr;
        }
        return open_store(options_for(fresh_table()));
    };
    return b;
}

using test::StoreConformance;

INSTANTIATE_TEST_SUITE_P(Fake, StoreConformance, ::testing::Values(fake_backend()),
                         test::backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance, ::testing::Values(postgres_backend()),
                         test::backend_name);

// ---------------------------------------------------------------------------------------
// Settings: checked without a server.

store::store_config config(std::map<std::string, std::string> settings) {
    store::store_config c;
    c.modhandler = "postgres";
    c.settings = std::move(settings);
    return c;
}

TEST(PostgresSettings, TableNamesAreIdentifiersOnly) {
    struct valid_case {
        const char* text;
        const char* schema;
        const char* table;
    };
    for (const auto& c : {valid_case{"public.izypop3_messages", "public", "izypop3_messages"},
                          valid_case{"msgs", "public", "msgs"},
                          valid_case{"Mail_2024.Inbox_1", "Mail_2024", "Inbox_1"},
                          valid_case{"_s._t", "_s", "_t"}}) {
        std::string schema, table, why;
        EXPECT_FALSE(store::parse_table_name(c.text, schema, table, why)) << c.text << why;
        EXPECT_EQ(schema, c.schema);
        EXPECT_EQ(table, c.table);
    }
    const std::string long_part(64, 'a');
    for (std::string bad :
         {std::string(), std::string("."), std::string("a."), std::string(".b"),
          std::string("a.b.c"), std::string("1abc"), std::string("x; drop table y"),
          std::string("public.y\"; DROP TABLE y; --"), std::string("a b"),
          std::string("\"quoted\""), std::string("sch\xc3\xa9ma.t"), std::string("s.") + long_part,
          std::string("a-b"), std::string("izypop3_migrations"),
          std::string("public.izypop3_migrations")}) {
        std::string schema = "unchanged", table = "unchanged", why;
        EXPECT_EQ(store::parse_table_name(bad, schema, table, why), errc::bad_setting_value) << bad;
        EXPECT_TRUE(contains(why, "mimestore.tablename")) << why;
        EXPECT_EQ(schema, "unchanged");
    }
    std::string schema, table, why;
    EXPECT_FALSE(store::parse_table_name("s." + std::string(63, 'b'), schema, table, why));
}

TEST(PostgresSettings, DefaultsAndTable) {
    std::vector<std::string> names;
    for (const auto& s : store::postgres_settings()) {
        names.push_back(s.name);
        EXPECT_FALSE(s.description.empty()) << s.name;
    }
    EXPECT_EQ(names, (std::vector<std::string>{"dataservice", "accesstoken", "tablename", "mailbox",
                                               "poolsize", "commitmode", "maxitemsize"}));
    std::string why;
    auto o = store::postgres_options(config({}), why);
    ASSERT_TRUE(o.has_value()) << why;
    EXPECT_EQ(o->dataservice, "");
    EXPECT_EQ(o->schema, "public");
    EXPECT_EQ(o->table, "izypop3_messages");
    EXPECT_EQ(o->mailbox, "");
    EXPECT_EQ(o->poolsize, 4u);
    EXPECT_EQ(o->commitmode, store::commit_mode::remove);
    EXPECT_EQ(o->maxitemsize, 268435456u);
    // The defaults the table shows are the ones applied.
    std::map<std::string, std::string> defaults;
    for (const auto& s : store::postgres_settings()) defaults[s.name] = s.default_value;
    EXPECT_EQ(defaults["poolsize"], "4");
    EXPECT_EQ(defaults["tablename"], "public.izypop3_messages");
    EXPECT_EQ(defaults["maxitemsize"], "268435456");
    EXPECT_EQ(defaults["commitmode"], "remove");
    EXPECT_EQ(defaults["dataservice"], "");
    EXPECT_EQ(defaults["mailbox"], "");

    o = store::postgres_options(config({{"dataservice", "postgresql://db.example.org/mail"},
                                        {"accesstoken", "s3cret"},
                                        {"tablename", "mail.msgs"},
                                        {"mailbox", "shared"},
                                        {"poolsize", "16"},
                                        {"commitmode", "archive"},
                                        {"maxitemsize", "1000"}}),
                                why);
    ASSERT_TRUE(o.has_value()) << why;
    EXPECT_EQ(o->dataservice, "postgresql://db.example.org/mail");
    EXPECT_EQ(o->accesstoken, "s3cret");
    EXPECT_EQ(o->schema, "mail");
    EXPECT_EQ(o->table, "msgs");
    EXPECT_EQ(o->mailbox, "shared");
    EXPECT_EQ(o->poolsize, 16u);
    EXPECT_EQ(o->commitmode, store::commit_mode::archive);
    EXPECT_EQ(o->maxitemsize, 1000u);
}

TEST(PostgresSettings, BadValuesAreRefusedWithTheSettingNamed) {
    struct bad_case {
        const char* key;
        const char* value;
        const char* named;
    };
    for (const auto& c :
         {bad_case{"poolsize", "0", "mimestore.poolsize"},
          bad_case{"poolsize", "65", "mimestore.poolsize"},
          bad_case{"poolsize", "four", "mimestore.poolsize"},
          bad_case{"commitmode", "delete", "mimestore.commitmode"},
          bad_case{"maxitemsize", "0", "mimestore.maxitemsize"},
          bad_case{"maxitemsize", "1048576001", "mimestore.maxitemsize"},
          bad_case{"tablename", "x; drop table y", "mimestore.tablename"},
          bad_case{"dataservice", "postgresql://localhost/db?nosuchoption=1",
                   "mimestore.dataservice"},
          bad_case{"dataservice", "host=localhost bogus=1", "mimestore.dataservice"},
          bad_case{"mailbox", "\xff", "mimestore.mailbox"}}) {
        std::string why;
        EXPECT_EQ(store::validate_postgres_settings(config({{c.key, c.value}}), why),
                  errc::bad_setting_value)
            << c.key << "=" << c.value;
        EXPECT_TRUE(contains(why, c.named)) << why;
        // Building refuses the same, before connecting to anything.
        std::string build_why;
        auto s = store::make_postgres_store(config({{c.key, c.value}}), build_why);
        ASSERT_FALSE(s.has_value());
        EXPECT_EQ(s.error(), errc::bad_setting_value);
        EXPECT_EQ(build_why, why);
    }
}

// ---------------------------------------------------------------------------------------
// Against the server.

class PostgresStore : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_EQ(cluster().ensure_started(), "") << "no PostgreSQL"; }

    store::store_config cluster_config(const std::string& table) {
        return config({{"dataservice", cluster().uri()},
                       {"accesstoken", cluster().password()},
                       {"tablename", table}});
    }
};

TEST_F(PostgresStore, TableNameWithSqlIsRefusedAndNothingIsExecuted) {
    cluster().sql("CREATE TABLE public.y (v int)");
    cluster().sql("INSERT INTO public.y VALUES (42)");
    for (const char* name : {"x; drop table y", "public.y; DROP TABLE y", "y\"; DROP TABLE y; --",
                             "public.x' OR '1'='1"}) {
        std::string why;
        auto s = store::make_postgres_store(cluster_config(name), why);
        ASSERT_FALSE(s.has_value()) << name;
        EXPECT_EQ(s.error(), errc::bad_setting_value);
        EXPECT_TRUE(contains(why, "mimestore.tablename")) << why;
    }
    EXPECT_EQ(cluster().sql("SELECT v FROM public.y"), "42");
    cluster().sql("DROP TABLE public.y");
}

TEST_F(PostgresStore, NamesAreQuotedSoKeywordsAndCaseWork) {
    for (const char* name : {"public.select", "Mixed.Case_Table", "mixed.case_table"}) {
        std::string why;
        auto s = store::make_postgres_store(cluster_config(name), why);
        ASSERT_TRUE(s.has_value()) << name << ": " << why;
        add(**s, "m", std::string(name) + "\r\n");
    }
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM public.\"select\""), "1");
    EXPECT_EQ(cluster().sql("SELECT convert_from(payload, 'UTF8') FROM \"Mixed\".\"Case_Table\""),
              "Mixed.Case_Table\r\n");
    EXPECT_EQ(cluster().sql("SELECT convert_from(payload, 'UTF8') FROM mixed.case_table"),
              "mixed.case_table\r\n");
}

TEST_F(PostgresStore, CreatesSchemaTableIndexesAndMigrationRecord) {
    std::string why;
    auto s = store::make_postgres_store(cluster_config("archive2024.msgs"), why);
    ASSERT_TRUE(s.has_value()) << why;
    EXPECT_EQ((*s)->kind(), "postgres");
    EXPECT_EQ(cluster().sql("SELECT version FROM archive2024.izypop3_migrations "
                            "WHERE table_name = 'msgs'"),
              "2");
    EXPECT_EQ(cluster().sql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) "
                            "FROM information_schema.columns WHERE table_schema = 'archive2024' "
                            "AND table_name = 'msgs'"),
              "id,mailbox,uidl,source_id,fingerprint,size,wire_size,tags,status,group_id,"
              "message_time,created,payload,retrieved");
    EXPECT_EQ(cluster().sql("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) "
                            "FROM information_schema.columns WHERE table_schema = 'archive2024' "
                            "AND table_name = 'izypop3_logins'"),
              "table_name,mailbox,last_login");
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'archive2024' "
                            "AND tablename = 'msgs' AND indexdef LIKE '%USING gin (tags)%'"),
              "1");
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM pg_indexes WHERE schemaname = 'archive2024' "
                            "AND tablename = 'msgs' AND indexdef LIKE '%UNIQUE%(mailbox, uidl)%'"),
              "1");
    EXPECT_EQ(cluster().sql("SELECT attstorage FROM pg_attribute WHERE attrelid = "
                            "'archive2024.msgs'::regclass AND attname = 'payload'"),
              "e");
    // Opening again (another node, a restart) changes nothing.
    auto again = store::make_postgres_store(cluster_config("archive2024.msgs"), why);
    ASSERT_TRUE(again.has_value()) << why;
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM archive2024.izypop3_migrations"), "1");
}

// Group commit: 150 adds and a flush() cost a few WAL flushes, not one per add. The test
// cluster runs with fsync off, so what is counted is pg_stat_wal.wal_write: every commit
// that waits for the WAL writes it out (and would fsync it), async commits leave that to
// the WAL writer. Read once the store's sessions have ended (a session reports its
// statistics when it ends), the same adds without group commit alongside as the measure.
TEST_F(PostgresStore, GroupCommitFlushesTheWalOncePerBatch) {
    auto wal_syncs = [] {
        // The sessions end after the store closed them; wait until the count stops moving.
        std::string last = cluster().sql("SELECT wal_write FROM pg_stat_wal");
        for (int i = 0; i < 50; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            auto now = cluster().sql("SELECT wal_write FROM pg_stat_wal");
            if (now == last) break;
            last = now;
        }
        return std::stoll(last);
    };
    auto syncs_for = [&](bool group) {
        auto s = open_store(options_for(fresh_table()));
        if (!s) return -1LL;
        s->set_group_commit(group);
        const auto before = wal_syncs();
        for (int i = 0; i < 150; ++i)
            add(*s, "g" + std::to_string(i), "Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n");
        EXPECT_FALSE(s->flush());
        EXPECT_EQ(guids_of(*s).size(), 150u);
        s.reset();
        return wal_syncs() - before;
    };
    const auto each = syncs_for(false);
    const auto batched = syncs_for(true);
    std::cout << "WAL writes for 150 adds: " << each << " one by one, " << batched
              << " with group commit\n";
    EXPECT_GE(each, 150);
    EXPECT_LT(batched, each / 4);
}

TEST_F(PostgresStore, StatusColumnFollowsTheStatusTag) {
    const auto table = fresh_table();
    auto s = open_store(options_for(table));
    ASSERT_TRUE(s);
    add(*s, "st", "x\r\n");
    auto status = [&] {
        return cluster().sql("SELECT status || ' ' || array_to_string(tags, ',') FROM public." +
                             table + " WHERE uidl = 'st'");
    };
    EXPECT_EQ(status(), "unread unread");
    ASSERT_FALSE(s->mark(meta("st"), store::tag::archive));
    EXPECT_EQ(status(), "archive archive");
    ASSERT_FALSE(s->mark(meta("st"), "flagged"));
    EXPECT_EQ(status(), "archive archive,flagged");
    ASSERT_FALSE(s->mark(meta("st"), store::tag::unread));
    EXPECT_EQ(status(), "unread flagged,unread");
}

TEST_F(PostgresStore, NewerSchemaVersionIsRefused) {
    const auto table = fresh_table();
    ASSERT_TRUE(open_store(options_for(table)));
    cluster().sql("UPDATE public.izypop3_migrations SET version = 99 WHERE table_name = '" + table +
                  "'");
    std::string why;
    auto s = postgres_store::open(options_for(table), why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::unsupported);
    EXPECT_TRUE(contains(why, "schema version 99")) << why;
    EXPECT_TRUE(contains(why, "upgrade izypop3")) << why;
}

TEST_F(PostgresStore, TableNotCreatedByIzypop3IsRefused) {
    cluster().sql("CREATE TABLE public.someone_elses (x int)");
    std::string why;
    auto s = postgres_store::open(options_for("someone_elses"), why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::bad_config);
    EXPECT_TRUE(contains(why, "izypop3 did not create it")) << why;
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM information_schema.columns WHERE "
                            "table_name = 'someone_elses'"),
              "1");
}

TEST_F(PostgresStore, NodesStartingTogetherCreateSchemaAndTablesOnce) {
    // Six nodes start at once on a new schema: three on one table, three on another.
    const std::string schema = "fresh_" + fresh_table();
    const std::vector<std::string> tables{fresh_table(), fresh_table()};
    constexpr int nodes = 6;
    std::latch go(nodes);
    std::vector<std::string> failures(nodes);
    std::vector<std::thread> threads;
    for (int i = 0; i < nodes; ++i) {
        threads.emplace_back([&, i] {
            auto o = options_for(tables[static_cast<std::size_t>(i % 2)]);
            o.schema = schema;
            go.arrive_and_wait();
            std::string why;
            auto s = postgres_store::open(o, why);
            if (!s) failures[static_cast<std::size_t>(i)] = why.empty() ? "failed" : why;
        });
    }
    for (auto& t : threads) t.join();
    for (const auto& f : failures) EXPECT_EQ(f, "");
    EXPECT_EQ(cluster().sql("SELECT string_agg(table_name || '=' || version, ',' ORDER BY "
                            "table_name) FROM " + schema + ".izypop3_migrations"),
              tables[0] + "=2," + tables[1] + "=2");
}

TEST_F(PostgresStore, RoleThatMayOnlyUseRowsWorksOnAnExistingTable) {
    const auto table = fresh_table();
    ASSERT_TRUE(open_store(options_for(table)));
    cluster().sql("DROP ROLE IF EXISTS izypop3_rw");
    cluster().sql("CREATE ROLE izypop3_rw LOGIN PASSWORD 'rw-pass'");
    cluster().sql("GRANT USAGE ON SCHEMA public TO izypop3_rw");
    cluster().sql("GRANT SELECT ON public.izypop3_migrations TO izypop3_rw");
    cluster().sql("GRANT SELECT, INSERT, UPDATE, DELETE ON public." + table + " TO izypop3_rw");
    auto rw = options_for(table);
    rw.dataservice = "postgresql://izypop3_rw@127.0.0.1:" + cluster().port() + "/izypop3_test";
    rw.accesstoken = "rw-pass";
    auto s = open_store(rw);
    ASSERT_TRUE(s);
    EXPECT_EQ(add(*s, "small", "small\r\n"), add_outcome::added);
    const std::string big = test::conformance_bytes(5 * 1024 * 1024, 3);  // via a large object
    EXPECT_EQ(add(*s, "big", big), add_outcome::added);
    auto md = s->open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    EXPECT_EQ(read_message(**md, 1), big);
    const std::vector<std::size_t> dele{0};
    EXPECT_FALSE((*md)->commit_deletions(dele));
    md->reset();
    EXPECT_EQ(guids_of(*s), std::vector<std::string>{"big"});

    // What is missing it may not create, and says so.
    std::string why;
    auto other = postgres_store::open(
        [&] {
            auto o = rw;
            o.table = fresh_table();
            return o;
        }(),
        why);
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error(), errc::read_only);
    EXPECT_TRUE(contains(why, "permission denied")) << why;
    EXPECT_TRUE(contains(why, "may create tables")) << why;
}

TEST_F(PostgresStore, WrongPasswordIsAClearError) {
    auto o = options_for(fresh_table());
    o.accesstoken = "not-the-password";
    std::string why;
    auto s = postgres_store::open(o, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::bad_config);
    EXPECT_TRUE(contains(why, "refused the connection")) << why;
    EXPECT_TRUE(contains(why, "password authentication failed")) << why;
    EXPECT_TRUE(contains(why, "mimestore.accesstoken")) << why;
    EXPECT_FALSE(contains(why, "not-the-password")) << why;
    EXPECT_FALSE(contains(why, "\n")) << why;
}

TEST_F(PostgresStore, MissingPasswordIsAClearErrorAndPgpasswordIsUsed) {
    scoped_env no_password("PGPASSWORD", nullptr);
    scoped_env no_file("PGPASSFILE", "/nonexistent/izypop3-pgpass");
    auto o = options_for(fresh_table());
    o.accesstoken.clear();
    std::string why;
    auto s = postgres_store::open(o, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::bad_config);
    EXPECT_TRUE(contains(why, "asks for a password")) << why;
    EXPECT_TRUE(contains(why, "mimestore.accesstoken, PGPASSWORD or a ~/.pgpass entry")) << why;

    scoped_env from_env("PGPASSWORD", cluster().password().c_str());
    auto ok = postgres_store::open(o, why);
    ASSERT_TRUE(ok.has_value()) << why;
    EXPECT_EQ(add(**ok, "env", "x\r\n"), add_outcome::added);
}

TEST_F(PostgresStore, UnreachableServerIsAClearError) {
    auto o = options_for(fresh_table());
    o.dataservice =
        "postgresql://izypop3_test@127.0.0.1:" + std::to_string(closed_port()) + "/izypop3_test";
    std::string why;
    auto s = postgres_store::open(o, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::io_error);
    EXPECT_TRUE(contains(why, "cannot connect to PostgreSQL")) << why;
    EXPECT_TRUE(contains(why, "Connection refused")) << why;
    EXPECT_TRUE(contains(why, "check mimestore.dataservice")) << why;
}

TEST_F(PostgresStore, SslModeFromTheUriIsHonoured) {
    auto o = options_for(fresh_table());
    o.dataservice = cluster().uri() + "?sslmode=require";  // the test server has no TLS
    std::string why;
    auto s = postgres_store::open(o, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_TRUE(contains(why, "SSL")) << why;
    o.dataservice = cluster().uri() + "?sslmode=disable";
    EXPECT_TRUE(postgres_store::open(o, why).has_value()) << why;
}

TEST_F(PostgresStore, UnixSocketUriWorks) {
    auto o = options_for(fresh_table());
    o.dataservice = cluster().socket_uri();
    auto s = open_store(o);
    ASSERT_TRUE(s);
    EXPECT_EQ(add(*s, "sock", "over the socket\r\n"), add_outcome::added);
    EXPECT_EQ(guids_of(*s), std::vector<std::string>{"sock"});
}

TEST_F(PostgresStore, EachUserIsServedTheirOwnMailbox) {
    auto s = open_store(options_for(fresh_table()));
    ASSERT_TRUE(s);
    add(*s, "a1", "a1\r\n", "alice");
    add(*s, "b1", "b1\r\n", "bob");
    add(*s, "a2", "a2\r\n", "alice");
    add(*s, "same-guid", "alice's\r\n", "alice");
    EXPECT_EQ(add(*s, "same-guid", "bob's\r\n", "bob"), add_outcome::added);  // not a dup

    auto alice = s->open_maildrop("alice");
    ASSERT_TRUE(alice.has_value());
    auto bob = s->open_maildrop("bob");  // another mailbox, another lock
    ASSERT_TRUE(bob.has_value());
    EXPECT_EQ(uids(**alice), (std::vector<std::string>{"a1", "a2", "same-guid"}));
    EXPECT_EQ(uids(**bob), (std::vector<std::string>{"b1", "same-guid"}));
    EXPECT_EQ(read_message(**bob, 1), "bob's\r\n");
    auto carol = s->open_maildrop("carol");
    ASSERT_TRUE(carol.has_value());
    EXPECT_TRUE((*carol)->messages().empty());

    EXPECT_EQ(guids_of(*s, "bob"), (std::vector<std::string>{"b1", "same-guid"}));
    EXPECT_EQ(guids_of(*s).size(), 5u);
    // Bob's deletion touches bob's row only, though alice has the same guid.
    const std::vector<std::size_t> dele{1};
    ASSERT_FALSE((*bob)->commit_deletions(dele));
    EXPECT_EQ(guids_of(*s, "bob"), std::vector<std::string>{"b1"});
    EXPECT_EQ(guids_of(*s, "alice"), (std::vector<std::string>{"a1", "a2", "same-guid"}));
}

// RFC 2449 LOGIN-DELAY across nodes: two stores on one table are two server nodes. The
// times are passed in, so no test waits.
TEST_F(PostgresStore, LoginTimesAreSharedByEveryNodeOnTheTable) {
    const auto table = fresh_table();
    auto node1 = open_store(options_for(table));
    auto node2 = open_store(options_for(table));
    auto other = open_store(options_for(fresh_table()));
    ASSERT_TRUE(node1 && node2 && other);
    using std::chrono::seconds;
    const auto t0 = std::chrono::system_clock::time_point(seconds(1'800'000'000));
    EXPECT_EQ(node1->record_login("alice", t0, seconds(60)).value(), 0u);
    EXPECT_EQ(node2->record_login("alice", t0 + seconds(10), seconds(60)).value(), 50u);
    EXPECT_EQ(node2->record_login("bob", t0 + seconds(10), seconds(60)).value(), 0u);
    EXPECT_EQ(other->record_login("alice", t0 + seconds(10), seconds(60)).value(), 0u)
        << "another message table is another set of mailboxes";
    // A refused login is not recorded: the delay still counts from t0.
    EXPECT_EQ(node1->record_login("alice", t0 + seconds(59), seconds(60)).value(), 1u);
    EXPECT_EQ(node1->record_login("alice", t0 + seconds(60), seconds(60)).value(), 0u);
    EXPECT_EQ(
        node2->record_login("alice", t0 + std::chrono::milliseconds(60'500), seconds(60)).value(),
        60u)
        << "rounded up, never too early";
    // A shorter delay for the same mailbox (another user's setting) is judged on its own.
    EXPECT_EQ(node2->record_login("alice", t0 + seconds(65), seconds(5)).value(), 0u);
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM public.izypop3_logins WHERE table_name = '" +
                            table + "'"),
              "2");
}

TEST_F(PostgresStore, LoginsOfManyNodesAtOnceAdmitOne) {
    const auto table = fresh_table();
    constexpr int nodes = 6;
    std::vector<std::unique_ptr<postgres_store>> stores;
    for (int i = 0; i < nodes; ++i) stores.push_back(open_store(options_for(table)));
    const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    std::latch go(nodes);
    std::vector<std::uint32_t> waits(nodes, 99);
    std::vector<std::thread> threads;
    for (int i = 0; i < nodes; ++i) {
        threads.emplace_back([&, i] {
            go.arrive_and_wait();
            auto r = stores[static_cast<std::size_t>(i)]->record_login("alice", now,
                                                                       std::chrono::seconds(300));
            waits[static_cast<std::size_t>(i)] = r ? *r : 12345;
        });
    }
    for (auto& t : threads) t.join();
    std::sort(waits.begin(), waits.end());
    EXPECT_EQ(waits, (std::vector<std::uint32_t>{0, 300, 300, 300, 300, 300}));
}

// RFC 2449 EXPIRE DAYS: the first retrieval counts, and expire_retrieved removes (or
// archives) what was retrieved before the cutoff, never what was not retrieved.
TEST_F(PostgresStore, RetrievalTimesAndExpiry) {
    for (const auto mode : {store::commit_mode::remove, store::commit_mode::archive}) {
        auto o = options_for(fresh_table());
        o.commitmode = mode;
        auto s = open_store(o);
        ASSERT_TRUE(s);
        for (const char* g : {"m1", "m2", "m3", "m4"}) add(*s, g, std::string(g) + "\r\n");
        add(*s, "b1", "b1\r\n", "bob");
        using std::chrono::hours;
        const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
        auto retrieved = [&](const char* guid) {
            return cluster().sql(
                "SELECT coalesce(extract(epoch FROM retrieved)::bigint::text, "
                "'-') FROM public." +
                o.table + " WHERE uidl = '" + guid + "'");
        };
        {
            auto md = s->open_maildrop("alice");
            ASSERT_TRUE(md.has_value());
            const std::vector<std::size_t> first{0, 1};
            ASSERT_FALSE((*md)->record_retrieval(first, t0));
        }
        {
            auto md = s->open_maildrop("alice");
            ASSERT_TRUE(md.has_value());
            const std::vector<std::size_t> again{1, 2};
            ASSERT_FALSE((*md)->record_retrieval(again, t0 + hours(48)));
        }
        EXPECT_EQ(retrieved("m1"), "1800000000");
        EXPECT_EQ(retrieved("m2"), "1800000000") << "the first retrieval counts";
        EXPECT_EQ(retrieved("m3"), "1800172800");
        EXPECT_EQ(retrieved("m4"), "-");
        EXPECT_EQ(s->expire_retrieved("alice", t0).value(), 0u) << "before the cutoff only";
        EXPECT_EQ(s->expire_retrieved("bob", t0 + hours(100)).value(), 0u);
        EXPECT_EQ(s->expire_retrieved("alice", t0 + hours(24)).value(), 2u);
        auto md = s->open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        EXPECT_EQ(uids(**md), (std::vector<std::string>{"m3", "m4"}));
        md->reset();
        if (mode == store::commit_mode::archive) {
            EXPECT_EQ(cluster().sql("SELECT string_agg(uidl || '=' || status, ',' ORDER BY id) "
                                    "FROM public." +
                                    o.table + " WHERE mailbox = 'alice'"),
                      "m1=archive,m2=archive,m3=unread,m4=unread");
        } else {
            EXPECT_EQ(guids_of(*s, "alice"), (std::vector<std::string>{"m3", "m4"}));
        }
        // Expired ones are not expired again.
        EXPECT_EQ(s->expire_retrieved("alice", t0 + hours(24)).value(), 0u);
    }
}

TEST_F(PostgresStore, PinnedMailboxServesEveryUser) {
    auto o = options_for(fresh_table());
    o.mailbox = "shared";
    auto s = open_store(o);
    ASSERT_TRUE(s);
    add(*s, "p1", "p1\r\n", "whoever");  // stored in the pinned mailbox
    add(*s, "p2", "p2\r\n", "");
    EXPECT_EQ(guids_of(*s, "shared"), (std::vector<std::string>{"p1", "p2"}));
    EXPECT_TRUE(guids_of(*s, "whoever").empty());
    EXPECT_EQ(cluster().sql("SELECT string_agg(DISTINCT mailbox, ',') FROM public." + o.table),
              "shared");
    {
        auto alice = s->open_maildrop("alice");
        ASSERT_TRUE(alice.has_value());
        EXPECT_EQ(uids(**alice), (std::vector<std::string>{"p1", "p2"}));
        auto bob = s->open_maildrop("bob");  // the same mailbox, so the same lock
        ASSERT_FALSE(bob.has_value());
        EXPECT_EQ(bob.error(), errc::in_use);
    }
    auto bob = s->open_maildrop("bob");
    ASSERT_TRUE(bob.has_value());
    EXPECT_EQ(uids(**bob), (std::vector<std::string>{"p1", "p2"}));
    ASSERT_FALSE(s->mark(meta("p1", "anything"), store::tag::archive));
    EXPECT_EQ(guids_of(*s, "shared").size(), 2u);
}

TEST_F(PostgresStore, TwoNodesOpeningOneMaildropExactlyOneWins) {
    const auto o = options_for(fresh_table());
    auto node_a = open_store(o);
    auto node_b = open_store(o);
    ASSERT_TRUE(node_a && node_b);
    add(*node_a, "n1", "n1\r\n");
    for (int round = 0; round < 10; ++round) {
        std::latch go(2);
        std::vector<boost::system::result<std::unique_ptr<core::maildrop>>> got;
        got.reserve(2);
        std::mutex mu;
        auto attempt = [&](postgres_store& node) {
            go.arrive_and_wait();
            auto md = node.open_maildrop("alice");
            std::lock_guard lock(mu);
            got.push_back(std::move(md));
        };
        std::thread a(attempt, std::ref(*node_a));
        std::thread b(attempt, std::ref(*node_b));
        a.join();
        b.join();
        ASSERT_EQ(got.size(), 2u);
        int won = 0, in_use = 0;
        for (auto& r : got) {
            if (r) {
                ++won;
                EXPECT_EQ(uids(**r), std::vector<std::string>{"n1"});
            } else {
                in_use += r.error() == errc::in_use;
            }
        }
        EXPECT_EQ(won, 1) << "round " << round;
        EXPECT_EQ(in_use, 1) << "round " << round;
    }
}

TEST_F(PostgresStore, DeletionsOnOneNodeAreSeenByTheNextSessionOnAnother) {
    const auto o = options_for(fresh_table());
    auto node_a = open_store(o);
    auto node_b = open_store(o);
    ASSERT_TRUE(node_a && node_b);
    for (const char* g : {"x1", "x2", "x3"}) add(*node_a, g, std::string(g) + "\r\n");
    {
        auto md = node_a->open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        auto busy = node_b->open_maildrop("alice");
        ASSERT_FALSE(busy.has_value());
        EXPECT_EQ(busy.error(), errc::in_use);
        const std::vector<std::size_t> dele{1};
        ASSERT_FALSE((*md)->commit_deletions(dele));
    }
    // At once, no retry: the lock was released before the maildrop was gone.
    auto md = node_b->open_maildrop("alice");
    ASSERT_TRUE(md.has_value()) << md.error().message();
    EXPECT_EQ(uids(**md), (std::vector<std::string>{"x1", "x3"}));
    EXPECT_EQ(read_message(**md, 1), "x3\r\n");
}

TEST_F(PostgresStore, ArchiveCommitModeKeepsTheRows) {
    auto o = options_for(fresh_table());
    o.commitmode = store::commit_mode::archive;
    auto s = open_store(o);
    ASSERT_TRUE(s);
    for (const char* g : {"k1", "k2"}) add(*s, g, std::string(g) + "\r\n");
    ASSERT_FALSE(s->mark(meta("k1"), "flagged"));
    {
        auto md = s->open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        const std::vector<std::size_t> dele{0};
        ASSERT_FALSE((*md)->commit_deletions(dele));
    }
    EXPECT_EQ(guids_of(*s), (std::vector<std::string>{"k1", "k2"}));
    EXPECT_EQ(cluster().sql("SELECT status || ' ' || array_to_string(tags, ',') FROM public." +
                            o.table + " WHERE uidl = 'k1'"),
              "archive flagged,archive");
    auto md = s->open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    EXPECT_EQ(uids(**md), std::vector<std::string>{"k2"});
}

TEST_F(PostgresStore, UpdateIsAllOrNothing) {
    const auto o = options_for(fresh_table());
    auto s = open_store(o);
    ASSERT_TRUE(s);
    for (const char* g : {"u1", "u2", "u3", "u4"}) add(*s, g, std::string(g) + "\r\n");
    // A server-side failure on the third row of the deletion.
    cluster().sql(
        "CREATE FUNCTION public.refuse_u3() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF OLD.uidl = 'u3' THEN RAISE EXCEPTION 'u3 is pinned'; END IF; RETURN OLD; END $$");
    cluster().sql("CREATE TRIGGER refuse_u3 BEFORE DELETE ON public." + o.table +
                  " FOR EACH ROW EXECUTE FUNCTION public.refuse_u3()");
    {
        auto md = s->open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        const std::vector<std::size_t> dele{0, 1, 2};
        auto ec = (*md)->commit_deletions(dele);
        EXPECT_EQ(ec, errc::io_error);
        EXPECT_TRUE(contains(s->last_error(), "u3 is pinned")) << s->last_error();
    }
    EXPECT_EQ(guids_of(*s), (std::vector<std::string>{"u1", "u2", "u3", "u4"}));
    cluster().sql("DROP TRIGGER refuse_u3 ON public." + o.table);
    cluster().sql("DROP FUNCTION public.refuse_u3()");
    {
        auto md = s->open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        const std::vector<std::size_t> dele{0, 1, 2};
        EXPECT_FALSE((*md)->commit_deletions(dele));
    }
    EXPECT_EQ(guids_of(*s), std::vector<std::string>{"u4"});
}

TEST_F(PostgresStore, LockIsTheDocumentedAdvisoryLock) {
    const auto o = options_for(fresh_table());
    auto s = open_store(o);
    ASSERT_TRUE(s);
    // docs/postgres.md: the first 8 octets of SHA-256("izypop3\0maildrop\0" schema.table
    // "\0" mailbox); pg_locks shows the high half as classid and the low half as objid.
    std::string material = "izypop3";
    material.push_back('\0');
    material += "maildrop";
    material.push_back('\0');
    material += "public." + o.table;
    material.push_back('\0');
    material += "alice";
    const std::string hex = test::conformance_sha256(material);
    const auto classid = std::stoul(hex.substr(0, 8), nullptr, 16);
    const auto objid = std::stoul(hex.substr(8, 8), nullptr, 16);
    const std::string lock_query =
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = " +
        std::to_string(classid) + " AND objid = " + std::to_string(objid) + " AND objsubid = 1";
    {
        auto md = s->open_maildrop("alice");
        ASSERT_TRUE(md.has_value());
        EXPECT_EQ(cluster().sql(lock_query), "1");
    }
    EXPECT_EQ(cluster().sql(lock_query), "0");
}

TEST_F(PostgresStore, KilledLockHolderReleasesTheLockAndDeletesNothing) {
    const auto o = options_for(fresh_table());
    auto s = open_store(o);
    ASSERT_TRUE(s);
    add(*s, "h1", "h1\r\n");
    add(*s, "h2", "h2\r\n");
    child_process child;
    spawn_lock_holder(child, o, "alice");
    ASSERT_EQ(read_line(child.out), "locked 2");

    auto busy = s->open_maildrop("alice");
    ASSERT_FALSE(busy.has_value());
    EXPECT_EQ(busy.error(), errc::in_use);

    ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
    child.pid = -1;
    ASSERT_TRUE(WIFSIGNALED(status));

    // The server notices the closed connection and frees the lock; how soon depends on the
    // machine's load, so the test waits up to a minute.
    boost::system::result<std::unique_ptr<core::maildrop>> md = errc::in_use;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        md = s->open_maildrop("alice");
        if (md || md.error() != errc::in_use) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(md.has_value()) << md.error().message();
    EXPECT_EQ(uids(**md), (std::vector<std::string>{"h1", "h2"}));
}

// SECURITY C17: a backup client DELEs a message once the store's COMMIT returned, so the
// store's sessions never run with asynchronous commit, whatever the server's default; a
// stricter setting the administrator chose is kept.
TEST_F(PostgresStore, AsynchronousCommitConfiguredOnTheServerIsOverridden) {
    struct reset_on_exit {
        ~reset_on_exit() { cluster().sql("ALTER DATABASE izypop3_test RESET synchronous_commit"); }
    } reset;
    auto setting_of_a_store_session = [] {
        std::string why;
        auto c = store::detail::pg_connection::open({cluster().uri(), cluster().password()}, why);
        EXPECT_TRUE(c.has_value()) << why;
        if (!c) return std::string();
        auto r = (*c)->exec("SHOW synchronous_commit");
        EXPECT_TRUE(r.has_value());
        return r ? std::string(PQgetvalue(r->get(), 0, 0)) : std::string();
    };
    cluster().sql("ALTER DATABASE izypop3_test SET synchronous_commit = off");
    EXPECT_EQ(cluster().sql("SHOW synchronous_commit"), "off");  // what any other session gets
    EXPECT_EQ(setting_of_a_store_session(), "on");
    cluster().sql("ALTER DATABASE izypop3_test SET synchronous_commit = remote_apply");
    EXPECT_EQ(setting_of_a_store_session(), "remote_apply");
    // And an add through the store commits with it: the row is there for a new session.
    cluster().sql("ALTER DATABASE izypop3_test SET synchronous_commit = off");
    const auto table = fresh_table();
    auto s = open_store(options_for(table));
    ASSERT_TRUE(s);
    add(*s, "durable", "x\r\n");
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM public." + table + " WHERE uidl = 'durable'"),
              "1");
}

TEST_F(PostgresStore, DatabaseGoingAwayMidSessionFailsCleanlyAndLosesNothing) {
    const auto o = options_for(fresh_table());
    auto s = open_store(o);
    ASSERT_TRUE(s);
    const std::string big = test::conformance_bytes(3 * 1024 * 1024, 11);
    add(*s, "g1", "g1\r\n");
    add(*s, "g2", "g2\r\n");
    add(*s, "g3", big);

    auto md = s->open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    EXPECT_EQ(read_message(**md, 0), "g1\r\n");
    auto reading = (*md)->open(2);
    ASSERT_TRUE(reading.has_value());
    std::vector<char> buf(65536);
    ASSERT_TRUE((*reading)->read(buf).has_value());

    cluster().stop();

    // The rest of the big message lies beyond the first piece.
    boost::system::result<std::size_t> n = std::size_t{1};
    while (n && *n > 0) n = (*reading)->read(buf);
    ASSERT_FALSE(n.has_value());
    EXPECT_EQ(n.error(), errc::io_error);
    auto opened = (*md)->open(1);
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error(), errc::io_error);
    const std::vector<std::size_t> dele{0, 1};
    EXPECT_EQ((*md)->commit_deletions(dele), errc::io_error);
    auto q = s->query(query_options{});
    ASSERT_FALSE(q.has_value());
    EXPECT_EQ(q.error(), errc::io_error);
    auto added = store::add_item(*s, meta("g4"), "g4\r\n");
    ASSERT_FALSE(added.has_value());
    EXPECT_EQ(added.error(), errc::io_error);
    auto other = s->open_maildrop("bob");
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error(), errc::io_error);
    EXPECT_EQ(store::to_maildrop_failure(other.error()), core::maildrop_failure::temporary);
    EXPECT_FALSE(s->last_error().empty());
    reading->reset();
    md->reset();

    cluster().restart();

    // The same store object recovers: its stale connections are replaced.
    EXPECT_EQ(guids_of(*s), (std::vector<std::string>{"g1", "g2", "g3"}));
    auto again = s->open_maildrop("alice");
    ASSERT_TRUE(again.has_value()) << again.error().message();
    EXPECT_EQ(uids(**again), (std::vector<std::string>{"g1", "g2", "g3"}));
    EXPECT_EQ(read_message(**again, 2), big);
}

TEST_F(PostgresStore, LargeMessagesStreamThroughLargeObjectsAndLeaveNone) {
    auto s = open_store(options_for(fresh_table()));
    ASSERT_TRUE(s);
    const std::string big = test::conformance_bytes(9 * 1024 * 1024 + 5, 21);
    auto w = s->begin_add(meta("huge"));
    ASSERT_TRUE(w.has_value());
    for (std::size_t at = 0; at < big.size(); at += 100000)
        ASSERT_FALSE((*w)->write(std::string_view(big).substr(at, 100000)));
    auto r = (*w)->commit();
    ASSERT_TRUE(r.has_value()) << s->last_error();
    EXPECT_EQ(*r, add_outcome::added);
    EXPECT_EQ(add(*s, "huge", big), add_outcome::already_present);
    std::string other = big;
    other.back() ^= 1;
    EXPECT_EQ(add(*s, "huge", other), add_outcome::duplicate);
    EXPECT_EQ(cluster().sql("SELECT count(*) FROM pg_largeobject_metadata"), "0");

    auto md = s->open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    ASSERT_EQ(uids(**md), std::vector<std::string>{"huge"});
    core::wire_size_counter wire;
    wire.add(big);
    EXPECT_EQ((*md)->messages()[0].size, wire.finish());
    EXPECT_TRUE(read_message(**md, 0) == big);
}

// A POP3 session reads a big message's pieces pipelined on its one connection (a few asked
// for ahead). Each one arrives byte for byte, in order, and a message abandoned part-way
// (TOP, a client gone) leaves the connection fit for the rest of the session: the next
// message, the UPDATE and the unlock.
TEST_F(PostgresStore, PipelinedPiecesArriveInOrderAndAnAbandonedMessageLeavesTheSessionWorking) {
    auto s = open_store(options_for(fresh_table()));
    ASSERT_TRUE(s);
    const std::string big = test::conformance_bytes(7 * 1024 * 1024 + 3, 5);  // 8 pieces
    const std::string other = test::conformance_bytes(3 * 1024 * 1024 - 1, 6);
    EXPECT_EQ(add(*s, "big", big), add_outcome::added);
    EXPECT_EQ(add(*s, "other", other), add_outcome::added);
    EXPECT_EQ(add(*s, "small", "small\r\n"), add_outcome::added);
    auto md = s->open_maildrop("alice");
    ASSERT_TRUE(md.has_value());
    for (int round = 0; round < 2; ++round) {
        {
            auto src = (*md)->open(0);
            ASSERT_TRUE(src.has_value());
            EXPECT_EQ((*src)->buffered(), 1024u * 1024u);  // the first piece came with open
            std::string part(1024 * 1024 + 10, '\0');
            std::size_t got = 0;
            while (got < part.size()) {
                auto n = (*src)->read(std::span<char>(part.data() + got, part.size() - got));
                ASSERT_TRUE(n.has_value());
                got += *n;
            }
            EXPECT_TRUE(part == big.substr(0, part.size()));
        }  // abandoned with pieces on their way
        EXPECT_TRUE(read_message(**md, 1) == other);
        EXPECT_EQ(read_message(**md, 2), "small\r\n");
    }
    EXPECT_TRUE(read_message(**md, 0) == big);
    const std::vector<std::size_t> dele{2};
    EXPECT_FALSE((*md)->commit_deletions(dele));
    md->reset();
    auto again = s->open_maildrop("alice");
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(uids(**again), (std::vector<std::string>{"big", "other"}));
}

// Reading a maildrop in order costs one round trip per window of small messages, not one
// per message: the ones after a miss come with it, open from memory (opens_at_once(), which
// lets the server open them on its I/O thread) and read byte for byte as stored. A message
// over the per-message bound ends the window; a miss elsewhere starts a new one.
TEST_F(PostgresStore, SmallMessagesAreFetchedAheadInOneRoundTrip) {
    auto s = open_store(options_for(fresh_table()));
    ASSERT_TRUE(s);
    std::vector<std::string> bodies;
    for (int i = 0; i < 40; ++i) {
        const std::size_t size = i == 10 ? 100 * 1024 : 500 + 97 * static_cast<std::size_t>(i);
        bodies.push_back(test::conformance_bytes(size, static_cast<unsigned>(i)));
        ASSERT_EQ(add(*s, "m" + std::to_string(i), bodies.back()), add_outcome::added);
    }
    auto opened = s->open_maildrop("alice");
    ASSERT_TRUE(opened.has_value());
    core::maildrop& md = **opened;
    EXPECT_FALSE(md.opens_at_once(0));
    EXPECT_TRUE(read_message(md, 0) == bodies[0]);
    for (std::size_t i = 1; i < 10; ++i) EXPECT_TRUE(md.opens_at_once(i)) << i;
    EXPECT_FALSE(md.opens_at_once(10));  // 100 KiB: over the bound, read from the database
    for (std::size_t i = 1; i < 10; ++i) {
        auto src = md.open(i);
        ASSERT_TRUE(src.has_value());
        EXPECT_TRUE((*src)->reads_at_once());
        std::string got((*src)->buffered(), '\0');
        ASSERT_EQ(got.size(), bodies[i].size()) << i;
        ASSERT_EQ(*(*src)->read(got), got.size());
        EXPECT_TRUE(got == bodies[i]) << i;
        EXPECT_EQ(*(*src)->read(got), 0u);
        EXPECT_FALSE(md.opens_at_once(i));  // handed over once
    }
    EXPECT_TRUE(read_message(md, 10) == bodies[10]);
    EXPECT_TRUE(md.opens_at_once(11));
    // Budgets: at most ahead_count messages and ahead_octets in all after the one asked for.
    std::size_t ahead = 0;
    std::uint64_t octets = 0;
    for (std::size_t i = 11; i < bodies.size() && md.opens_at_once(i); ++i, ++ahead)
        octets += bodies[i].size();
    EXPECT_GT(ahead, 1u);
    EXPECT_LE(ahead, store::detail::pg_maildrop::ahead_count);
    EXPECT_LE(octets, store::detail::pg_maildrop::ahead_octets);
    // A miss (message 5 again: handed over already) lets the old window go and starts one
    // from there, which ends before the big message.
    EXPECT_TRUE(read_message(md, 5) == bodies[5]);
    EXPECT_FALSE(md.opens_at_once(11));
    for (std::size_t i = 6; i < 10; ++i) EXPECT_TRUE(md.opens_at_once(i)) << i;
    for (std::size_t i = 11; i < bodies.size(); ++i)
        EXPECT_TRUE(read_message(md, i) == bodies[i]) << i;
}

TEST_F(PostgresStore, MaxItemSizeIsEnforcedWhileWriting) {
    auto o = options_for(fresh_table());
    o.maxitemsize = 1000;
    auto s = open_store(o);
    ASSERT_TRUE(s);
    EXPECT_EQ(add(*s, "fits", std::string(1000, 'a')), add_outcome::added);
    auto w = s->begin_add(meta("too-big"));
    ASSERT_TRUE(w.has_value());
    ASSERT_FALSE((*w)->write(std::string(600, 'b')));
    EXPECT_EQ((*w)->write(std::string(401, 'b')), errc::unsupported);
    EXPECT_TRUE(contains(s->last_error(), "mimestore.maxitemsize")) << s->last_error();
    EXPECT_EQ((*w)->write("b"), errc::writer_finished);
    EXPECT_EQ(guids_of(*s), std::vector<std::string>{"fits"});
}

TEST_F(PostgresStore, TextPostgresCannotStoreIsAnInvalidItem) {
    auto s = open_store(options_for(fresh_table()));
    ASSERT_TRUE(s);
    auto refused = [&](store::item m) {
        auto w = s->begin_add(std::move(m));
        return !w && w.error() == errc::invalid_item;
    };
    EXPECT_TRUE(refused(meta("\xff\xfe")));
    EXPECT_TRUE(refused(meta(std::string("a\0b", 3))));
    EXPECT_TRUE(refused(meta("a\r\nb")));
    EXPECT_TRUE(refused(meta(std::string(1001, 'g'))));
    EXPECT_TRUE(refused(meta("ok", "\xc0\xaf")));  // an overlong '/'
    auto tagged = meta("ok");
    tagged.tags = {"fine", std::string("nul\0", 4)};
    EXPECT_TRUE(refused(tagged));
    EXPECT_EQ(add(*s, std::string(1000, 'g'), "long guid\r\n"), add_outcome::added);
    EXPECT_EQ(add(*s, "\xe2\x82\xac", "euro\r\n"), add_outcome::added);
    EXPECT_EQ(s->mark(meta("\xe2\x82\xac"), std::string("x\0", 2)), errc::invalid_item);
    auto md = s->open_maildrop("\xff");
    ASSERT_FALSE(md.has_value());
    EXPECT_EQ(md.error(), errc::no_such_mailbox);
}

TEST_F(PostgresStore, ConnectionsStayWithinPoolsize) {
    auto o = options_for(fresh_table());
    o.poolsize = 2;
    // Its own application name, so connections of other tests' stores (whose backends may
    // still be exiting) are not counted.
    o.dataservice += "?application_name=izypop3_pool_test";
    auto s = open_store(o);
    ASSERT_TRUE(s);
    for (int i = 0; i < 5; ++i) add(*s, "c" + std::to_string(i), "c\r\n");
    const std::string count_query =
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'izypop3_pool_test'";
    std::atomic<bool> done{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 6; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < 150; ++i) {
                query_options q;
                q.limit = query_options::unlimited;
                auto r = s->query(q);
                if (!r || r->count != 5) ++failures;
            }
        });
    }
    int most = 0;
    std::thread monitor([&] {
        while (!done) {
            most = std::max(most, std::stoi("0" + cluster().sql(count_query)));
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    for (auto& w : workers) w.join();
    done = true;
    monitor.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_GE(most, 1);
    EXPECT_LE(most, 2);
    EXPECT_LE(std::stoi("0" + cluster().sql(count_query)), 2);
}

}  // namespace
