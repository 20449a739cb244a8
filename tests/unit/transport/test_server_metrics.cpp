// server_metrics: what a client can put into the exposition is bounded (unknown verbs and
// mechanisms count as "other"), label values are escaped, and a latency on a bucket's upper
// bound counts in that bucket (le is "less than or equal").

#include <izypop3/transport/server_metrics.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace izypop3::transport {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string exposition(const server_metrics& m, std::string_view store = "fake") {
    std::string out;
    m.write_prometheus(out, store);
    return out;
}

core::command_event event(std::string verb, std::string args, bool ok) {
    return core::command_event{std::move(verb), std::move(args), ok};
}

TEST(EscapeLabelValue, EscapesBackslashQuoteAndLineFeed) {
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(ServerMetrics, StoreKindIsEscapedInItsLabel) {
    server_metrics m;
    EXPECT_THAT(exposition(m, "we\"ird\n"), HasSubstr("store=\"we\\\"ird\\n\""));
}

TEST(ServerMetrics, UnknownVerbsAndMechanismsCountAsOther) {
    server_metrics m;
    m.command(event("XYZZY", "", false));
    m.command(event("RETR", "1", true));
    m.command(event("AUTH", "plain", true));
    m.command(event("AUTH", "X-EVIL-\"MECH", false));
    m.command(event("PASS", "<redacted>", false));
    const auto text = exposition(m);
    EXPECT_THAT(text, HasSubstr("izypop3_commands_total{verb=\"other\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("izypop3_commands_total{verb=\"RETR\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("izypop3_commands_total{verb=\"AUTH\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("izypop3_messages_retrieved_total 1\n"));
    EXPECT_THAT(text, HasSubstr("izypop3_logins_total{mechanism=\"PLAIN\",result=\"ok\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("izypop3_logins_total{mechanism=\"other\",result=\"failed\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("izypop3_logins_total{mechanism=\"USER\",result=\"failed\"} 1\n"));
    EXPECT_THAT(text, Not(HasSubstr("XYZZY")));
    EXPECT_THAT(text, Not(HasSubstr("EVIL")));
}

TEST(ServerMetrics, HistogramBucketsAreCumulativeAndUpperBoundsInclusive) {
    server_metrics m;
    using std::chrono::microseconds;
    m.store_call(store_operation::open_message, true, microseconds(100));          // le="0.0001"
    m.store_call(store_operation::open_message, true, microseconds(101));          // le="0.00025"
    m.store_call(store_operation::open_message, false, std::chrono::seconds(60));  // +Inf only
    const auto text = exposition(m);
    const std::string series = "store=\"fake\",operation=\"open_message\"";
    EXPECT_THAT(text, HasSubstr("_bucket{" + series + ",le=\"0.0001\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("_bucket{" + series + ",le=\"0.00025\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("_bucket{" + series + ",le=\"10\"} 2\n"));
    EXPECT_THAT(text, HasSubstr("_bucket{" + series + ",le=\"+Inf\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("_count{" + series + "} 3\n"));
    EXPECT_THAT(text, HasSubstr("_sum{" + series + "} 60.000201\n"));
    EXPECT_THAT(text,
                HasSubstr("izypop3_store_operations_total{" + series + ",result=\"error\"} 1\n"));
    EXPECT_THAT(text,
                HasSubstr("izypop3_store_operations_total{" + series + ",result=\"ok\"} 2\n"));
}

TEST(ServerMetrics, OpenSessionsGaugeIsOpenedMinusEnded) {
    server_metrics m;
    m.session_opened();
    m.session_opened();
    m.session_ended(core::close_reason::login_timeout);
    const auto text = exposition(m);
    EXPECT_THAT(text, HasSubstr("izypop3_sessions_open 1\n"));
    EXPECT_THAT(text, HasSubstr("izypop3_sessions_ended_total{reason=\"timeout\"} 1\n"));
}

}  // namespace
}  // namespace izypop3::transport
