#pragma once
// runas USER (runas.group GROUP): the server binds its ports and reads its keys as root,
// then becomes USER before it serves anything. The drop is checked, not assumed: after
// setgroups/setgid/setuid, getting root back with setuid(0) must fail.

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

struct unix_identity {
    std::string user;
    std::string group;
    uid_t uid = 0;
    gid_t gid = 0;
};

/// USER and GROUP (empty: USER's primary group) from the password and group databases;
/// nothing after a one-line error in `why`.
std::optional<unix_identity> resolve_identity(std::string_view user, std::string_view group,
                                              std::string& why);

/// Becomes `who` for good: only `who.gid` as group (no supplementary groups), then the user.
/// False with `why` when a step fails or root can be regained.
bool drop_privileges(const unix_identity& who, std::string& why);

/// The first of `paths` that the process cannot read now (a directory must also be
/// searchable), with the reason; nothing when all can. A path with a % (a per-user
/// template) is checked up to the directory before its first %.
std::optional<std::string> first_unreadable(const std::vector<std::string>& paths);

}  // namespace izypop3::app
