#pragma once
// RFC 2449 EXPIRE and LOGIN-DELAY for `serverpop3`: the server's `expire` and `logindelay`,
// each user's userdb_expire= and userdb_logindelay= from the users file, and the time of
// each user's last accepted login. Those times live in the store when it can share them
// between server nodes (mime_store::record_login, the postgres store), else in this process.

#include "serverpop3/user_directory.hpp"

#include <izypop3/core/server_session.hpp>
#include <izypop3/store/store.hpp>
#include <izypop3/transport/logger.hpp>
#include <izypop3/transport/server.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace izypop3::app {

class login_policy {
  public:
    /// `expire_days` uses core::sasl::expire_never for never. `users` may be null (demo
    /// password mode: everyone has the server's values).
    login_policy(std::uint32_t expire_days, std::uint32_t login_delay_seconds,
                 std::shared_ptr<user_directory> users, std::shared_ptr<store::mime_store> data,
                 transport::logger log);

    /// The policy of `user`: the users file's fields, else the server's.
    core::mail_policy policy_of(std::string_view user) const;
    /// server_hooks::admit_login: the user's policy, and whether the login comes too soon.
    transport::login_admission admit(std::string_view user,
                                     std::chrono::system_clock::time_point now);
    /// What CAPA says before login: the least value of the server and the users file, and
    /// whether some user has a value of their own.
    core::mail_policy advertised() const;
    bool per_user() const;

  private:
    std::uint32_t wait_in_process(const std::string& user,
                                  std::chrono::system_clock::time_point now,
                                  std::chrono::seconds delay);

    std::uint32_t expire_days_;
    std::uint32_t login_delay_;
    std::shared_ptr<user_directory> users_;
    std::shared_ptr<store::mime_store> data_;
    std::mutex mutex_;
    std::unordered_map<std::string, std::chrono::system_clock::time_point> last_login_;
    std::atomic<bool> store_keeps_logins_{true};  // until the store says errc::unsupported
    transport::logger log_;
};

/// Wires `policy` into the hooks: admit_login and what CAPA announces before login.
void install_login_policy(const std::shared_ptr<login_policy>& policy,
                          transport::server_hooks& hooks);

}  // namespace izypop3::app
