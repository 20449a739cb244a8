// The pieces of bearer-token validation that need no network: the introspection URL, the
// reading of an introspection answer (RFC 7662 section 2.2), the bounded cache of active
// tokens, and oauth2.command's contract (exit status, stdout, the deadline).

#include "introspection_response.hpp"
#include "token_cache.hpp"
#include "token_command.hpp"

#include <izypop3/transport/oauth2_options.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace izypop3::transport {
namespace {

using namespace std::chrono_literals;
using detail::command_verdict;
using detail::read_introspection_response;

TEST(HttpsUrl, PartsOfGoodUrls) {
    https_url u;
    std::string why;
    ASSERT_TRUE(parse_https_url("https://idp.example/oauth2/introspect", u, why)) << why;
    EXPECT_EQ(u.host, "idp.example");
    EXPECT_EQ(u.port, "443");
    EXPECT_EQ(u.target, "/oauth2/introspect");
    ASSERT_TRUE(parse_https_url("https://[::1]:8443", u, why)) << why;
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, "8443");
    EXPECT_EQ(u.target, "/");
    ASSERT_TRUE(parse_https_url("https://127.0.0.1:9/i?x=1", u, why)) << why;
    EXPECT_EQ(u.target, "/i?x=1");
}

TEST(HttpsUrl, RefusedWithAReason) {
    for (const char* bad :
         {"http://idp/i", "idp/i", "https://", "https://u:p@idp/i", "https://idp:0/i",
          "https://idp:65536/i", "https://idp:x/i", "https://[::1/i", "https://[::1]x/i",
          "https://idp/i#frag", "https://:443/i"}) {
        https_url u;
        std::string why;
        EXPECT_FALSE(parse_https_url(bad, u, why)) << bad;
        EXPECT_NE(why.find(bad), std::string::npos) << why;
    }
}

TEST(IntrospectionResponse, ActiveTokenNamesItsUser) {
    const auto v = read_introspection_response(
        R"({"active":true,"username":"alice","sub":"u-1","exp":2000,"scope":"pop"})",
        token_user_claim::username, 1000);
    EXPECT_TRUE(v.active);
    EXPECT_EQ(v.user, "alice");
    EXPECT_EQ(v.exp, 2000);
    EXPECT_EQ(v.problem, "");
    const auto s =
        read_introspection_response(R"({"active":true,"sub":"u-1"})", token_user_claim::sub, 1000);
    EXPECT_TRUE(s.active);
    EXPECT_EQ(s.user, "u-1");
    EXPECT_FALSE(s.exp);
}

TEST(IntrospectionResponse, InactiveOrExpiredTokens) {
    auto v = read_introspection_response(R"({"active":false})", token_user_claim::username, 0);
    EXPECT_FALSE(v.active);
    EXPECT_EQ(v.problem, "");
    // The endpoint's clock lags ours: past exp is not active, whatever it says.
    v = read_introspection_response(R"({"active":true,"username":"alice","exp":999})",
                                    token_user_claim::username, 1000);
    EXPECT_FALSE(v.active);
    EXPECT_EQ(v.problem, "");
}

TEST(IntrospectionResponse, UnusableAnswersSayWhy) {
    struct row {
        const char* body;
        const char* problem;
    };
    const row rows[] = {
        {"", "the introspection response is not JSON"},
        {"[true]", "the introspection response is not a JSON object"},
        {R"({"username":"alice"})", "no boolean \"active\""},
        {R"({"active":"true","username":"alice"})", "no boolean \"active\""},
        {R"({"active":true,"username":"alice","exp":"soon"})", "\"exp\" is not an integer"},
        {R"({"active":true,"sub":"u-1"})", "has no \"username\" (oauth2.userclaim)"},
        {R"({"active":true,"username":""})", "has no \"username\""},
        {R"({"active":true,"username":7})", "has no \"username\""},
    };
    for (const auto& r : rows) {
        const auto v = read_introspection_response(r.body, token_user_claim::username, 0);
        EXPECT_FALSE(v.active) << r.body;
        EXPECT_NE(v.problem.find(r.problem), std::string::npos) << r.body << ": " << v.problem;
    }
}

