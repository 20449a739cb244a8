// The load report's charts: the y axis ends on a round number, bars stack in order, and
// text in the spec is escaped.

#include "selftest/svg_bar_chart.hpp"

#include <gtest/gtest.h>

namespace app = izypop3::app;

TEST(SvgBarChart, YAxisEndsOnOneTwoOrFiveTimesAPowerOfTen) {
    EXPECT_DOUBLE_EQ(app::round_up_to_nice(0), 1);
    EXPECT_DOUBLE_EQ(app::round_up_to_nice(0.3), 0.5);
    EXPECT_DOUBLE_EQ(app::round_up_to_nice(1), 1);
    EXPECT_DOUBLE_EQ(app::round_up_to_nice(1.01), 2);
    EXPECT_DOUBLE_EQ(app::round_up_to_nice(37), 50);
    EXPECT_DOUBLE_EQ(app::round_up_to_nice(500), 500);
    EXPECT_DOUBLE_EQ(app::round_up_to_nice(501), 1000);
}

TEST(SvgBarChart, StacksBarsAndEscapesTexts) {
    app::chart_spec c;
    c.id = "c";
    c.title = "<b>t</b>";
    c.series = {"ok", "bad"};
    c.x_to = 2;
    c.bars = {{0, 1, {3, 1}, R"(data-n="4")", "a<b"}, {1, 2, {0, 2}, "", "z"}};
    const std::string svg = app::svg_bar_chart(c);
    EXPECT_EQ(svg.rfind(R"(<svg id="c" )", 0), 0u);
    EXPECT_NE(svg.find("<title>&lt;b&gt;t&lt;/b&gt;</title>"), std::string::npos);
    EXPECT_NE(svg.find(R"(<g class="bar" data-n="4"><title>a&lt;b</title>)"), std::string::npos);
    // y axis to 5 (tallest stack 4): 3 then 1 on top; the second bar has only its second level.
    EXPECT_NE(svg.find(R"(height="120.0" fill="#3b6fb6")"), std::string::npos) << svg;
    EXPECT_NE(svg.find(R"(height="40.0" fill="#c8423b")"), std::string::npos) << svg;
    EXPECT_NE(svg.find(R"(height="80.0" fill="#c8423b")"), std::string::npos) << svg;
    EXPECT_EQ(svg.find("<script"), std::string::npos);
    EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
}
