// mimestore.verbose: the logged store behaves exactly like the store it wraps (the whole
// conformance suite, on the fake and the localfs store), writes one line per operation with
// its outcome and duration, and the factory wraps any store when asked, refuses a bad value,
// and refuses to wrap without a log.

#include "dir_store_test_support.hpp"
#include "store_conformance.hpp"

#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/localfs_store.hpp>
#include <izypop3/store/logged_store.hpp>
#include <izypop3/store/store_factory.hpp>

#include <gtest/gtest.h>

#include <mutex>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace izypop3 {
namespace {

struct captured_lines {
    std::mutex mu;
    std::vector<std::string> lines;
    store::store_log sink() {
        return [this](std::string_view line) {
            const std::lock_guard lock(mu);
            lines.emplace_back(line);
        };
    }
    // The lines written since the last call.
    std::vector<std::string> take() {
        const std::lock_guard lock(mu);
        return std::exchange(lines, {});
    }
};

test::store_backend logged(test::store_backend inner) {
    test::store_backend b = inner;
    b.name = "logged_" + inner.name;
    b.make = [make = inner.make]() -> std::unique_ptr<store::mime_store> {
        auto s = make();
        if (!s) return nullptr;
        // Lines are formatted for every call, so the suite also exercises the formatting.
        return store::make_logged_store(std::move(s), [](std::string_view) {});
    };
    return b;
}

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

}  // namespace

using test::StoreConformance;
INSTANTIATE_TEST_SUITE_P(Logged, StoreConformance,
                         ::testing::Values(logged(fake_backend()),
                                           logged(test::dir_backend<store::localfs_store>("localfs",
                                                                                          true))),
                         test::backend_name);

namespace {

// Each line must match its pattern, in order; "MS" stands for a duration.
void expect_lines(const std::vector<std::string>& got, const std::vector<std::string>& want) {
    ASSERT_EQ(got.size(), want.size()) << ::testing::PrintToString(got);
    for (std::size_t i = 0; i < want.size(); ++i) {
        std::string pattern = want[i];
        for (std::size_t at; (at = pattern.find("MS")) != std::string::npos;)
            pattern.replace(at, 2, "[0-9]+\\.[0-9]{3} ms");
        EXPECT_TRUE(std::regex_match(got[i], std::regex(pattern)))
            << "line " << i << ": " << got[i] << "\n  does not match: " << want[i];
    }
}

TEST(LoggedStore, EveryOperationIsOneLineWithItsOutcomeAndDuration) {
    captured_lines log;
    store::fake_store_options o;
    o.count = 3;
    auto s = store::make_logged_store(std::make_unique<store::fake_store>(o), log.sink());
    EXPECT_EQ(s->kind(), "fake");

    store::query_options q;
    q.tags = {"unread"};
    q.limit = 2;
    auto r = s->query(q);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->items.size(), 2u);
    const store::item first = r->items[0];
    expect_lines(log.take(), {"query mailbox=\\* tags=unread exclude=- limit=2 asc: 2 of 3 "
                              "items, [0-9]+ octets, MS"});

    auto whole = store::read_all(*s, first);
    ASSERT_TRUE(whole);
    expect_lines(log.take(),
                 {"open_item guid_1: ok, MS",
                  "read guid_1: " + std::to_string(whole->size()) + " octets in [0-9]+ reads, MS"});

    store::item meta;
    meta.guid = "new-1";
    meta.mailbox = "alice";
    {
        auto w = s->begin_add(meta);
        ASSERT_TRUE(w);
        ASSERT_FALSE((*w)->write("Subject: x\r\n"));
        ASSERT_FALSE((*w)->write("\r\nbody\r\n"));
        ASSERT_FALSE((*w)->sync_data());
        auto c = (*w)->commit();
        ASSERT_TRUE(c);
        EXPECT_EQ(*c, store::add_outcome::added);
    }
    {
        auto w = s->begin_add(meta);
        ASSERT_TRUE(w);
        ASSERT_FALSE((*w)->write("half"));
    }  // destroyed without commit: aborted
    expect_lines(log.take(),
                 {"begin_add new-1 \\(alice\\): ok, MS", "sync_data new-1 \\(alice\\): ok, MS",
                  "commit new-1 \\(alice\\): added, 20 octets in 2 writes \\(MS\\), MS",
                  "begin_add new-1 \\(alice\\): ok, MS", "abort new-1 \\(alice\\) after 4 octets"});

    ASSERT_FALSE(s->mark(first, "flagged"));
    store::item ghost;
    ghost.guid = "ghost";
    EXPECT_EQ(s->remove(ghost), store::errc::not_found);
    expect_lines(log.take(),
                 {"mark guid_1 flagged: ok, MS",
                  "remove ghost: failed: " +
                      store::make_error_code(store::errc::not_found).message() + ", MS"});

