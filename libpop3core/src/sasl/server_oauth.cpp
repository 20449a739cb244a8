// Bearer-token mechanisms: OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and Microsoft's
// definition). Both carry the same facts, a login name and an RFC 6750 bearer token, in
// ^A-separated key=value lists; the environment says whose token it is (step::verify_token)
// and the mechanism compares that with the login name.

#include "sasl/scram_common.hpp"
#include "sasl/server_mechanisms.hpp"

#include <cctype>
#include <map>

namespace izypop3::core::sasl::detail {
namespace {

constexpr char kvsep = '\x01';

struct bearer_message {
    std::string user;  // empty: none named (OAUTHBEARER without authzid)
    std::string token;
};

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" )
// *"=". Checked here so that nothing else (a validation command's stdin, a log) ever sees a
// control character or a space from this field.
bool is_b64token(std::string_view t) noexcept {
    std::size_t i = 0;
    for (; i < t.size(); ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (!std::isalnum(c) && c != '-' && c != '.' && c != '_' && c != '~' && c != '+' &&
            c != '/')
            break;
    }
    if (i == 0) return false;
    for (; i < t.size(); ++i)
        if (t[i] != '=') return false;
    return true;
}

// "auth" holds an HTTP Authorization value: the scheme is case-insensitive (RFC 7235).
std::optional<std::string> bearer_token_of(std::string_view auth) {
    constexpr std::string_view scheme = "Bearer ";
    if (auth.size() <= scheme.size() || !iequals_ascii(auth.substr(0, scheme.size()), scheme))
        return std::nullopt;
    const std::string_view token = auth.substr(scheme.size());
    if (!is_b64token(token)) return std::nullopt;
    return std::string(token);
}

// key=value ^A ... ^A, the list closed by a second ^A (RFC 7628 section 3.1 kvpairs; XOAUTH2
// has the same shape). Keys are 1*ALPHA and appear once; values are printable or white space.
std::optional<std::map<std::string, std::string, std::less<>>> parse_pairs(std::string_view s) {
    std::map<std::string, std::string, std::less<>> pairs;
    while (s != std::string_view(&kvsep, 1)) {
        const std::size_t end = s.find(kvsep);
        if (end == std::string_view::npos || end == 0) return std::nullopt;
        const std::string_view pair = s.substr(0, end);
        s.remove_prefix(end + 1);
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) return std::nullopt;
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value = pair.substr(eq + 1);
        for (const char c : key)
            if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
        for (const char c : value) {
            const auto u = static_cast<unsigned char>(c);
            if (u < 0x20 && c != '\t' && c != '\r' && c != '\n') return std::nullopt;
            if (u == 0x7f) return std::nullopt;
        }
        if (!pairs.emplace(key, value).second) return std::nullopt;
    }
    return pairs;
}

std::optional<std::string> token_from(const std::map<std::string, std::string, std::less<>>& p) {
    const auto auth = p.find("auth");
    if (auth == p.end()) return std::nullopt;
    return bearer_token_of(auth->second);
}

// RFC 7628 section 3.1: gs2-header ("n,", "y," then [a=saslname] ",") ^A kvpairs ^A. No
// channel binding exists for OAUTHBEARER, so a "p=" flag is malformed.
std::optional<bearer_message> parse_oauthbearer(std::string_view m) {
    if (m.size() < 2 || (m[0] != 'n' && m[0] != 'y') || m[1] != ',') return std::nullopt;
    m.remove_prefix(2);
    const std::size_t comma = m.find(',');
    if (comma == std::string_view::npos) return std::nullopt;
    bearer_message out;
    if (comma > 0) {
        const std::string_view authzid = m.substr(0, comma);
        if (!authzid.starts_with("a=") || authzid.size() == 2) return std::nullopt;
        auto name = scram_unescape_name(authzid.substr(2));
        if (!name || name->find('\0') != std::string::npos) return std::nullopt;
        out.user = std::move(*name);
    }
    m.remove_prefix(comma + 1);
    if (m.empty() || m[0] != kvsep) return std::nullopt;
    m.remove_prefix(1);
    auto pairs = parse_pairs(m);
    if (!pairs) return std::nullopt;
    auto token = token_from(*pairs);
    if (!token) return std::nullopt;
    out.token = std::move(*token);
    return out;
}

// user=NAME ^A auth=Bearer TOKEN ^A ^A.
std::optional<bearer_message> parse_xoauth2(std::string_view m) {
    auto pairs = parse_pairs(m);
    if (!pairs) return std::nullopt;
    const auto user = pairs->find("user");
    if (user == pairs->end() || user->second.empty()) return std::nullopt;
    auto token = token_from(*pairs);
    if (!token) return std::nullopt;
    return bearer_message{user->second, std::move(*token)};
}

using message_parser = std::optional<bearer_message> (*)(std::string_view);

class bearer_server final : public server_mechanism {
  public:
    bearer_server(message_parser parse, std::string error_json)
        : parse_(parse), error_json_(std::move(error_json)) {}

    step_result start(std::optional<std::string_view> initial) override {
        if (state_ != state::fresh) return fail("start called twice", false);
        if (!initial) {
            // The two-step form (Microsoft's POP3 needs it): an empty first challenge.
            state_ = state::awaiting_message;
            return step::challenge{};
        }
        return evaluate(*initial);
    }

    step_result next(std::string_view response) override {
        if (state_ != state::awaiting_message) return fail("unexpected response", true);
        return evaluate(response);
    }

    step_result resume_token(const std::optional<std::string>& owner) override {
        if (state_ != state::awaiting_verdict) return fail("unexpected token verdict", false);
        state_ = state::done;
        if (!owner || owner->empty())
            return step::error_challenge{error_json_, "bearer token not valid"};
        if (!user_.empty() && user_ != *owner)
            return step::error_challenge{error_json_, "bearer token belongs to another user"};
        return step::success{*owner};
    }

  private:
    enum class state { fresh, awaiting_message, awaiting_verdict, done };

    step_result fail(std::string reason, bool malformed) {
        state_ = state::done;
        return step::failure{std::move(reason), malformed};
    }

    step_result evaluate(std::string_view msg) {
        auto parsed = parse_(msg);
        if (!parsed) return fail("malformed bearer token message", true);
        for (const char c : parsed->user)
            if (static_cast<unsigned char>(c) < 0x20 || c == '\x7f')
                return fail("control character in the login name", true);
        state_ = state::awaiting_verdict;
        user_ = parsed->user;
        return step::verify_token{std::move(parsed->user), std::move(parsed->token)};
    }

    message_parser parse_;
    std::string error_json_;
    std::string user_;
    state state_ = state::fresh;
};

}  // namespace

std::unique_ptr<server_mechanism> make_oauthbearer_server() {
    // RFC 7628 section 3.2.2: the error is a JSON object whose "status" is an RFC 6750
    // error code.
    return std::make_unique<bearer_server>(parse_oauthbearer, R"({"status":"invalid_token"})");
}

std::unique_ptr<server_mechanism> make_xoauth2_server() {
    // Google's XOAUTH2 reports an HTTP status code in "status".
    return std::make_unique<bearer_server>(parse_xoauth2, R"({"status":"401","schemes":"bearer"})");
}

}  // namespace izypop3::core::sasl::detail
