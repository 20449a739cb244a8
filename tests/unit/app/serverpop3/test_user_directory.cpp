// user_directory: the users file of `serverpop3 users FILE` — start-up errors, re-reading on
// change and on SIGHUP (server_hooks::on_reload), and a failed reload keeping the old table.

#include "serverpop3/user_directory.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace izypop3;
using app::user_directory;
using core::auth_outcome;
namespace fs = std::filesystem;

// doveadm pw -s SHA512-CRYPT -p secret   (Dovecot 2.3.19.1)
constexpr std::string_view bob_sha512 =
    "bob:{SHA512-CRYPT}$6$enqpQCitJqWt2DVl$b5zpeMjHelvEACxwD.pmGisxS8jvgd2YD1W0TCW97B/"
    "CzvRefRMD3UjFIYyWRaqJAKG8ljdz.sb7EfvFc14wL/\n";

class captured_log {
  public:
    transport::logger logger() {
        return transport::logger(transport::log_level::debug, [this](transport::log_level level,
                                                                     std::string_view line) {
            std::lock_guard lock(mutex_);
            lines_.push_back(std::string(transport::to_string(level)) + " " + std::string(line));
        });
    }
    std::vector<std::string> lines() {
        std::lock_guard lock(mutex_);
        return lines_;
    }
    std::size_t count(std::string_view needle) {
        std::size_t n = 0;
        for (const auto& l : lines())
            if (l.find(needle) != std::string::npos) ++n;
        return n;
    }

  private:
    std::mutex mutex_;
    std::vector<std::string> lines_;
};

class UserDirectory : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("izypop3-users-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        path_ = (dir_ / "users").string();
    }
    void TearDown() override { fs::remove_all(dir_); }

    // Rewrites the file in place (truncate and write), as an editor without rename does.
    void write(std::string_view text, const std::string& where = {}) {
        std::ofstream f(where.empty() ? path_ : where, std::ios::binary | std::ios::trunc);
        f << text;
    }
    std::shared_ptr<user_directory> open(std::chrono::milliseconds interval) {
        std::string error;
        auto d = user_directory::open(path_, log_.logger(), error,
                                      user_directory::options{interval, 1024 * 1024});
        EXPECT_TRUE(d) << error;
        return d;
    }

    fs::path dir_;
    std::string path_;
    captured_log log_;
};

constexpr std::chrono::milliseconds every_lookup{0};
constexpr std::chrono::milliseconds an_hour{3'600'000};

TEST_F(UserDirectory, ChecksPasswordsAndSecretsFromTheFile) {
    write("alice:{PLAIN}wonderland\n" + std::string(bob_sha512));
    auto d = open(an_hour);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->table()->size(), 2u);
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::accepted);
    EXPECT_EQ(d->verify_password("alice", "Wonderland"), auth_outcome::rejected);
    EXPECT_EQ(d->verify_password("bob", "secret"), auth_outcome::accepted);
    EXPECT_EQ(d->verify_password("bob", "wonderland"), auth_outcome::rejected);
    EXPECT_EQ(d->verify_password("nobody", "wonderland"), auth_outcome::rejected);
    EXPECT_EQ(d->lookup_secret("alice")->plaintext, "wonderland");
    EXPECT_FALSE(d->lookup_secret("bob"));
    EXPECT_FALSE(d->lookup_secret("nobody"));
    EXPECT_TRUE(log_.lines().empty());
}

TEST_F(UserDirectory, MalformedFileAtStartIsAnErrorWithFileAndLine) {
    write("alice:{PLAIN}wonderland\n\nbob:{MD4}abc\n");
    std::string error;
    auto d = user_directory::open(path_, log_.logger(), error);
    EXPECT_FALSE(d);
    EXPECT_EQ(error, path_ +
                         ":3: user 'bob': unknown password scheme {MD4}; izypop3 reads PLAIN (or "
                         "CLEAR, CLEARTEXT), CRYPT, SHA256-CRYPT, SHA512-CRYPT, BLF-CRYPT, "
                         "SCRAM-SHA-1 and SCRAM-SHA-256; make a hash with: doveadm pw -s "
                         "SHA512-CRYPT");
}

TEST_F(UserDirectory, MissingFileAtStartIsAnError) {
    std::string error;
    auto d = user_directory::open(path_ + ".missing", log_.logger(), error);
    EXPECT_FALSE(d);
    EXPECT_EQ(error, "cannot read users file " + path_ +
                         ".missing: No such file or directory; give the path of a passwd-file "
                         "(user:{SCHEME}password per line)");
    error.clear();
    EXPECT_FALSE(user_directory::open(dir_.string(), log_.logger(), error));
    EXPECT_EQ(error, "users file " + dir_.string() +
                         " is not a regular file; give the path of a passwd-file");
}

TEST_F(UserDirectory, EmptyFileStartsWithAWarning) {
    write("# nobody yet\n");
    auto d = open(an_hour);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->verify_password("alice", ""), auth_outcome::rejected);
    EXPECT_EQ(log_.count("warn users file " + path_ + " has no users"), 1u);
}

TEST_F(UserDirectory, ChangedFileIsReadOnTheNextLookup) {
    write("alice:{PLAIN}wonderland\n");
    auto d = open(every_lookup);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::accepted);
    write("alice:{PLAIN}looking-glass\ncarol:{PLAIN}x\n");
    EXPECT_EQ(d->verify_password("alice", "looking-glass"), auth_outcome::accepted);
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::rejected);
    EXPECT_EQ(d->lookup_secret("carol")->plaintext, "x");
    EXPECT_EQ(log_.count("info users file " + path_ + " re-read: 2 users"), 1u);
}