TEST(TokenCache, RemembersUntilExpAndForgetsAfter) {
    detail::token_cache c(8);
    c.remember("tok", "alice", 2000, 1000);
    EXPECT_EQ(c.find("tok", 1999), "alice");
    EXPECT_EQ(c.find("other", 1000), std::nullopt);
    EXPECT_EQ(c.find("tok", 2000), std::nullopt);
    EXPECT_EQ(c.size(), 0u);              // an expired entry found is dropped
    c.remember("old", "bob", 999, 1000);  // already expired: not kept
    EXPECT_EQ(c.size(), 0u);
}

TEST(TokenCache, BoundedDroppingExpiredThenSoonestToExpire) {
    detail::token_cache c(3);
    c.remember("a", "u", 1100, 1000);
    c.remember("b", "u", 1500, 1000);
    c.remember("c", "u", 1300, 1000);
    c.remember("d", "u", 1400, 1000);  // full: "a" expires soonest
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(c.find("a", 1000), std::nullopt);
    EXPECT_EQ(c.find("b", 1000), "u");
    c.remember("e", "u", 1600, 1350);  // "c" has expired by now and goes first
    EXPECT_EQ(c.size(), 3u);
    EXPECT_EQ(c.find("d", 1350), "u");
    EXPECT_EQ(c.find("b", 1350), "u");
    EXPECT_EQ(c.find("e", 1350), "u");
}

class TokenCommand : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("izypop3-token-command-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path dir_;
};

TEST_F(TokenCommand, ValidTokenGivesTheFirstLineOfStdout) {
    const auto v = detail::run_token_command(
        R"(read -r t; [ "$t" = "secret-tok" ] && printf 'alice\r\nmore\n')", "secret-tok", 10s);
    EXPECT_EQ(v.outcome, command_verdict::kind::valid) << v.detail;
    EXPECT_EQ(v.user, "alice");
}

TEST_F(TokenCommand, ExitStatusesDecide) {
    auto v = detail::run_token_command("cat >/dev/null; exit 1", "t", 10s);
    EXPECT_EQ(v.outcome, command_verdict::kind::invalid);
    EXPECT_EQ(v.detail, "oauth2.command exited with 1: token not valid");
    v = detail::run_token_command("exit 75", "t", 10s);
    EXPECT_EQ(v.outcome, command_verdict::kind::temporary);
    v = detail::run_token_command("true", "t", 10s);  // valid, but whose?
    EXPECT_EQ(v.outcome, command_verdict::kind::invalid);
    EXPECT_EQ(v.detail, "oauth2.command exited with 0 but printed no user name");
    v = detail::run_token_command("kill -9 $$", "t", 10s);
    EXPECT_EQ(v.outcome, command_verdict::kind::temporary);
    EXPECT_EQ(v.detail, "oauth2.command was killed by signal 9");
    // A command the shell cannot find or run is the administrator's to fix, not a bad token.
    v = detail::run_token_command("/nonexistent/validator", "t", 10s);
    EXPECT_EQ(v.outcome, command_verdict::kind::temporary);
    EXPECT_EQ(v.detail, "oauth2.command exited with 127: the shell could not run it");
}

TEST_F(TokenCommand, ACommandPastTheDeadlineIsKilled) {
    const auto marker = dir_ / "still-running";
    const auto v =
        detail::run_token_command("sleep 30; echo alice; touch " + marker.string(), "t", 1s);
    EXPECT_EQ(v.outcome, command_verdict::kind::temporary);
    EXPECT_EQ(v.detail, "oauth2.command did not finish within 1 s and was killed");
    EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST_F(TokenCommand, ServerDescriptorsAreNotInherited) {
    // A descriptor without close-on-exec, like a socket some library opened.
    std::ofstream(dir_ / "f") << "x";
    const int fd = ::open((dir_ / "f").c_str(), O_RDONLY);
    ASSERT_GE(fd, 3);
    const auto v = detail::run_token_command(
        "if [ -e /proc/self/fd/" + std::to_string(fd) + " ]; then echo leaked; else echo alice; fi",
        "t", 10s);
    ::close(fd);
    EXPECT_EQ(v.user, "alice");
}

}  // namespace
}  // namespace izypop3::transport