    {
        auto md = s->open_maildrop("bob");
        ASSERT_TRUE(md);
        auto src = (*md)->open(1);
        ASSERT_TRUE(src);
        src->reset();
        const std::vector<std::size_t> del{0};
        ASSERT_FALSE((*md)->commit_deletions(del));
        EXPECT_EQ(s->open_maildrop("bob").error(), store::errc::in_use);
    }
    expect_lines(log.take(),
                 {"open_maildrop bob: [0-9]+ messages, MS", "maildrop bob: open message 2: ok, MS",
                  "read message 2 of bob: 0 octets in 0 reads, stopped before the end, MS",
                  "maildrop bob: commit_deletions of 1 messages: ok, MS",
                  "open_maildrop bob: failed: .*, MS", "maildrop bob: closed"});

    s->set_group_commit(true);
    ASSERT_FALSE(s->flush());
    expect_lines(log.take(), {"group commit on", "flush: ok, MS"});
}

store::store_config fake_config(std::string verbose) {
    store::store_config cfg;
    cfg.modhandler = "fake";
    cfg.settings["count"] = "2";
    if (!verbose.empty()) cfg.settings["verbose"] = std::move(verbose);
    return cfg;
}

TEST(LoggedStore, FactoryWrapsEveryStoreWhenVerbose) {
    captured_lines log;
    std::string why;
    auto quiet = store::make_store(fake_config("false"), why, log.sink());
    ASSERT_TRUE(quiet) << why;
    ASSERT_TRUE((*quiet)->query({}));
    EXPECT_TRUE(log.take().empty());

    auto loud = store::make_store(fake_config("yes"), why, log.sink());
    ASSERT_TRUE(loud) << why;
    ASSERT_TRUE((*loud)->query({}));
    expect_lines(log.take(), {"query mailbox=\\* tags=- exclude=- limit=10 asc: 2 of 2 items, "
                              "[0-9]+ octets, MS"});

    // A directory store, wrapped the same way.
    store::store_config dir;
    dir.modhandler = "maildir";
    dir.settings["path"] = test::fresh_dir("verbose");
    dir.settings["verbose"] = "true";
    auto md = store::make_store(dir, why, log.sink());
    ASSERT_TRUE(md) << why;
    EXPECT_EQ((*md)->kind(), "maildir");
    store::item g;
    g.guid = "g";
    ASSERT_TRUE(store::add_item(**md, g, "x\r\n"));
    const auto lines = log.take();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_TRUE(lines[1].starts_with("commit g: added, 3 octets in 1 writes")) << lines[1];
}

// Logging a store changes nothing about where and how it is read: a local maildrop stays
// served locally (the server reads it on its I/O thread), and a message that is already its
// wire form still goes out with sendfile; the log line says so.
TEST(LoggedStore, WrapperKeepsLocalReadsAndTheWireFile) {
    captured_lines log;
    std::string why;
    store::store_config dir;
    dir.modhandler = "maildir";
    dir.settings["path"] = test::fresh_dir("verbose-local");
    dir.settings["verbose"] = "true";
    auto s = store::make_store(dir, why, log.sink());
    ASSERT_TRUE(s) << why;
    store::item g;
    g.guid = "g";
    ASSERT_TRUE(store::add_item(**s, g, "Subject: x\r\n\r\nbody\r\n"));
    auto md = (*s)->open_maildrop("anyone");
    ASSERT_TRUE(md) << md.error().message();
    EXPECT_TRUE((*md)->served_locally());
    EXPECT_TRUE((*md)->opens_at_once(0));
    {
        auto src = (*md)->open(0);
        ASSERT_TRUE(src);
        const auto region = (*src)->wire_file();
        ASSERT_TRUE(region);
        EXPECT_EQ(region->length, 20u);
        EXPECT_FALSE((*src)->check_sent_file());
    }
    const auto lines = log.take();
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(lines.back().starts_with("read message 1 of anyone: 20 octets from its file")) << lines.back();
}

TEST(LoggedStore, EveryStoreAcceptsVerboseAndItsValueIsChecked) {
    for (const std::string& name : store::known_modhandlers()) {
        store::store_config cfg;
        cfg.modhandler = name;
        if (name != "fake" && name != "postgres" && name != "cloud") cfg.settings["path"] = "/tmp";
        cfg.settings["verbose"] = "true";
        std::string why;
        EXPECT_FALSE(store::validate(cfg, why)) << name << ": " << why;
        cfg.settings["verbose"] = "loud";
        EXPECT_EQ(store::validate(cfg, why), store::errc::bad_setting_value) << name;
        EXPECT_EQ(why, "mimestore.verbose must be true or false, not 'loud'") << name;
    }
    std::string why;
    EXPECT_THROW((void)store::make_store(fake_config("true"), why), std::invalid_argument);
}

}  // namespace
}  // namespace izypop3
