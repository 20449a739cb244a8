// The load generator against our server in this process: every session it was asked for
// runs and completes, however the clients and the pool's threads compare. One client on
// four threads is the case that once hung: a thread whose context had no session yet
// returned at once, and the next session, placed on that context, never ran.

#include "selftest/load_generator.hpp"
#include "selftest/selftest_server.hpp"

#include <izypop3/store/fake_store.hpp>
#include <izypop3/transport/logger.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <string>
#include <thread>

namespace izypop3::test {
namespace {

struct load_case {
    unsigned clients;
    unsigned threads;
    std::uint64_t sessions;
    app::load_mode mode;
};

class LoadGenerator : public ::testing::TestWithParam<load_case> {};

TEST_P(LoadGenerator, RunsEverySessionItWasAskedFor) {
    const load_case c = GetParam();
    store::fake_store_options fo;
    fo.count = 4;
    transport::server_options opt;
    opt.host = "127.0.0.1";
    opt.port = 0;
    opt.pick_free_ports = true;
    opt.threads = 2;
    transport::logger quiet(transport::log_level::error, [](transport::log_level, std::string_view) {});
    app::server_under_test server(opt, app::own_name_passwords(std::make_shared<store::fake_store>(fo)),
                                  quiet);
    std::string why;
    ASSERT_FALSE(server.start(why)) << why;

    app::load_settings s;
    s.stream.host = "127.0.0.1";
    s.stream.port = server.get().port();
    s.session.user = "load%n";
    s.session.starttls = core::starttls_policy::never;
    s.session.allow_plaintext = true;
    s.password_is_user = true;
    s.clients = c.clients;
    s.threads = c.threads;
    s.sessions = c.sessions;
    s.mode = c.mode;
    s.duration = std::chrono::seconds(120);

    // A hang is the failure this guards against: wait a bounded time, then end the whole
    // program with a message rather than leave ctest to time out without one.
    auto done = std::async(std::launch::async, [&s] { return app::run_load(s); });
    if (done.wait_for(std::chrono::seconds(90)) != std::future_status::ready) {
        std::fprintf(stderr, "run_load did not return: a session was never run\n");
        std::_Exit(1);
    }
    const app::load_report r = done.get();
    EXPECT_EQ(r.completed, c.sessions);
    EXPECT_EQ(r.error_count(), 0u) << r.first_error;
    EXPECT_EQ(r.cut_short, 0u);
    EXPECT_EQ(r.latencies_ms.size(), c.sessions);
    if (c.mode == app::load_mode::retrall) {
        EXPECT_GT(r.octets, 0u);
    }
    server.stop();
}

INSTANTIATE_TEST_SUITE_P(
    ClientsAndThreads, LoadGenerator,
    ::testing::Values(load_case{1, 4, 12, app::load_mode::login},
                      load_case{2, 4, 30, app::load_mode::login},
                      load_case{3, 2, 30, app::load_mode::retrall},
                      load_case{8, 1, 40, app::load_mode::login}),
    [](const ::testing::TestParamInfo<load_case>& i) {
        return std::to_string(i.param.clients) + "clients_" + std::to_string(i.param.threads) +
               "threads_" + (i.param.mode == app::load_mode::retrall ? "retrall" : "login");
    });

}  // namespace
}  // namespace izypop3::test
