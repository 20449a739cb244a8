// PLAIN (RFC 4616): message = [authzid] NUL authcid NUL passwd.

#include "sasl/server_mechanisms.hpp"

namespace izypop3::core::sasl::detail {
namespace {

class plain_server final : public server_mechanism {
  public:
    step_result start(std::optional<std::string_view> initial) override {
        if (state_ != state::fresh) return fail("start called twice", false);
        if (!initial) {
            // RFC 4422 section 5: no initial response -> an empty challenge ("+ ").
            state_ = state::awaiting_message;
            return step::challenge{};
        }
        return evaluate(*initial);
    }

    step_result next(std::string_view response) override {
        if (state_ != state::awaiting_message) return fail("unexpected response", true);
        return evaluate(response);
    }

  private:
    enum class state { fresh, awaiting_message, done };

    step_result fail(std::string reason, bool malformed) {
        state_ = state::done;
        return step::failure{std::move(reason), malformed};
    }

    step_result evaluate(std::string_view msg) {
        state_ = state::done;
        const std::size_t nul1 = msg.find('\0');
        if (nul1 == std::string_view::npos) return fail("PLAIN message without NUL", true);
        const std::size_t nul2 = msg.find('\0', nul1 + 1);
        if (nul2 == std::string_view::npos) return fail("PLAIN message with one NUL", true);
        if (msg.find('\0', nul2 + 1) != std::string_view::npos)
            return fail("PLAIN message with more than two NULs", true);
        const std::string_view authzid = msg.substr(0, nul1);
        const std::string_view authcid = msg.substr(nul1 + 1, nul2 - nul1 - 1);
        const std::string_view password = msg.substr(nul2 + 1);
        // RFC 4616 section 2: authcid and passwd are 1*SAFE.
        if (authcid.empty()) return fail("PLAIN message with an empty authcid", true);
        if (password.empty()) return fail("PLAIN message with an empty password", true);
        // Proxy authorization (acting as another user) is not supported; an authzid equal
        // to the authcid asks for nothing more than the login itself.
        if (!authzid.empty() && authzid != authcid)
            return fail("authorization identity differs from the authentication identity", false);
        return step::verify_password{std::string(authcid), std::string(authzid),
                                     std::string(password)};
    }

    state state_ = state::fresh;
};

}  // namespace

std::unique_ptr<server_mechanism> make_plain_server() {
    return std::make_unique<plain_server>();
}

}  // namespace izypop3::core::sasl::detail
