// Fingerprints of header sections, for servers without UIDL.

#include <izypop3/core/crypto.hpp>
#include <izypop3/core/header_field.hpp>
#include <izypop3/core/header_fingerprint.hpp>

#include <map>

namespace izypop3::core {

std::string header_fingerprint(std::string_view message) {
    return "hdr-" + to_hex(digest(hash_algorithm::sha256, header_section(message)));
}

void number_repeated_ids(std::vector<std::string>& ids) {
    std::map<std::string, unsigned> seen;
    for (auto& id : ids) {
        const unsigned n = ++seen[id];
        if (n > 1) id += "-" + std::to_string(n);
    }
}

}  // namespace izypop3::core
