// mimestore.path templates: %u and %%, refused templates, user names that could escape,
// and finding the users that have a mailbox.

#include "../../../libmimestore/src/path_template.hpp"
#include "dir_store_test_support.hpp"

namespace izypop3::store::detail {
namespace {

TEST(PathTemplate, WithoutUserIsOneDirectory) {
    std::string why;
    auto t = path_template::parse("/srv/mail", why);
    ASSERT_TRUE(t.has_value()) << why;
    EXPECT_FALSE(t->per_user());
    EXPECT_EQ(t->base(), "/srv/mail");
    EXPECT_EQ(t->for_user("anyone"), "/srv/mail");
}

TEST(PathTemplate, PercentUIsTheUserAndPercentPercentAPercent) {
    std::string why;
    auto t = path_template::parse("/srv/100%%/box-%u.d/Maildir", why);
    ASSERT_TRUE(t.has_value()) << why;
    EXPECT_TRUE(t->per_user());
    EXPECT_EQ(t->base(), "/srv/100%");
    EXPECT_EQ(t->for_user("alice"), "/srv/100%/box-alice.d/Maildir");
    EXPECT_EQ(t->text(), "/srv/100%%/box-%u.d/Maildir");
}

TEST(PathTemplate, BadTemplatesAreExplained) {
    std::string why;
    auto t = path_template::parse("/a/%u/%u", why);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error(), errc::bad_setting_value);
    EXPECT_EQ(why, "mimestore.path '/a/%u/%u' contains %u more than once; use it once, e.g. "
                   "/srv/mail/%u");
    t = path_template::parse("/a/%d", why);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(why, "mimestore.path '/a/%d' has '%d'; only %u (the user name) and %% (a '%') are "
                   "replaced");
    t = path_template::parse("/a/%", why);
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(why, "mimestore.path '/a/%' has '%'; only %u (the user name) and %% (a '%') are "
                   "replaced");
    t = path_template::parse("", why);
    ASSERT_FALSE(t.has_value());
}

TEST(PathTemplate, UserNamesThatCouldEscapeAreRefused) {
    EXPECT_EQ(unsafe_user_reason("alice"), "");
    EXPECT_EQ(unsafe_user_reason("alice@example.org"), "");
    EXPECT_EQ(unsafe_user_reason(".."), "starts with '.'");
    EXPECT_EQ(unsafe_user_reason("."), "starts with '.'");
    EXPECT_EQ(unsafe_user_reason("../etc"), "starts with '.'");
    EXPECT_EQ(unsafe_user_reason("a/../../b"), "contains '/'");
    EXPECT_EQ(unsafe_user_reason(std::string("a\0b", 3)), "contains a NUL octet");
    EXPECT_EQ(unsafe_user_reason("a\nb"), "contains a control character");
    EXPECT_EQ(unsafe_user_reason(""), "is empty");
    EXPECT_EQ(unsafe_user_reason(std::string(201, 'a')), "is longer than 200 octets");
    EXPECT_EQ(unsafe_user_reason(std::string(200, 'a')), "");
}

TEST(PathTemplate, ExistingUsersAreTheMailboxDirectories) {
    std::string base = test::fresh_dir();
    std::string why;
    auto t = path_template::parse(base + "/u-%u/Maildir", why);
    ASSERT_TRUE(t.has_value()) << why;
    std::vector<std::string> users;
    ASSERT_EQ(t->existing_users(users), 0);
    EXPECT_TRUE(users.empty());
    std::filesystem::create_directories(base + "/u-bob/Maildir");
    std::filesystem::create_directories(base + "/u-alice/Maildir");
    std::filesystem::create_directories(base + "/u-carol");  // no Maildir inside: no mailbox
    std::filesystem::create_directories(base + "/other/Maildir");
    test::spit(base + "/u-file", "x");
    ASSERT_EQ(t->existing_users(users), 0);
    EXPECT_EQ(users, (std::vector<std::string>{"alice", "bob"}));

    auto missing = path_template::parse(base + "/nothing/%u", why);
    ASSERT_TRUE(missing.has_value());
    ASSERT_EQ(missing->existing_users(users), 0);
    EXPECT_TRUE(users.empty());
}

}  // namespace
}  // namespace izypop3::store::detail
