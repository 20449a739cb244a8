// CAPA (RFC 2449) and LANG (RFC 6856) for server_session.

#include <izypop3/core/server_session.hpp>

#include <cctype>
#include <string>

namespace izypop3::core {

std::vector<std::string> server_session::capabilities() const {
    std::vector<std::string> caps{"TOP"};
    // Before login the maildrop is not open yet; after it, the maildrop decides.
    if (state_ == session_state::authorization || stable_uids_) caps.emplace_back("UIDL");
    caps.emplace_back("RESP-CODES");
    caps.emplace_back("PIPELINING");
    if (state_ == session_state::authorization) {
        caps.emplace_back("AUTH-RESP-CODE");
        if (cleartext_allowed() && config_.verify_passwords) caps.emplace_back("USER");
        std::string sasl = "SASL";
        for (const auto* t : registry().all()) {
            if (!mechanism_offered(*t)) continue;
            sasl += ' ';
            sasl += t->name;
        }
        if (sasl.size() > 4) caps.push_back(std::move(sasl));
        if (config_.tls_available && !config_.tls_active) caps.emplace_back("STLS");
        caps.emplace_back("UTF8 USER");
    } else {
        caps.emplace_back("UTF8");
    }
    add_policy_capabilities(caps);
    caps.emplace_back("LANG");
    caps.emplace_back("IMPLEMENTATION " + config_.implementation);
    if (config_.edit_capabilities) config_.edit_capabilities(state_, caps);
    return caps;
}

// RFC 2449 sections 6.5 and 6.7: before login the server's value, with "USER" when some
// users have their own (then it is the least of them); after login the user's own value.
void server_session::add_policy_capabilities(std::vector<std::string>& caps) const {
    const bool per_user = state_ == session_state::authorization && config_.policy_per_user;
    const std::string_view suffix = per_user ? " USER" : "";
    std::string expire = "EXPIRE ";
    expire += policy_.expire_days ? std::to_string(*policy_.expire_days) : "NEVER";
    expire += suffix;
    caps.push_back(std::move(expire));
    caps.push_back("LOGIN-DELAY " + std::to_string(policy_.login_delay_seconds) +
                   std::string(suffix));
}

void server_session::cmd_capa(const command&) {
    reply_ok("Capability list follows");
    for (const auto& c : capabilities()) send_line(c);
    send_line(".");
}

void server_session::cmd_lang(const command& c) {
    // RFC 6856 section 3: only English is provided; "*" picks the server default.
    if (c.arg_count == 0) {
        reply_ok("Language listing follows");
        send_line("en English");
        send_line(".");
        return;
    }
    std::string tag(c.args[0]);
    for (auto& ch : tag) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (tag == "*" || tag == "en" || tag.starts_with("en-")) {
        reply_ok("en Language changed");
        return;
    }
    reply_err("Unsupported language; only en is available");
}

}  // namespace izypop3::core
