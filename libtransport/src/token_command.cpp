#include "token_command.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace izypop3::transport::detail {
namespace {

using clock_type = std::chrono::steady_clock;

// A user name longer than this is not a user name: the command printed something else.
constexpr std::size_t max_output = 4096;

struct descriptor {
    int fd = -1;
    descriptor() = default;
    explicit descriptor(int f) : fd(f) {}
    descriptor(const descriptor&) = delete;
    descriptor& operator=(const descriptor&) = delete;
    ~descriptor() { reset(); }
    void reset() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

command_verdict temporary(std::string detail) {
    return {command_verdict::kind::temporary, {}, std::move(detail)};
}

// Reads stdout until EOF or the deadline; false when the deadline passed.
bool read_output(int fd, clock_type::time_point deadline, std::string& out) {
    char buf[512];
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return r == 0 ? false : true;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
        if (out.size() < max_output) out.append(buf, static_cast<std::size_t>(n));
    }
}

// Waits for the child until the deadline, then kills it.
std::optional<int> reap(pid_t pid, clock_type::time_point deadline) {
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return std::nullopt;
        if (clock_type::now() >= deadline) break;
        ::usleep(2000);
    }
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return std::nullopt;
}

command_verdict judge(int status, std::string out) {
    if (WIFSIGNALED(status))
        return temporary(fmt::format("oauth2.command was killed by signal {}", WTERMSIG(status)));
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == 75) return temporary("oauth2.command exited with 75 (try again later)");
    if (code == 126 || code == 127)
        return temporary(
            fmt::format("oauth2.command exited with {}: the shell could not run it", code));
    if (code != 0)
        return {command_verdict::kind::invalid,
                {},
                fmt::format("oauth2.command exited with {}: token not valid", code)};
    const auto eol = out.find('\n');
    if (eol != std::string::npos) out.resize(eol);
    if (!out.empty() && out.back() == '\r') out.pop_back();
    if (out.empty())
        return {command_verdict::kind::invalid,
                {},
                "oauth2.command exited with 0 but printed no user name"};
    return {command_verdict::kind::valid, std::move(out), "oauth2.command said valid"};
}

}  // namespace

command_verdict run_token_command(const std::string& command, std::string_view token,
                                  std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    // A socket pair for stdin: send(MSG_NOSIGNAL) cannot raise SIGPIPE when the command
    // exits without reading.
    int in[2], out[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0)
        return temporary(fmt::format("cannot run oauth2.command: {}", std::strerror(errno)));
    descriptor in_parent(in[0]), in_child(in[1]);
    if (::pipe2(out, O_CLOEXEC) != 0)
        return temporary(fmt::format("cannot run oauth2.command: {}", std::strerror(errno)));
    descriptor out_parent(out[0]), out_child(out[1]);

    posix_spawn_file_actions_t actions;
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawn_file_actions_adddup2(&actions, in_child.fd, 0);
    ::posix_spawn_file_actions_adddup2(&actions, out_child.fd, 1);
    // Listening sockets and client connections stay with the server.
    ::posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
    pid_t pid = 0;
    const int err =
        ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, const_cast<char* const*>(argv), environ);
    ::posix_spawn_file_actions_destroy(&actions);
    if (err != 0)
        return temporary(fmt::format("cannot run oauth2.command: {}", std::strerror(err)));
    in_child.reset();
    out_child.reset();

    std::string input(token);
    input += '\n';
    // The token is far smaller than a socket buffer: one send, never a long wait.
    (void)::send(in_parent.fd, input.data(), input.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    std::fill(input.begin(), input.end(), '\0');
    in_parent.reset();

    std::string printed;
    const bool in_time = read_output(out_parent.fd, deadline, printed);
    const auto status = in_time ? reap(pid, deadline) : reap(pid, clock_type::now());
    if (!status)
        return temporary(
            fmt::format("oauth2.command did not finish within {} s and was killed",
                        std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    return judge(*status, std::move(printed));
}

}  // namespace izypop3::transport::detail
