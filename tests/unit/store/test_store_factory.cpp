// Building stores from mimestore.* settings: names, settings tables and the error texts a
// user sees for a wrong modhandler, key or value.

#include <izypop3/store/errc.hpp>
#include <izypop3/store/fake_store.hpp>
#include <izypop3/store/store_config.hpp>
#include <izypop3/store/store_factory.hpp>

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace {

using namespace izypop3::store;

store_config fake_with(std::initializer_list<std::pair<const std::string, std::string>> kv) {
    store_config cfg;
    cfg.settings = kv;
    return cfg;
}

TEST(StoreFactory, DefaultIsTheFakeStoreWithNinetyNineItems) {
    store_config cfg;
    std::string why;
    auto s = make_store(cfg, why);
    ASSERT_TRUE(s.has_value()) << why;
    EXPECT_EQ((*s)->kind(), "fake");
    query_options q;
    q.tags = {"unread"};
    q.limit = 2;
    auto r = (*s)->query(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->count, 99u);
    ASSERT_EQ(r->items.size(), 2u);
    EXPECT_EQ(r->items[1].guid, "guid_2");
    EXPECT_EQ(r->items[1].size,
              [&] {
                  fake_store ref;
                  query_options all;
                  all.limit = 2;
                  return ref.query(all).value().items[1].size;
              }());
}

TEST(StoreFactory, AppliesFakeSettings) {
    auto cfg = fake_with({{"count", "5"}, {"seed", "42"}, {"bigsize", "4096"}});
    std::string why;
    auto s = make_store(cfg, why);
    ASSERT_TRUE(s.has_value()) << why;
    query_options q;
    q.limit = query_options::unlimited;
    auto r = (*s)->query(q);
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->count, 5u);
    EXPECT_EQ(r->items[4].guid, "guid_5");

    fake_store_options o;
    o.count = 5;
    o.seed = 42;
    o.bigsize = 4096;
    fake_store ref(o);
    auto rr = ref.query(q).value();
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(read_all(**s, r->items[i]).value(), read_all(ref, rr.items[i]).value());
    }
}

TEST(StoreFactory, UnknownModhandlerListsTheKnownOnes) {
    store_config cfg;
    cfg.modhandler = "xyz";
    std::string why;
    auto s = make_store(cfg, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::unknown_modhandler);
    EXPECT_EQ(why,
              "unknown mimestore.modhandler 'xyz' (known: fake, localfs, maildir, postgres, "
              "cloud)");
}

TEST(StoreFactory, EveryKnownStoreIsBuilt) {
    for (const auto& name : known_modhandlers()) {
        EXPECT_TRUE(is_built(name)) << name;
        EXPECT_FALSE(settings_of(name).empty()) << name;
    }
    EXPECT_EQ(known_modhandlers(),
              (std::vector<std::string>{"fake", "localfs", "maildir", "postgres", "cloud"}));
}

TEST(StoreFactory, DirectoryStoresNeedAPath) {
    for (std::string name : {"localfs", "maildir"}) {
        store_config cfg;
        cfg.modhandler = name;
        std::string why;
        auto s = make_store(cfg, why);
        ASSERT_FALSE(s.has_value()) << name;
        EXPECT_EQ(s.error(), errc::bad_config);
        EXPECT_EQ(why, "mimestore.modhandler " + name +
                           " needs mimestore.path: the directory of the store, e.g. "
                           "mimestore.path /srv/mail/%u");
    }
}

TEST(StoreFactory, DirectoryStoreSettingsAreChecked) {
    store_config cfg;
    cfg.modhandler = "localfs";
    cfg.settings = {{"path", "/tmp/x"}, {"commitmode", "burn"}};
    std::string why;
    EXPECT_EQ(validate(cfg, why), errc::bad_setting_value);
    EXPECT_EQ(why, "mimestore.commitmode must be archive or remove, not 'burn'");
    cfg.settings = {{"path", "/tmp/%x"}};
    EXPECT_EQ(validate(cfg, why), errc::bad_setting_value);
    EXPECT_EQ(why, "mimestore.path '/tmp/%x' has '%x'; only %u (the user name) and %% (a '%') "
                   "are replaced");
    cfg.settings = {{"path", "/tmp/x"}, {"count", "3"}};
    EXPECT_EQ(validate(cfg, why), errc::unknown_setting);
    EXPECT_EQ(why, "unknown setting mimestore.count for mimestore.modhandler localfs (valid: "
                   "path, create, commitmode, verbose)");
}

TEST(StoreFactory, UnknownSettingIsNamed) {
    auto cfg = fake_with({{"count", "3"}, {"path", "/tmp/x"}});
    std::string why;
    auto s = make_store(cfg, why);
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error(), errc::unknown_setting);
    EXPECT_EQ(why,
              "unknown setting mimestore.path for mimestore.modhandler fake (valid: count, seed, "
              "bigsize, commitmode, verbose)");
    why.clear();
    EXPECT_EQ(validate(cfg, why), errc::unknown_setting);
    EXPECT_NE(why.find("mimestore.path"), std::string::npos);
}

