// Dovecot's passwd-file format: `user:{SCHEME}secret[:uid:gid:gecos:home:shell:extra]`.
// The scheme names and the SCRAM field layout are Dovecot's (doveadm pw -l lists the names;
// `doveadm pw -s SCRAM-SHA-256` prints `iterations,salt,StoredKey,ServerKey` in base64).

#include <izypop3/core/sasl/passwd_file.hpp>

#include "sasl/scram_common.hpp"

#include <izypop3/core/base64.hpp>
#include <izypop3/core/crypto.hpp>

#include <crypt.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <memory>
#include <vector>

namespace izypop3::core::sasl {
namespace {

// RFC 7677 section 4 and RFC 5802 section 5.1 ask for at least 4096; the ceiling keeps one
// login from tying up a worker thread for minutes over a typo.
constexpr std::uint32_t min_scram_iterations = detail::scram_min_iterations;
constexpr std::uint32_t max_scram_iterations = 10'000'000;

// Which crypt(3) hashes a scheme accepts.
enum class crypt_family { any, sha256, sha512, bcrypt };

struct scheme_info {
    std::string_view name;       // as written between the braces, upper case
    std::string_view canonical;  // what passwd_entry::scheme_name says
    password_scheme scheme;
    crypt_family family = crypt_family::any;
};

constexpr std::array<scheme_info, 9> schemes{{
    {"PLAIN", "PLAIN", password_scheme::plain},
    {"CLEAR", "PLAIN", password_scheme::plain},
    {"CLEARTEXT", "PLAIN", password_scheme::plain},
    {"CRYPT", "CRYPT", password_scheme::crypt, crypt_family::any},
    {"SHA256-CRYPT", "SHA256-CRYPT", password_scheme::crypt, crypt_family::sha256},
    {"SHA512-CRYPT", "SHA512-CRYPT", password_scheme::crypt, crypt_family::sha512},
    {"BLF-CRYPT", "BLF-CRYPT", password_scheme::crypt, crypt_family::bcrypt},
    {"SCRAM-SHA-1", "SCRAM-SHA-1", password_scheme::scram_sha1},
    {"SCRAM-SHA-256", "SCRAM-SHA-256", password_scheme::scram_sha256},
}};

constexpr std::string_view supported_schemes =
    "PLAIN (or CLEAR, CLEARTEXT), CRYPT, SHA256-CRYPT, SHA512-CRYPT, BLF-CRYPT, SCRAM-SHA-1 "
    "and SCRAM-SHA-256";

std::string upper(std::string_view s) {
    std::string r(s);
    for (auto& c : r)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return r;
}

const scheme_info* find_scheme(std::string_view name) {
    const std::string u = upper(name);
    for (const auto& s : schemes)
        if (s.name == u) return &s;
    return nullptr;
}

// File text quoted in an error: printable ASCII as is, anything else as \xHH, so a message
// is always one safe line.
std::string printable(std::string_view s, std::size_t cap = 64) {
    std::string out;
    for (const char c : s.substr(0, cap)) {
        const auto b = static_cast<unsigned char>(c);
        if (b >= 0x20 && b < 0x7f && c != '\\') {
            out += c;
        } else {
            constexpr char hex[] = "0123456789ABCDEF";
            out += "\\x";
            out += hex[b >> 4];
            out += hex[b & 0xf];
        }
    }
    if (s.size() > cap) out += "...";
    return out;
}

// "a:b::c" -> {"a", "b", "", "c"}; always at least one part.
std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    std::size_t pos = 0;
    while (true) {
        const std::size_t at = text.find(sep, pos);
        parts.push_back(
            text.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
        if (at == std::string_view::npos) return parts;
        pos = at + 1;
    }
}

std::string regenerate_hint(std::string_view scheme) {
    return "regenerate it with: doveadm pw -s " + std::string(scheme);
}

// ---- crypt(3) hashes -------------------------------------------------------------------

bool crypt64_char(char c) noexcept {
    return c == '.' || c == '/' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

bool all_crypt64(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(), crypt64_char);
}

bool all_digits(std::string_view s) noexcept {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// SHA-crypt (Drepper's specification, used by glibc and libxcrypt):
//   $5$ or $6$, optionally "rounds=N$", a salt of 1-16 characters, "$", the encoded hash.
bool sha_crypt_shape(std::string_view h, std::string_view prefix, std::size_t hash_chars) {
    if (!h.starts_with(prefix)) return false;
    h.remove_prefix(prefix.size());
    if (h.starts_with("rounds=")) {
        const std::size_t end = h.find('$');
        if (end == std::string_view::npos) return false;
        const std::string_view n = h.substr(7, end - 7);
        if (!all_digits(n) || n.size() > 9) return false;
        h.remove_prefix(end + 1);
    }
    const std::size_t dollar = h.find('$');
    if (dollar == std::string_view::npos || dollar == 0 || dollar > 16) return false;
    const std::string_view salt = h.substr(0, dollar);
    const std::string_view hash = h.substr(dollar + 1);
    return all_crypt64(salt) && hash.size() == hash_chars && all_crypt64(hash);
}

// bcrypt: $2a$, $2b$ or $2y$, a two-digit cost 04-31, "$", 22 salt + 31 hash characters.
bool bcrypt_shape(std::string_view h) {
    if (h.size() != 60 || h[0] != '$' || h[1] != '2' || h[3] != '$' || h[6] != '$') return false;
    if (h[2] != 'a' && h[2] != 'b' && h[2] != 'y') return false;
    const std::string_view cost = h.substr(4, 2);
    if (!all_digits(cost)) return false;
    const int c = (cost[0] - '0') * 10 + (cost[1] - '0');
    return c >= 4 && c <= 31 && all_crypt64(h.substr(7));
}

// yescrypt ($y$params$salt$hash), Debian's default for /etc/shadow, accepted under {CRYPT}.
bool yescrypt_shape(std::string_view h) {
    if (!h.starts_with("$y$")) return false;
    const auto parts = split(h.substr(3), '$');
    return parts.size() == 3 && std::all_of(parts.begin(), parts.end(), [](std::string_view p) {
               return !p.empty() && all_crypt64(p);
           });
}

bool crypt_shape(std::string_view h, crypt_family f) {
    const bool sha256 = sha_crypt_shape(h, "$5$", 43);
    const bool sha512 = sha_crypt_shape(h, "$6$", 86);
    const bool bcrypt = bcrypt_shape(h);
    switch (f) {
        case crypt_family::sha256:
            return sha256;
        case crypt_family::sha512:
            return sha512;
        case crypt_family::bcrypt:
            return bcrypt;
        case crypt_family::any:
            return sha256 || sha512 || bcrypt || yescrypt_shape(h);
    }
    return false;
}

std::string_view crypt_expectation(crypt_family f) {
    switch (f) {
        case crypt_family::sha256:
            return "$5$[rounds=N$]salt$hash with 43 hash characters";
        case crypt_family::sha512:
            return "$6$[rounds=N$]salt$hash with 86 hash characters";
        case crypt_family::bcrypt:
            return "$2y$NN$ followed by 53 characters";
        case crypt_family::any:
            return "a SHA-crypt ($5$, $6$), bcrypt ($2y$) or yescrypt ($y$) hash";
    }
    return "";
}

bool crypt_matches(std::string_view password, const std::string& hash) {
    // crypt(3) takes a C string: a NUL would cut the password short and let "secret\0junk"
    // pass for "secret".
    if (password.find('\0') != std::string_view::npos) return false;
    const std::string phrase(password);
    // Zero-initialised as libxcrypt asks before first use; 32 KiB, so not on the stack.
    auto data = std::make_unique<crypt_data>();
    const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    if (!out) return false;
    return equal_constant_time(out, hash);
}

// ---- SCRAM keys ------------------------------------------------------------------------

const detail::scram_variant& variant_of(password_scheme s) {
    return s == password_scheme::scram_sha1 ? detail::scram_sha1 : detail::scram_sha256;
}

// Dovecot's layout: iterations,base64(salt),base64(StoredKey),base64(ServerKey).
std::optional<std::string> parse_scram(std::string_view text, password_scheme s,
                                       scram_secret& out) {
    const auto& v = variant_of(s);
    const std::string how = regenerate_hint(v.mechanism);
    const auto f = split(text, ',');
    if (f.size() != 4)
        return "{" + std::string(v.mechanism) +
               "} needs four comma-separated fields, iterations,salt,StoredKey,ServerKey; " + how;
    std::uint64_t n = 0;
    const auto r = std::from_chars(f[0].data(), f[0].data() + f[0].size(), n);
    if (!all_digits(f[0]) || f[0].size() > 9 || r.ec != std::errc() || n < min_scram_iterations ||
        n > max_scram_iterations)
        return "iteration count '" + printable(f[0], 12) + "' is not a number from " +
               std::to_string(min_scram_iterations) + " to " +
               std::to_string(max_scram_iterations) + "; " + how;
    auto salt = base64_decode(f[1]);
    if (!salt || salt->empty()) return "the salt is not valid base64; " + how;
    const std::size_t key_size = detail::hash_size(v.alg);
    auto stored = base64_decode(f[2]);
    if (!stored || stored->size() != key_size)
        return "StoredKey is not base64 of " + std::to_string(key_size) + " octets; " + how;
    auto server = base64_decode(f[3]);
    if (!server || server->size() != key_size)
        return "ServerKey is not base64 of " + std::to_string(key_size) + " octets; " + how;
    out.iterations = static_cast<std::uint32_t>(n);
    out.salt = std::move(*salt);
    out.stored_key = std::move(*stored);
    out.server_key = std::move(*server);
    return std::nullopt;
}

bool scram_matches(std::string_view password, password_scheme s, const scram_secret& k) {
    const auto& v = variant_of(s);
    // Dovecot derives the stored keys from the password's octets as typed (no SASLprep), so
    // the check does the same; for ASCII passwords both agree anyway.
    const std::string salted = pbkdf2(v.alg, password, k.salt, k.iterations);
    const std::string stored = digest(v.alg, hmac(v.alg, salted, "Client Key"));
    return equal_constant_time(stored, k.stored_key);
}

}  // namespace

bool passwords_equal(std::string_view given, std::string_view stored) {
    // Hashing first makes the comparison independent of the lengths as well as of the
    // position of the first difference.
    return equal_constant_time(digest(hash_algorithm::sha256, given),
                               digest(hash_algorithm::sha256, stored));
}

secret_forms passwd_entry::forms() const noexcept {
    switch (scheme) {
        case password_scheme::plain:
            return {true, true, true};
        case password_scheme::crypt:
            return {};
        case password_scheme::scram_sha1:
            return {false, true, false};
        case password_scheme::scram_sha256:
            return {false, false, true};
    }
    return {};
}

bool passwd_entry::verify(std::string_view password) const {
    switch (scheme) {
        case password_scheme::plain:
            return passwords_equal(password, secret);
        case password_scheme::crypt:
            return crypt_matches(password, secret);
        case password_scheme::scram_sha1:
        case password_scheme::scram_sha256:
            return scram_matches(password, scheme, scram);
    }
    return false;
}

std::optional<stored_secret> passwd_entry::secret_for_lookup() const {
    stored_secret s;
    switch (scheme) {
        case password_scheme::plain:
            s.plaintext = secret;
            return s;
        case password_scheme::crypt:
            return std::nullopt;
        case password_scheme::scram_sha1:
            s.scram_sha1 = scram;
            return s;
        case password_scheme::scram_sha256:
            s.scram_sha256 = scram;
            return s;
    }
    return std::nullopt;
}

std::string passwd_file_error::text() const {
    return file + ":" + std::to_string(line) + ": " + message;
}

namespace {

// One line's verdict: an entry, nothing (blank or comment), or what is wrong with it.
struct line_result {
    std::optional<passwd_entry> entry;
    std::optional<std::string> error;
};

line_result fail(std::string message) {
    return {std::nullopt, std::move(message)};
}

// Dovecot's field 8 onwards: allow_nets=, nologin, proxy... all change who may log in.
constexpr std::size_t first_extra_field = 7;
constexpr std::uint32_t max_expire_days = 36500;
constexpr std::uint32_t max_login_delay = 7 * 24 * 3600;

std::optional<std::string> check_user_name(std::string_view user) {
    if (user.empty())
        return std::string("empty user name before ':'; every line is user:{SCHEME}password");
    for (const char c : user) {
        const auto b = static_cast<unsigned char>(c);
        if (b <= 0x20 || b == 0x7f)
            return "user name '" + printable(user) +
                   "' contains a space or a control character, which a POP3 user name cannot "
                   "carry; remove it";
    }
    return std::nullopt;
}

line_result parse_password(passwd_entry e, std::string_view field) {
    const std::string who = "user '" + printable(e.user) + "'";
    if (field.empty())
        return fail(who +
                    " has an empty password field; write {SCHEME}secret, e.g. the output "
                    "of: doveadm pw -s SHA512-CRYPT");
    const scheme_info* scheme = nullptr;
    std::string_view secret = field;
    if (field.front() == '{') {
        const std::size_t close = field.find('}');
        if (close == std::string_view::npos)
            return fail(who +
                        ": '{' without a closing '}' in the password field; write "
                        "{SCHEME}secret, e.g. {PLAIN}secret");
        const std::string_view name = field.substr(1, close - 1);
        scheme = find_scheme(name);
        if (!scheme)
            return fail(who + ": unknown password scheme {" + printable(name, 32) +
                        "}; izypop3 reads " + std::string(supported_schemes) +
                        "; make a hash with: doveadm pw -s SHA512-CRYPT");
        secret = field.substr(close + 1);
        if (secret.empty())
            return fail(who + ": nothing after {" + std::string(scheme->name) +
                        "}; an empty password is not allowed");
    } else {
        // Dovecot's passwd-file reads a password without a prefix as CRYPT (its
        // default_pass_scheme), so a cleartext password there never matches. Saying so
        // beats a login that fails for no visible reason.
        static constexpr scheme_info implicit_crypt{"CRYPT", "CRYPT", password_scheme::crypt,
                                                    crypt_family::any};
        if (!crypt_shape(secret, crypt_family::any))
            return fail(who +
                        ": the password has no {SCHEME} prefix, so it is read as a "
                        "crypt(3) hash as Dovecot does, but it is not one; write "
                        "{PLAIN}password for a cleartext password or use the output of: "
                        "doveadm pw -s SHA512-CRYPT");
        scheme = &implicit_crypt;
    }
    e.scheme = scheme->scheme;
    e.scheme_name = std::string(scheme->canonical);
    switch (e.scheme) {
        case password_scheme::plain:
            e.secret = std::string(secret);
            break;
        case password_scheme::crypt:
            if (!crypt_shape(secret, scheme->family))
                return fail(who + ": the {" + std::string(scheme->name) + "} hash is not " +
                            std::string(crypt_expectation(scheme->family)) + "; " +
                            regenerate_hint(scheme->family == crypt_family::any
                                                ? "SHA512-CRYPT"
                                                : scheme->canonical));
            e.secret = std::string(secret);
            break;
        case password_scheme::scram_sha1:
        case password_scheme::scram_sha256:
            if (auto bad = parse_scram(secret, e.scheme, e.scram)) return fail(who + ": " + *bad);
            break;
    }
    return {std::move(e), std::nullopt};
}

std::optional<std::uint32_t> parse_seconds(std::string_view text) {
    std::uint32_t n = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!all_digits(text) || text.size() > 9 || r.ec != std::errc() || n > max_login_delay)
        return std::nullopt;
    return n;
}

// One extra field: userdb_expire= or userdb_logindelay=; anything else is refused.
std::optional<std::string> parse_extra_field(passwd_entry& e, std::string_view field) {
    const std::string who = "user '" + printable(e.user) + "'";
    const auto eq = field.find('=');
    const std::string_view key = field.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : field.substr(eq + 1);
    if (key == "userdb_expire" && eq != std::string_view::npos) {
        const auto days = parse_expire_days(value);
        if (!days)
            return who + ": userdb_expire='" + printable(value, 16) +
                   "' is not 'never' or a number of days from 0 to 36500";
        if (e.expire_days) return who + ": userdb_expire is given twice; keep one";
        e.expire_days = *days;
        return std::nullopt;
    }
    if (key == "userdb_logindelay" && eq != std::string_view::npos) {
        const auto seconds = parse_seconds(value);
        if (!seconds)
            return who + ": userdb_logindelay='" + printable(value, 16) +
                   "' is not a number of seconds from 0 to " + std::to_string(max_login_delay);
        if (e.login_delay_seconds) return who + ": userdb_logindelay is given twice; keep one";
        e.login_delay_seconds = *seconds;
        return std::nullopt;
    }
    // The field is not quoted: a password typed one column too far would land here.
    return who +
           ": an extra field (field 8 on) other than userdb_expire=never|DAYS and "
           "userdb_logindelay=SECONDS is not supported (allow_nets=, nologin, ... would not "
           "be enforced); remove it";
}

// Dovecot's extra fields are separated by spaces (or tabs).
std::optional<std::string> parse_extra_fields(passwd_entry& e, std::string_view text) {
    for (const auto part : split(text, ' ')) {
        for (const auto field : split(part, '\t')) {
            if (field.empty()) continue;
            if (auto bad = parse_extra_field(e, field)) return bad;
        }
    }
    return std::nullopt;
}

line_result parse_line(std::string_view line, std::size_t number) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\0') != std::string_view::npos)
        return fail("NUL octet in the line; the file must be plain text");
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') return {};
    if (line.find(':') == std::string_view::npos)
        return fail("no ':' after the user name; every line is user:{SCHEME}password");
    const auto fields = split(line, ':');
    passwd_entry e;
    e.user = std::string(fields[0]);
    e.line = number;
    if (auto bad = check_user_name(e.user)) return fail(*bad);
    for (std::size_t i = first_extra_field; i < fields.size(); ++i)
        if (auto bad = parse_extra_fields(e, fields[i])) return fail(*bad);
    return parse_password(std::move(e), fields[1]);
}

// The scheme most entries use (ties: the lower enum value), and its first entry.
std::optional<passwd_entry> commonest_scheme_entry(
    const std::map<std::string, passwd_entry, std::less<>>& entries) {
    std::array<std::size_t, 4> count{};
    std::array<const passwd_entry*, 4> first{};
    for (const auto& kv : entries) {
        const auto i = static_cast<std::size_t>(kv.second.scheme);
        ++count[i];
        if (!first[i] || kv.second.line < first[i]->line) first[i] = &kv.second;
    }
    const auto best =
        static_cast<std::size_t>(std::max_element(count.begin(), count.end()) - count.begin());
    if (!first[best]) return std::nullopt;
    return *first[best];
}

}  // namespace

