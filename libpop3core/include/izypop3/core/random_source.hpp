#pragma once
// Where sessions get unpredictable octets (APOP timestamps, SASL nonces). Injected so that
// transcript tests can be deterministic; the default draws from OpenSSL's CSPRNG.

#include <cstddef>
#include <functional>
#include <string>

namespace izypop3::core {

using random_source = std::function<std::string(std::size_t count)>;

/// The default source: OpenSSL RAND_bytes. Aborts if the CSPRNG fails (nothing safe to do).
random_source system_random();

}  // namespace izypop3::core
