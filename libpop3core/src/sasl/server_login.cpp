// LOGIN (draft-murchison-sasl-login): the server asks for the user name, then the password.
// The prompts are fixed texts that widespread clients ignore; the session base64-encodes them.

#include "sasl/server_mechanisms.hpp"

namespace izypop3::core::sasl::detail {
namespace {

class login_server final : public server_mechanism {
  public:
    step_result start(std::optional<std::string_view> initial) override {
        if (state_ != state::fresh) return fail("start called twice", false);
        if (!initial) {
            state_ = state::awaiting_user;
            return step::challenge{"Username:"};
        }
        return take_user(*initial);  // an initial response carries the user name
    }

    step_result next(std::string_view response) override {
        switch (state_) {
            case state::awaiting_user:
                return take_user(response);
            case state::awaiting_password: {
                state_ = state::done;
                if (response.empty()) return fail("LOGIN with an empty password", true);
                if (response.find('\0') != std::string_view::npos)
                    return fail("LOGIN password with a NUL", true);
                return step::verify_password{std::move(user_), std::string(),
                                             std::string(response)};
            }
            default:
                return fail("unexpected response", true);
        }
    }

  private:
    enum class state { fresh, awaiting_user, awaiting_password, done };

    step_result fail(std::string reason, bool malformed) {
        state_ = state::done;
        return step::failure{std::move(reason), malformed};
    }

    step_result take_user(std::string_view user) {
        if (user.empty()) return fail("LOGIN with an empty user name", true);
        if (user.find('\0') != std::string_view::npos)
            return fail("LOGIN user name with a NUL", true);
        user_ = std::string(user);
        state_ = state::awaiting_password;
        return step::challenge{"Password:"};
    }

    state state_ = state::fresh;
    std::string user_;
};

}  // namespace

std::unique_ptr<server_mechanism> make_login_server() {
    return std::make_unique<login_server>();
}

}  // namespace izypop3::core::sasl::detail
