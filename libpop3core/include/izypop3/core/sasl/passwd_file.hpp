#pragma once
// Dovecot's passwd-file format as a credential table: parsing and password checks.
//
//   # comment
//   alice:{PLAIN}wonderland
//   bob:{SHA512-CRYPT}$6$salt$hash:1000:1000::/home/bob:/bin/sh
//   carol:{SCRAM-SHA-256}4096,<base64 salt>,<base64 StoredKey>,<base64 ServerKey>
//
//   dave:{PLAIN}secret::::::userdb_expire=0 userdb_logindelay=300
//
// uid, gid, gecos, home and shell (fields 3-7) are ignored. Of Dovecot's extra fields (field
// 8 on, space-separated) two are read: userdb_expire=never|DAYS and userdb_logindelay=SECONDS,
// the user's own RFC 2449 EXPIRE and LOGIN-DELAY (serverpop3's `expire` and `logindelay`).
// Any other extra field (allow_nets=, nologin, ...) restricts or changes logins, so it is an
// error rather than a rule silently dropped.
// Sans-I/O: the caller reads the file and passes its text; nothing here opens a file.

#include <izypop3/core/sasl/credentials.hpp>

#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace izypop3::core::sasl {

/// How an entry keeps its password.
enum class password_scheme {
    plain,         ///< {PLAIN}, {CLEAR}, {CLEARTEXT}: the password itself
    crypt,         ///< {CRYPT}, {SHA256-CRYPT}, {SHA512-CRYPT}, {BLF-CRYPT}: a crypt(3) hash
    scram_sha1,    ///< {SCRAM-SHA-1}: RFC 5802 keys
    scram_sha256,  ///< {SCRAM-SHA-256}: RFC 7677 keys
};

/// One user of the file.
struct passwd_entry {
    std::string user;
    password_scheme scheme = password_scheme::plain;
    std::string scheme_name;  ///< canonical upper-case name, "SHA512-CRYPT"; "CRYPT" without prefix
    std::string secret;       ///< plain: the password; crypt: the hash ("$6$..."); scram: empty
    scram_secret scram;       ///< scram schemes only
    std::size_t line = 0;     ///< 1-based line in the file
    /// userdb_expire, when the line has one: days, or expire_never.
    std::optional<std::uint32_t> expire_days;
    std::optional<std::uint32_t> login_delay_seconds;  ///< userdb_logindelay

    /// The secret forms this entry can hand to a SASL mechanism: plain gives all three (SCRAM
    /// keys are derived), a SCRAM entry its own, a crypt hash none (password checks only).
    secret_forms forms() const noexcept;
    /// Checks a cleartext password against the entry. Constant time in where the password
    /// differs; its cost is the scheme's (a crypt or PBKDF2 run for hashed entries).
    bool verify(std::string_view password) const;
    /// The secret for lookup_secret: nullopt for a crypt hash, which can serve no mechanism
    /// that needs a stored secret.
    std::optional<stored_secret> secret_for_lookup() const;
};

/// A line the parser could not accept.
struct passwd_file_error {
    std::string file;      ///< display name given to parse()
    std::size_t line = 0;  ///< 1-based
    std::string message;   ///< what is wrong and how to fix it; never contains a password
    /// "FILE:LINE: message".
    std::string text() const;
};

/// The users of one passwd-file. Immutable after parse(); safe to share between threads.
class passwd_table {
  public:
    /// Parses the whole file. `display_name` (usually the path) only appears in errors.
    /// Blank lines and lines whose first non-blank character is '#' are skipped; a line may
    /// end in CRLF. The first bad line ends parsing with an error naming it.
    static boost::system::result<passwd_table, passwd_file_error> parse(
        std::string_view text, std::string_view display_name);

    /// nullptr for an unknown user. Names are compared exactly (case-sensitive).
    const passwd_entry* find(std::string_view user) const;

    /// Checks `password` for `user`. An unknown user costs what a wrong password for the
    /// file's commonest scheme costs (that scheme's check runs on a decoy), so timing does
    /// not tell unknown users from known ones (RFC 1939 section 13).
    bool verify_password(std::string_view user, std::string_view password) const;

    /// The user's secret for APOP, CRAM-MD5 and SCRAM; nullopt for an unknown user or a
    /// crypt entry. When SCRAM keys are the file's commonest scheme, an unknown user gets
    /// decoy keys (a salt that is stable per name, the usual iteration count, keys no
    /// password yields), so the server-first message and its cost look like a real user's;
    /// otherwise the mechanisms' own unknown-user path already costs what a plain entry does.
    std::optional<stored_secret> lookup_secret(std::string_view user) const;

    /// The union over all entries: which mechanisms some user can use.
    secret_forms forms() const noexcept { return forms_; }
    std::size_t size() const noexcept { return entries_.size(); }
    /// Some entry has userdb_expire or userdb_logindelay.
    bool has_user_policies() const noexcept { return user_policies_; }
    /// Some entry has a userdb_expire of days (neither 0 nor never): the store must keep
    /// retrieval times.
    bool has_expire_days() const noexcept { return expire_days_; }
    /// The least userdb_expire over all entries (expire_never counts as the most), when
    /// any has one.
    std::optional<std::uint32_t> least_expire_days() const;
    /// The least userdb_logindelay over all entries, when any has one.
    std::optional<std::uint32_t> least_login_delay() const;
    bool empty() const noexcept { return entries_.empty(); }

  private:
    std::map<std::string, passwd_entry, std::less<>> entries_;
    secret_forms forms_{};
    std::optional<passwd_entry> decoy_;  // a copy of the first entry of the commonest scheme
    std::string decoy_key_;              // keys the decoy SCRAM values: digest of the file
    bool user_policies_ = false;
    bool expire_days_ = false;
};

/// The EXPIRE value "NEVER" where a number of days is kept.
inline constexpr std::uint32_t expire_never = 0xffffffffu;

/// "never" (any case, as expire_never) or a whole number of days from 0 to 36500: the value
/// of serverpop3's `expire` and of userdb_expire. nullopt: not such a value.
std::optional<std::uint32_t> parse_expire_days(std::string_view text);

/// Compares a given password with a stored plaintext one in time that depends on neither
/// where they differ nor their lengths (both are hashed first, then compared with
/// CRYPTO_memcmp).
bool passwords_equal(std::string_view given, std::string_view stored);

}  // namespace izypop3::core::sasl
