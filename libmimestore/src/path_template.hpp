#pragma once
// mimestore.path with Dovecot's "%u": "/srv/mail/%u" gives every user a mailbox directory
// of their own. User names are checked before they become part of a path, so no name can
// reach outside the directory that holds the mailboxes.

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace izypop3::store::detail {

/// Why `user` cannot name a mailbox directory ("contains '/'", ...), or empty when it can:
/// 1 to 200 octets, no '/', no NUL or other control character, not starting with '.'
/// (which also refuses "." and "..").
std::string unsafe_user_reason(std::string_view user);

class path_template {
public:
    /// Parses a mimestore.path value: "%u" (at most once) stands for the user name, "%%"
    /// for a '%'; any other '%' is refused with bad_setting_value and a one-line `why`.
    static boost::system::result<path_template> parse(std::string_view text, std::string& why);

    bool per_user() const noexcept { return per_user_; }
    /// The value as the user wrote it (for messages).
    const std::string& text() const noexcept { return text_; }
    /// Without %u: the mailbox directory. With %u: the directory that holds the users'
    /// mailboxes (everything before the path component that contains %u).
    const std::string& base() const noexcept { return base_; }
    /// The mailbox directory of `user`, which must pass unsafe_user_reason.
    std::string for_user(std::string_view user) const;
    /// Users whose mailbox directory exists, sorted. Returns 0 or the errno of listing
    /// base() (a missing base is no users).
    int existing_users(std::vector<std::string>& out) const;

private:
    std::string text_;
    bool per_user_ = false;
    std::string prefix_;  // literal text before %u
    std::string suffix_;  // literal text after %u
    std::string base_;
    std::string component_head_;  // the part of the %u component before / after %u
    std::string component_tail_;
};

}  // namespace izypop3::store::detail
