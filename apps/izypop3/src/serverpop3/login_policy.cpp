#include "serverpop3/login_policy.hpp"

#include <izypop3/core/sasl/passwd_file.hpp>
#include <izypop3/store/errc.hpp>

#include <algorithm>
#include <utility>

namespace izypop3::app {
namespace {

std::optional<std::uint32_t> as_expire(std::uint32_t days) {
    if (days == core::sasl::expire_never) return std::nullopt;
    return days;
}

// Seconds left until `last + delay`, rounded up so that "try again in N seconds" is never
// too early; at least 1 while the delay runs.
std::uint32_t seconds_left(std::chrono::system_clock::time_point last,
                           std::chrono::system_clock::time_point now, std::chrono::seconds delay) {
    const auto left = last + delay - now;
    if (left <= std::chrono::system_clock::duration::zero()) return 0;
    const auto s = std::chrono::ceil<std::chrono::seconds>(left).count();
    return static_cast<std::uint32_t>(std::max<std::int64_t>(s, 1));
}

// Entries kept before old ones are swept: the demo mode takes any user name.
constexpr std::size_t sweep_above = 100'000;

}  // namespace

login_policy::login_policy(std::uint32_t expire_days, std::uint32_t login_delay_seconds,
                           std::shared_ptr<user_directory> users,
                           std::shared_ptr<store::mime_store> data, transport::logger log)
    : expire_days_(expire_days),
      login_delay_(login_delay_seconds),
      users_(std::move(users)),
      data_(std::move(data)),
      log_(std::move(log)) {}

core::mail_policy login_policy::policy_of(std::string_view user) const {
    std::uint32_t expire = expire_days_;
    std::uint32_t delay = login_delay_;
    if (users_) {
        const auto table = users_->table();
        if (const auto* e = table->find(user)) {
            expire = e->expire_days.value_or(expire);
            delay = e->login_delay_seconds.value_or(delay);
        }
    }
    return core::mail_policy{as_expire(expire), delay};
}

core::mail_policy login_policy::advertised() const {
    std::uint32_t expire = expire_days_;
    std::uint32_t delay = login_delay_;
    if (users_) {
        const auto table = users_->table();
        expire = std::min(expire, table->least_expire_days().value_or(expire));
        delay = std::min(delay, table->least_login_delay().value_or(delay));
    }
    return core::mail_policy{as_expire(expire), delay};
}

bool login_policy::per_user() const {
    return users_ && users_->table()->has_user_policies();
}

std::uint32_t login_policy::wait_in_process(const std::string& user,
                                            std::chrono::system_clock::time_point now,
                                            std::chrono::seconds delay) {
    std::lock_guard lock(mutex_);
    if (last_login_.size() > sweep_above) {
        // Only entries whose every possible delay has run out can go.
        const auto longest = std::chrono::seconds(7 * 24 * 3600);
        std::erase_if(last_login_, [&](const auto& kv) { return kv.second + longest <= now; });
    }
    auto [it, fresh] = last_login_.try_emplace(user, now);
    if (fresh) return 0;
    const std::uint32_t wait = seconds_left(it->second, now, delay);
    if (wait == 0) it->second = now;
    return wait;
}

transport::login_admission login_policy::admit(std::string_view user,
                                               std::chrono::system_clock::time_point now) {
    transport::login_admission a;
    a.policy = policy_of(user);
    if (a.policy.login_delay_seconds == 0) return a;
    const std::chrono::seconds delay(a.policy.login_delay_seconds);
    if (store_keeps_logins_) {
        auto r = data_->record_login(user, now, delay);
        if (r) {
            a.wait_seconds = *r;
            return a;
        }
        // Only "not kept there" falls back to this process, for good. A store that keeps
        // login times but fails now lets the login in: LOGIN-DELAY spares the server's
        // load, it protects nothing, and the maildrop in that store did open.
        if (r.error() != store::errc::unsupported) {
            log_.warn("login time of {} not checked, login allowed: {}",
                      transport::sanitize_for_log(user, 80), r.error().message());
            return a;
        }
        store_keeps_logins_ = false;
    }
    a.wait_seconds = wait_in_process(std::string(user), now, delay);
    return a;
}

void install_login_policy(const std::shared_ptr<login_policy>& policy,
                          transport::server_hooks& hooks) {
    hooks.admit_login = [policy](std::string_view user, std::chrono::system_clock::time_point now) {
        return policy->admit(user, now);
    };
    hooks.advertised_policy = policy->advertised();
    hooks.policy_per_user = policy->per_user();
}

}  // namespace izypop3::app
