#include <izypop3/core/errc.hpp>

#include <string>

namespace izypop3::core {
namespace {

class category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "izypop3.core"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::line_too_long:
                return "line too long";
            case errc::nul_in_line:
                return "NUL octet in line";
            case errc::empty_command:
                return "empty command";
            case errc::unknown_command:
                return "unknown command";
            case errc::missing_argument:
                return "missing argument";
            case errc::too_many_arguments:
                return "too many arguments";
            case errc::bad_message_number:
                return "invalid message number";
            case errc::bad_line_count:
                return "invalid line count";
            case errc::argument_too_long:
                return "argument too long";
            case errc::malformed_status:
                return "malformed status line from server";
            case errc::malformed_listing:
                return "malformed listing line from server";
            case errc::bad_uid:
                return "invalid unique-id from server";
            case errc::body_too_large:
                return "message larger than allowed";
            case errc::body_incomplete:
                return "message ended before its terminator";
            case errc::unexpected_data:
                return "unexpected data from peer";
            case errc::bad_base64:
                return "invalid base64";
            case errc::sasl_bad_message:
                return "malformed SASL message";
            case errc::sasl_cancelled:
                return "authentication cancelled";
            case errc::sasl_server_not_verified:
                return "server signature not verified";
            case errc::mechanism_unavailable:
                return "authentication mechanism not available";
            case errc::authentication_failed:
                return "authentication failed";
            case errc::tls_required:
                return "TLS required but not available";
            case errc::protocol_violation:
                return "protocol violation";
            case errc::cleartext_refused:
                return "password not sent in clear without TLS";
            case errc::listing_rejected:
                return "inconsistent message listing from server";
            case errc::login_deferred:
                return "login refused for now, try again later";
        }
        return "unknown izypop3.core error";
    }
};

}  // namespace

const boost::system::error_category& core_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace izypop3::core
