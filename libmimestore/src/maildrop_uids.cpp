#include "maildrop_uids.hpp"

#include "sha256.hpp"

#include <izypop3/store/store_maildrop.hpp>

namespace izypop3::store::detail {

std::string derived_uid(std::string_view material) {
    // Built with append: g++ 12 at -O3 warns falsely (-Wrestrict) on "x" + std::string.
    std::string uid(1, 'x');
    uid.append(sha256_hex(material), 0, 40);
    return uid;
}

std::string maildrop_uids::next(std::string_view mailbox, std::string_view guid) {
    std::string uid = is_valid_uid(guid) ? std::string(guid) : derived_uid(guid);
    for (unsigned n = 1; !seen_.insert(uid).second; ++n) {
        std::string material(mailbox);
        material.append(1, '\n').append(guid).append(1, '\n').append(std::to_string(n));
        uid = derived_uid(material);
    }
    return uid;
}

}  // namespace izypop3::store::detail
