#include "selftest/selftest_server.hpp"

#include <izypop3/store/store_maildrop.hpp>

namespace izypop3::app {

server_under_test::server_under_test(transport::server_options opt,
                                     transport::server_hooks hooks, transport::logger log)
    : srv_(std::move(opt), std::move(hooks), std::move(log)) {}

server_under_test::~server_under_test() { stop(); }

boost::system::error_code server_under_test::start(std::string& why) {
    if (auto ec = srv_.start(why)) return ec;
    runner_ = std::thread([this] { srv_.run(false); });
    return {};
}

void server_under_test::stop() {
    if (!runner_.joinable()) return;
    srv_.stop();
    runner_.join();
}

transport::server_hooks own_name_passwords(std::shared_ptr<store::mime_store> data) {
    transport::server_hooks hooks;
    hooks.verify_password = [](std::string_view user, std::string_view pass) {
        return user == pass ? core::auth_outcome::accepted : core::auth_outcome::rejected;
    };
    hooks.lookup_secret = [](std::string_view user) {
        core::sasl::stored_secret s;
        s.plaintext = std::string(user);
        return std::optional(s);
    };
    hooks.secret_forms.plaintext = true;
    hooks.maildrops_local = data->reads_locally();
    hooks.open_maildrop = [data](std::string_view user)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        auto md = data->open_maildrop(user);
        if (!md) return store::to_maildrop_failure(md.error());
        return std::move(*md);
    };
    return hooks;
}

}  // namespace izypop3::app