boost::system::result<passwd_table, passwd_file_error> passwd_table::parse(
    std::string_view text, std::string_view display_name) {
    passwd_table t;
    std::size_t number = 0;
    // Editors on Windows start UTF-8 files with a byte order mark; it is not part of the
    // first user's name.
    std::size_t pos = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        const std::string_view line =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++number;
        auto r = parse_line(line, number);
        if (r.error)
            return passwd_file_error{std::string(display_name), number, std::move(*r.error)};
        if (!r.entry) continue;
        auto it = t.entries_.find(r.entry->user);
        if (it != t.entries_.end())
            return passwd_file_error{
                std::string(display_name), number,
                "user '" + printable(r.entry->user) + "' is already defined on line " +
                    std::to_string(it->second.line) + "; remove one of the two lines"};
        const auto f = r.entry->forms();
        t.forms_.plaintext = t.forms_.plaintext || f.plaintext;
        t.forms_.scram_sha1 = t.forms_.scram_sha1 || f.scram_sha1;
        t.forms_.scram_sha256 = t.forms_.scram_sha256 || f.scram_sha256;
        t.user_policies_ = t.user_policies_ || r.entry->expire_days || r.entry->login_delay_seconds;
        const std::uint32_t days = r.entry->expire_days.value_or(0);
        t.expire_days_ = t.expire_days_ || (days > 0 && days != expire_never);
        std::string key = r.entry->user;
        t.entries_.emplace(std::move(key), std::move(*r.entry));
    }
    t.decoy_ = commonest_scheme_entry(t.entries_);
    t.decoy_key_ = digest(hash_algorithm::sha256,
                          std::string("izypop3 passwd decoy v1\n") + std::string(text));
    return t;
}

