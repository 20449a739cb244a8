#include "serverpop3/privilege_drop.hpp"

#include <fmt/format.h>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace izypop3::app {

std::optional<unix_identity> resolve_identity(std::string_view user, std::string_view group_name,
                                              std::string& why) {
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* found = nullptr;
    const std::string u(user);
    const int rc = ::getpwnam_r(u.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0 || !found) {
        why = fmt::format(
            "runas: no user '{}' on this machine{}; create it (e.g. adduser --system "
            "izypop3) or name another",
            u, rc ? fmt::format(" ({})", std::strerror(rc)) : "");
        return std::nullopt;
    }
    unix_identity who{u, {}, pw.pw_uid, pw.pw_gid};
    struct group grp {};
    ::group* g = nullptr;
    int grc = 0;
    if (group_name.empty()) {
        grc = ::getgrgid_r(pw.pw_gid, &grp, buf.data(), buf.size(), &g);
        who.group = g ? g->gr_name : std::to_string(pw.pw_gid);
        return who;
    }
    const std::string gname(group_name);
    grc = ::getgrnam_r(gname.c_str(), &grp, buf.data(), buf.size(), &g);
    if (grc != 0 || !g) {
        why = fmt::format("runas.group: no group '{}' on this machine; name an existing group",
                          gname);
        return std::nullopt;
    }
    who.group = gname;
    who.gid = g->gr_gid;
    return who;
}

bool drop_privileges(const unix_identity& who, std::string& why) {
    const auto step = [&](int rc, std::string_view what) {
        if (rc == 0) return true;
        why = fmt::format("runas {}: {} failed: {}", who.user, what, std::strerror(errno));
        return false;
    };
    if (!step(::setgroups(1, &who.gid), "setgroups") || !step(::setgid(who.gid), "setgid") ||
        !step(::setuid(who.uid), "setuid"))
        return false;
    uid_t ruid = 0, euid = 0, suid = 0;
    gid_t rgid = 0, egid = 0, sgid = 0;
    ::getresuid(&ruid, &euid, &suid);
    ::getresgid(&rgid, &egid, &sgid);
    if (ruid != who.uid || euid != who.uid || suid != who.uid || rgid != who.gid ||
        egid != who.gid || sgid != who.gid) {
        why = fmt::format("runas {}: the user and group ids did not all change", who.user);
        return false;
    }
    if (who.uid != 0 && ::setuid(0) == 0) {
        why = fmt::format("runas {}: root could be regained after the drop; refusing to serve",
                          who.user);
        return false;
    }
    return true;
}

std::optional<std::string> first_unreadable(const std::vector<std::string>& paths) {
    for (std::string p : paths) {
        if (const auto pct = p.find('%'); pct != std::string::npos) {
            const auto slash = p.rfind('/', pct);
            p = slash == std::string::npos ? "." : p.substr(0, slash == 0 ? 1 : slash);
        }
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) return fmt::format("{} ({})", p, std::strerror(errno));
        const int mode = S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK;
        if (::access(p.c_str(), mode) != 0) return fmt::format("{} ({})", p, std::strerror(errno));
    }
    return std::nullopt;
}

}  // namespace izypop3::app
