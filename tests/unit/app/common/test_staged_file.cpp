// A file written whole or not at all: nothing at the final name until commit(), no
// temporary file left behind either way, and an unwritable place known at creation.

#include "common/staged_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace app = izypop3::app;
namespace fs = std::filesystem;

namespace {

struct StagedFile : ::testing::Test {
    fs::path dir =
        fs::temp_directory_path() /
        ("izypop3-staged-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    void SetUp() override { fs::create_directories(dir); }
    void TearDown() override { fs::remove_all(dir); }
    std::size_t entries() const {
        return static_cast<std::size_t>(
            std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
    }
};

std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_F(StagedFile, AppearsOnlyWhenCommittedAndReplacesTheOldFile) {
    const fs::path target = dir / "run.html";
    std::ofstream(target) << "old";
    std::string why;
    auto f = app::staged_file::create(target.string(), why);
    ASSERT_TRUE(f) << why;
    EXPECT_EQ(read(target), "old");
    ASSERT_TRUE(f->commit("new page", why)) << why;
    EXPECT_EQ(read(target), "new page");
    EXPECT_EQ(entries(), 1u);
}

TEST_F(StagedFile, LeavesNothingWhenNeverCommitted) {
    std::string why;
    {
        auto f = app::staged_file::create((dir / "run.html").string(), why);
        ASSERT_TRUE(f) << why;
        EXPECT_EQ(entries(), 1u);  // the temporary file
    }
    EXPECT_EQ(entries(), 0u);
}

TEST_F(StagedFile, RefusesAMissingDirectoryAtCreation) {
    std::string why;
    const auto target = (dir / "missing" / "run.html").string();
    EXPECT_FALSE(app::staged_file::create(target, why));
    EXPECT_EQ(why.rfind("cannot create " + target + ".tmp-", 0), 0u) << why;
    EXPECT_NE(why.find("No such file or directory"), std::string::npos) << why;
}
