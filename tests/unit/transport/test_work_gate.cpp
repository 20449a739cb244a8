// The per-address bound on expensive credential work (issue 12 item 7): at most N key
// derivations or crypt checks run at once for one address group; the others wait in line,
// are handed a slot in order, and may give up (deadline) without leaking one.

#include "work_gate.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace izypop3::transport::detail {
namespace {

TEST(WorkGate, BoundsRunningWorkPerGroupAndWakesWaitersInOrder) {
    work_gate g(2);
    std::vector<int> woken;
    auto waker = [&](int id) { return [&woken, id] { woken.push_back(id); }; };
    EXPECT_TRUE(g.enter("a", 1, waker(1)));
    EXPECT_TRUE(g.enter("a", 2, waker(2)));
    EXPECT_FALSE(g.enter("a", 3, waker(3)));
    EXPECT_FALSE(g.enter("a", 4, waker(4)));
    EXPECT_EQ(g.running("a"), 2u);
    EXPECT_EQ(g.waiting("a"), 2u);
    // Another group is not held up.
    EXPECT_TRUE(g.enter("b", 5, waker(5)));
    EXPECT_TRUE(woken.empty());

    g.leave("a");
    EXPECT_EQ(woken, std::vector<int>{3});
    EXPECT_EQ(g.running("a"), 2u);  // the slot went to 3, not back to the pool
    g.leave("a");
    EXPECT_EQ(woken, (std::vector<int>{3, 4}));
    g.leave("a");
    g.leave("a");
    g.leave("b");
    EXPECT_EQ(g.running("a"), 0u);
    EXPECT_EQ(g.groups(), 0u);  // nothing kept for idle groups
}

TEST(WorkGate, AWaiterThatGivesUpIsSkipped) {
    work_gate g(1);
    std::vector<int> woken;
    EXPECT_TRUE(g.enter("a", 1, [] {}));
    EXPECT_FALSE(g.enter("a", 2, [&] { woken.push_back(2); }));
    EXPECT_FALSE(g.enter("a", 3, [&] { woken.push_back(3); }));
    EXPECT_TRUE(g.withdraw("a", 2));  // deadline passed while waiting: nothing held
    g.leave("a");
    EXPECT_EQ(woken, std::vector<int>{3});
    // Too late to withdraw once the slot was handed over: the waiter owns it.
    EXPECT_FALSE(g.withdraw("a", 3));
    EXPECT_EQ(g.running("a"), 1u);
    g.leave("a");
    EXPECT_EQ(g.groups(), 0u);
}

}  // namespace
}  // namespace izypop3::transport::detail
