// libFuzzer target for the passwd-file parser (the users file of `serverpop3 users FILE`).
// Invariants: no crash; an error names a line that exists and is one printable line; every
// user line of an accepted file can be found on the line it came from, a {PLAIN} entry
// verifies its own password and nothing longer, the table's forms cover each entry's, and
// an unknown user gets no plaintext secret.
//
// Hashed entries are not verified here: a fuzzed "rounds=999999999" or bcrypt cost 31 is a
// valid (if slow) hash, and one check would outlast the fuzzer's per-input timeout.

#include <izypop3/core/sasl/passwd_file.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "passwd_file invariant broken: %s\n", what);
        std::abort();
    }
}

std::size_t count_lines(std::string_view text) {
    std::size_t n = 0;
    for (std::size_t pos = 0; pos < text.size(); ++n) {
        const std::size_t nl = text.find('\n', pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
    }
    return n;
}

bool covers(const izypop3::core::sasl::secret_forms& all,
            const izypop3::core::sasl::secret_forms& one) {
    return (all.plaintext || !one.plaintext) && (all.scram_sha1 || !one.scram_sha1) &&
           (all.scram_sha256 || !one.scram_sha256);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace izypop3::core::sasl;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = passwd_table::parse(text, "users");
    if (!parsed) {
        const auto& e = parsed.error();
        require(e.line >= 1 && e.line <= count_lines(text), "error line out of range");
        const std::string t = e.text();
        for (const char c : t)
            require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "control octet in error");
        return 0;
    }
    const passwd_table& table = *parsed;
    std::size_t number = 0;
    std::size_t users = 0;
    // A UTF-8 byte order mark before the first line is not part of it.
    for (std::size_t pos = text.starts_with("\xEF\xBB\xBF") ? 3 : 0; pos < text.size();) {
        const std::size_t nl = text.find('\n', pos);
        const std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++number;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;  // blank or comment
        const std::string_view user = line.substr(0, colon);
        if (user.find_first_not_of(" \t") == std::string_view::npos || user.front() == '#' ||
            user.find_first_not_of(" \t") != 0)
            continue;
        const passwd_entry* e = table.find(user);
        require(e != nullptr, "an accepted user line is not in the table");
        require(e->line == number, "entry has the wrong line number");
        ++users;
        require(covers(table.forms(), e->forms()), "table forms miss an entry's forms");
        const auto secret = table.lookup_secret(user);
        require(static_cast<bool>(secret) == (e->scheme != password_scheme::crypt),
                "lookup result does not match the scheme");
        if (e->scheme == password_scheme::plain) {
            require(secret->plaintext == e->secret, "plain lookup differs from the entry");
            require(table.verify_password(user, e->secret), "plain password does not verify");
            require(!table.verify_password(user, e->secret + "x"), "longer password verifies");
        }
    }
    require(users == table.size(), "table size differs from the user lines");
    const auto unknown = table.lookup_secret(std::string_view("\x01unknown", 8));
    require(!unknown || !unknown->plaintext, "unknown user got a plaintext secret");
    return 0;
}
