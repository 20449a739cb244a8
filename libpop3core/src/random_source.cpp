#include <izypop3/core/random_source.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>

namespace izypop3::core {

random_source system_random() {
    return [](std::size_t count) {
        std::string out(count, '\0');
        std::size_t done = 0;
        while (done < count) {
            const std::size_t chunk = std::min<std::size_t>(count - done, INT_MAX);
            // A failing CSPRNG leaves no safe way to make nonces or timestamps: predictable
            // ones would let an attacker replay APOP/CRAM-MD5/SCRAM exchanges.
            if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data() + done),
                           static_cast<int>(chunk)) != 1) {
                std::fputs("izypop3: RAND_bytes failed; aborting\n", stderr);
                std::abort();
            }
            done += chunk;
        }
        return out;
    };
}

}  // namespace izypop3::core
