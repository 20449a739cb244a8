#include "path_template.hpp"

#include "fs_ops.hpp"

#include <izypop3/store/errc.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace izypop3::store::detail {

std::string unsafe_user_reason(std::string_view user) {
    if (user.empty()) return "is empty";
    if (user.size() > 200) return "is longer than 200 octets";
    if (user.front() == '.') return "starts with '.'";
    for (char c : user) {
        auto u = static_cast<unsigned char>(c);
        if (c == '/') return "contains '/'";
        if (u == 0) return "contains a NUL octet";
        if (u < 0x20 || u == 0x7f) return "contains a control character";
    }
    return {};
}

boost::system::result<path_template> path_template::parse(std::string_view text,
                                                           std::string& why) {
    path_template t;
    t.text_ = std::string(text);
    if (text.empty()) {
        why = "mimestore.path is empty; give the directory of the store, e.g. "
              "mimestore.path /srv/mail or /srv/mail/%u for one mailbox per user";
        return errc::bad_setting_value;
    }
    std::string* out = &t.prefix_;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out->push_back(text[i]);
            continue;
        }
        char next = i + 1 < text.size() ? text[i + 1] : '\0';
        if (next == '%') {
            out->push_back('%');
        } else if (next == 'u') {
            if (t.per_user_) {
                why = fmt::format("mimestore.path '{}' contains %u more than once; use it once, "
                                  "e.g. /srv/mail/%u",
                                  text);
                return errc::bad_setting_value;
            }
            t.per_user_ = true;
            out = &t.suffix_;
        } else {
            why = fmt::format("mimestore.path '{}' has '%{}'; only %u (the user name) and %% (a "
                              "'%') are replaced",
                              text, next == '\0' ? std::string() : std::string(1, next));
            return errc::bad_setting_value;
        }
        ++i;
    }
    if (!t.per_user_) {
        t.base_ = t.prefix_;
        return t;
    }
    auto slash = t.prefix_.rfind('/');
    if (slash == std::string::npos) {
        t.base_ = ".";
        t.component_head_ = t.prefix_;
    } else {
        t.base_ = slash == 0 ? std::string("/") : t.prefix_.substr(0, slash);
        t.component_head_ = t.prefix_.substr(slash + 1);
    }
    t.component_tail_ = t.suffix_.substr(0, t.suffix_.find('/'));
    return t;
}

std::string path_template::for_user(std::string_view user) const {
    if (!per_user_) return prefix_;
    std::string out = prefix_;
    out.append(user).append(suffix_);
    return out;
}

int path_template::existing_users(std::vector<std::string>& out) const {
    out.clear();
    if (!per_user_) return 0;
    std::vector<dir_entry> entries;
    if (int err = list_dir(base_, entries)) return err;
    const auto& head = component_head_;
    const auto& tail = component_tail_;
    for (const auto& e : entries) {
        if (e.is_regular) continue;
        std::string_view n = e.name;
        if (n.size() <= head.size() + tail.size() || !n.starts_with(head) || !n.ends_with(tail))
            continue;
        std::string user(n.substr(head.size(), n.size() - head.size() - tail.size()));
        if (!unsafe_user_reason(user).empty()) continue;
        file_facts facts;
        if (probe_follow(for_user(user), facts) == 0 && facts.is_dir) out.push_back(user);
    }
    std::sort(out.begin(), out.end());
    return 0;
}

}  // namespace izypop3::store::detail