TEST_F(UserDirectory, FileReplacedByRenameIsRead) {
    write("alice:{PLAIN}wonderland\n");
    auto d = open(every_lookup);
    ASSERT_TRUE(d);
    const std::string next = path_ + ".new";
    write("alice:{PLAIN}queen\n", next);  // same size: the inode tells
    fs::rename(next, path_);
    EXPECT_EQ(d->verify_password("alice", "queen"), auth_outcome::accepted);
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::rejected);
}

TEST_F(UserDirectory, UnchangedFileIsNotReadAgain) {
    write("alice:{PLAIN}wonderland\n");
    auto d = open(every_lookup);
    ASSERT_TRUE(d);
    const auto before = d->table();
    EXPECT_FALSE(d->reload_if_changed());
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::accepted);
    EXPECT_EQ(d->table(), before) << "the same table object stays in use";
}

TEST_F(UserDirectory, FailedReloadKeepsTheOldTableAndLogsOnce) {
    write("alice:{PLAIN}wonderland\n");
    auto d = open(every_lookup);
    ASSERT_TRUE(d);
    write("alice:{PLAIN}queen\nbroken line\n");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::accepted);
        EXPECT_EQ(d->verify_password("alice", "queen"), auth_outcome::rejected);
    }
    const std::string logged =
        "error " + path_ +
        ":2: no ':' after the user name; every line is user:{SCHEME}password; still using the 1 "
        "users read before";
    EXPECT_EQ(log_.count(logged), 1u) << "one error per version of the file, not per lookup";
    EXPECT_EQ(log_.lines().size(), 1u);
    // A SIGHUP on the same bad file answers again.
    EXPECT_FALSE(d->reload());
    EXPECT_EQ(log_.count(logged), 2u);
    // Fixed: the next lookup uses it.
    write("alice:{PLAIN}queen\n");
    EXPECT_EQ(d->verify_password("alice", "queen"), auth_outcome::accepted);
    EXPECT_EQ(log_.count("re-read: 1 users"), 1u);
}

TEST_F(UserDirectory, RemovedFileKeepsTheOldTable) {
    write("alice:{PLAIN}wonderland\n");
    auto d = open(every_lookup);
    ASSERT_TRUE(d);
    fs::remove(path_);
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::accepted);
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::accepted);
    EXPECT_EQ(log_.count("error cannot read users file " + path_ +
                         ": No such file or directory; put it back or send SIGHUP after fixing "
                         "the path; still using the 1 users read before"),
              1u);
    write("alice:{PLAIN}back\n");
    EXPECT_EQ(d->verify_password("alice", "back"), auth_outcome::accepted);
}

TEST_F(UserDirectory, SighupHookReadsTheFileBeforeTheRecheckIsDue) {
    write("alice:{PLAIN}wonderland\n");
    auto d = open(an_hour);
    ASSERT_TRUE(d);
    transport::server_hooks hooks;
    app::install_user_directory(d, hooks);
    ASSERT_TRUE(hooks.verify_password && hooks.lookup_secret && hooks.on_reload);
    EXPECT_TRUE(hooks.secret_forms.plaintext);
    write("alice:{PLAIN}looking-glass\n");
    // The stat is not due for an hour: the old password still works...
    EXPECT_EQ(hooks.verify_password("alice", "looking-glass"), auth_outcome::rejected);
    EXPECT_EQ(hooks.verify_password("alice", "wonderland"), auth_outcome::accepted);
    // ...until the server gets SIGHUP and calls on_reload.
    hooks.on_reload();
    EXPECT_EQ(hooks.verify_password("alice", "looking-glass"), auth_outcome::accepted);
    EXPECT_EQ(hooks.verify_password("alice", "wonderland"), auth_outcome::rejected);
    EXPECT_EQ(hooks.lookup_secret("alice")->plaintext, "looking-glass");
}

TEST_F(UserDirectory, ReloadAddingAMechanismSaysARestartIsNeeded) {
    write(bob_sha512);
    auto d = open(an_hour);
    ASSERT_TRUE(d);
    transport::server_hooks hooks;
    app::install_user_directory(d, hooks);
    EXPECT_FALSE(hooks.secret_forms.plaintext || hooks.secret_forms.scram_sha1 ||
                 hooks.secret_forms.scram_sha256);
    write(std::string(bob_sha512) + "alice:{PLAIN}wonderland\n");
    EXPECT_TRUE(d->reload());
    EXPECT_EQ(log_.count("warn users file " + path_ +
                         " now has {PLAIN} entries (APOP, CRAM-MD5), SCRAM-SHA-1, SCRAM-SHA-256, "
                         "which the server does not offer until it is restarted"),
              1u);
    EXPECT_EQ(d->verify_password("alice", "wonderland"), auth_outcome::accepted);
}

TEST_F(UserDirectory, LookupsDuringReloadsSeeOneTableOrTheOther) {
    write("alice:{PLAIN}one\n");
    auto d = open(every_lookup);
    ASSERT_TRUE(d);
    std::atomic<bool> stop{false};
    std::atomic<int> odd{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t)
        readers.emplace_back([&] {
            while (!stop) {
                // Files are replaced by rename, so every table read is whole: alice is
                // always there, with one password or the other.
                const auto secret = d->lookup_secret("alice");
                if (!secret || (secret->plaintext != "one" && secret->plaintext != "twotwo")) ++odd;
            }
        });
    for (int i = 0; i < 50; ++i) {
        const std::string next = path_ + ".new";
        write(i % 2 ? "alice:{PLAIN}one\n" : "alice:{PLAIN}twotwo\n", next);
        fs::rename(next, path_);
        d->reload();
    }
    stop = true;
    for (auto& r : readers) r.join();
    EXPECT_EQ(odd, 0);
    EXPECT_EQ(d->verify_password("alice", "one"), auth_outcome::accepted);
}

}  // namespace
