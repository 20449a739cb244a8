#pragma once
// Our server running in this process on its own threads, for the self-test and for a load
// run without a server of its own. As in the original's self-test, a user's password is
// the user name itself.

#include <izypop3/store/store.hpp>
#include <izypop3/transport/server.hpp>

#include <memory>
#include <string>
#include <thread>

namespace izypop3::app {

class server_under_test {
public:
    server_under_test(transport::server_options opt, transport::server_hooks hooks,
                      transport::logger log);
    ~server_under_test();
    server_under_test(const server_under_test&) = delete;
    server_under_test& operator=(const server_under_test&) = delete;

    /// Binds and starts serving; `why` names what failed.
    boost::system::error_code start(std::string& why);
    /// Stops and joins; sessions still open end without UPDATE.
    void stop();
    transport::server& get() noexcept { return srv_; }

private:
    transport::server srv_;
    std::thread runner_;
};

/// Hooks that accept any user whose password is its own name, serving `data`.
transport::server_hooks own_name_passwords(std::shared_ptr<store::mime_store> data);

}  // namespace izypop3::app