std::optional<std::uint32_t> parse_expire_days(std::string_view text) {
    if (upper(text) == "NEVER") return expire_never;
    std::uint32_t n = 0;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
    if (!all_digits(text) || text.size() > 5 || r.ec != std::errc() || n > max_expire_days)
        return std::nullopt;
    return n;
}

std::optional<std::uint32_t> passwd_table::least_expire_days() const {
    std::optional<std::uint32_t> least;
    for (const auto& kv : entries_) {
        const auto& d = kv.second.expire_days;
        if (d && (!least || *d < *least)) least = *d;
    }
    return least;
}

std::optional<std::uint32_t> passwd_table::least_login_delay() const {
    std::optional<std::uint32_t> least;
    for (const auto& kv : entries_) {
        const auto& d = kv.second.login_delay_seconds;
        if (d && (!least || *d < *least)) least = *d;
    }
    return least;
}

const passwd_entry* passwd_table::find(std::string_view user) const {
    const auto it = entries_.find(user);
    return it == entries_.end() ? nullptr : &it->second;
}

bool passwd_table::verify_password(std::string_view user, std::string_view password) const {
    if (const auto* e = find(user)) return e->verify(password);
    // The same work as a wrong password for a typical user; the answer is no either way.
    if (decoy_) (void)decoy_->verify(password);
    return false;
}