TEST(StoreFactory, BadValuesAreExplained) {
    struct bad {
        const char* key;
        const char* value;
        const char* text;
    };
    const bad cases[] = {
        {"count", "abc", "mimestore.count must be a whole number from 0 to 100000, not 'abc'"},
        {"count", "-1", "mimestore.count must be a whole number from 0 to 100000, not '-1'"},
        {"count", "+1", "mimestore.count must be a whole number from 0 to 100000, not '+1'"},
        {"count", " 5", "mimestore.count must be a whole number from 0 to 100000, not ' 5'"},
        {"count", "12abc",
         "mimestore.count must be a whole number from 0 to 100000, not '12abc'"},
        {"count", "", "mimestore.count must be a whole number from 0 to 100000, not ''"},
        {"count", "100001",
         "mimestore.count must be a whole number from 0 to 100000, not '100001'"},
        {"seed", "18446744073709551616",
         "mimestore.seed must be a whole number from 0 to 18446744073709551615, not "
         "'18446744073709551616'"},
        {"bigsize", "4095",
         "mimestore.bigsize must be a whole number from 4096 to 1099511627776, not '4095'"},
        {"commitmode", "keep", "mimestore.commitmode must be remove or archive, not 'keep'"},
    };
    for (const auto& c : cases) {
        auto cfg = fake_with({{c.key, c.value}});
        std::string why;
        auto s = make_store(cfg, why);
        ASSERT_FALSE(s.has_value()) << c.key << "=" << c.value;
        EXPECT_EQ(s.error(), errc::bad_setting_value);
        EXPECT_EQ(why, c.text);
    }
    auto ok = fake_with({{"count", "0"}, {"seed", "18446744073709551615"},
                         {"commitmode", "archive"}});
    std::string why;
    EXPECT_FALSE(validate(ok, why)) << why;
}

TEST(StoreFactory, FakeSettingsTableMatchesTheDefaults) {
    auto table = settings_of("fake");
    std::vector<std::string> names;
    for (const auto& s : table) {
        names.push_back(s.name);
        EXPECT_FALSE(s.description.empty());
    }
    EXPECT_EQ(names, (std::vector<std::string>{"count", "seed", "bigsize", "commitmode"}));
    fake_store_options defaults;
    EXPECT_EQ(table[0].default_value, std::to_string(defaults.count));
    EXPECT_EQ(table[1].default_value, std::to_string(defaults.seed));
    EXPECT_EQ(table[2].default_value, std::to_string(defaults.bigsize));
    EXPECT_EQ(table[3].default_value, "remove");
    // Writing every default back explicitly is accepted.
    store_config cfg;
    for (const auto& s : table) cfg.settings[s.name] = s.default_value;
    std::string why;
    EXPECT_FALSE(validate(cfg, why)) << why;
}

TEST(StoreConfig, ApplyKeyTakesOnlyMimestoreKeys) {
    store_config cfg;
    EXPECT_TRUE(apply_key(cfg, "mimestore.modhandler", "localfs"));
    EXPECT_TRUE(apply_key(cfg, "mimestore.path", "/var/mail"));
    EXPECT_TRUE(apply_key(cfg, "mimestore.path", "/srv/mail"));
    EXPECT_FALSE(apply_key(cfg, "query.limit", "2"));
    EXPECT_FALSE(apply_key(cfg, "mimestorex.path", "2"));
    EXPECT_EQ(cfg.modhandler, "localfs");
    EXPECT_EQ(cfg.settings, (std::map<std::string, std::string>{{"path", "/srv/mail"}}));
    EXPECT_EQ(setting_text(cfg, "path", "-"), "/srv/mail");
    EXPECT_EQ(setting_text(cfg, "other", "-"), "-");
}

TEST(StoreConfig, BoolSettings) {
    std::string why;
    for (auto t : {"true", "YES", "on", "1"})
        EXPECT_TRUE(setting_bool(fake_with({{"x", t}}), "x", false, why).value()) << t;
    for (auto f : {"false", "No", "OFF", "0"})
        EXPECT_FALSE(setting_bool(fake_with({{"x", f}}), "x", true, why).value()) << f;
    EXPECT_TRUE(setting_bool(store_config{}, "x", true, why).value());
    auto bad = setting_bool(fake_with({{"x", "maybe"}}), "x", true, why);
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error(), errc::bad_setting_value);
    EXPECT_EQ(why, "mimestore.x must be true or false, not 'maybe'");
}

TEST(StoreErrc, CategoryAndMessages) {
    boost::system::error_code ec = errc::in_use;
    EXPECT_STREQ(ec.category().name(), "izypop3.store");
    EXPECT_EQ(ec.message(), "the maildrop is in use by another session; try again when it ends");
    std::set<std::string> seen;
    for (int e = static_cast<int>(errc::not_found); e <= static_cast<int>(errc::writer_finished);
         ++e) {
        auto m = make_error_code(static_cast<errc>(e)).message();
        EXPECT_NE(m, "unknown izypop3.store error") << e;
        EXPECT_TRUE(seen.insert(m).second) << m;
    }
    EXPECT_EQ(make_error_code(static_cast<errc>(999)).message(), "unknown izypop3.store error");
}

TEST(Tags, StatusTagsAndMatching) {
    EXPECT_EQ(status_tags().size(), 6u);
    EXPECT_TRUE(is_status_tag("conversionerror"));
    EXPECT_FALSE(is_status_tag("flagged"));
    item it;
    it.tags = {"unread", "flagged"};
    std::vector<std::string> want{"unread", "flagged"};
    std::vector<std::string> want_more{"unread", "archive"};
    EXPECT_TRUE(has_all_tags(it, want));
    EXPECT_FALSE(has_all_tags(it, want_more));
    EXPECT_TRUE(has_all_tags(it, {}));
    EXPECT_TRUE(has_any_tag(it, want_more));
    EXPECT_FALSE(has_any_tag(it, {}));
}

}  // namespace

TEST(StoreErrc, NotFoundIsTheGenericNoSuchFileCondition) {
    // The server tells a vanished message from a temporary failure by this condition alone.
    const boost::system::error_code gone = errc::not_found;
    EXPECT_TRUE(gone == boost::system::errc::no_such_file_or_directory);
    const boost::system::error_code io = errc::io_error;
    EXPECT_FALSE(io == boost::system::errc::no_such_file_or_directory);
}
