#pragma once
// A server certificate and key in PEM, loaded from files or made at start-up.

#include <boost/system/result.hpp>

#include <string>
#include <string_view>

namespace izypop3::transport {

struct tls_identity {
    std::string certificate_pem;  ///< the chain, leaf first
    std::string private_key_pem;
    std::string fingerprint_sha256;  ///< of the leaf, "AB:CD:..."
};

/// A fresh ECDSA P-256 key and a self-signed certificate for `host_name` (also valid for
/// localhost, 127.0.0.1 and ::1), valid for a year. For development and tests: clients must
/// pin its fingerprint or turn verification off.
boost::system::result<tls_identity> make_self_signed_identity(std::string_view host_name);

/// Reads PEM files. `error_text` says which file and what is wrong.
boost::system::result<tls_identity> load_identity(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  std::string& error_text);

/// SHA-256 fingerprint of the first certificate in `pem`.
std::string fingerprint_of(std::string_view certificate_pem);

}  // namespace izypop3::transport
