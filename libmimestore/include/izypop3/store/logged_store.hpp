#pragma once
// mimestore.verbose: a mime_store that hands every call to another store and describes each
// operation in one line, with what it did and how long the store took:
//
//   query mailbox=* tags=unread limit=10 asc: 10 of 99 items, 5403210 octets, 0.412 ms
//   read guid_6 (alice): 5242880 octets in 81 reads, 3.905 ms
//   commit guid_3 (alice): added, 1353 octets in 1 write (0.004 ms), 1.873 ms
//
// The store library has no logger: the caller passes where the lines go (the app's logger).
// Lines carry guids, tags and user names as the store has them; the sink must make them safe
// for its output. Message octets never appear.

#include <izypop3/store/store.hpp>

#include <functional>
#include <memory>
#include <string_view>

namespace izypop3::store {

/// Receives one line per store operation. Called from whichever thread used the store.
using store_log = std::function<void(std::string_view line)>;

/// `inner` wrapped so that each operation, and each operation of the writers, message
/// sources and maildrops it hands out, is written to `log` with its duration.
[[nodiscard]] std::unique_ptr<mime_store> make_logged_store(std::unique_ptr<mime_store> inner,
                                                            store_log log);

}  // namespace izypop3::store