std::optional<stored_secret> passwd_table::lookup_secret(std::string_view user) const {
    if (const auto* e = find(user)) return e->secret_for_lookup();
    if (!decoy_ || (decoy_->scheme != password_scheme::scram_sha1 &&
                    decoy_->scheme != password_scheme::scram_sha256))
        return std::nullopt;
    // Keys no password produces: StoredKey is an HMAC output, and finding a ClientKey that
    // hashes to it is a preimage search. The salt is stable per name, so asking twice does
    // not reveal a decoy by a changing salt.
    const auto& v = variant_of(decoy_->scheme);
    const std::string name(user);
    scram_secret k;
    k.iterations = decoy_->scram.iterations;
    k.salt = hmac(hash_algorithm::sha256, decoy_key_, "salt\n" + name)
                 .substr(0, std::max<std::size_t>(decoy_->scram.salt.size(), 1));
    k.stored_key = hmac(v.alg, decoy_key_, "stored\n" + name);
    k.server_key = hmac(v.alg, decoy_key_, "server\n" + name);
    stored_secret s;
    if (decoy_->scheme == password_scheme::scram_sha1)
        s.scram_sha1 = std::move(k);
    else
        s.scram_sha256 = std::move(k);
    return s;
}

}  // namespace izypop3::core::sasl
