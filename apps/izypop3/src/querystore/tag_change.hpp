#pragma once
// querystore's `mark TAG` and `unmark TAG`: the original's markAs (and its inverse) on the
// items a query lists, with a report of what changed for each item.
//
// pop3failed records are clientpop3's: `mark pop3failed` and `unmark pop3failed` are refused
// (a record is not a message and a message is not a record), and so is a status change of a
// record, which would make it look like a stored message; other tags may come and go.

#include <izypop3/store/store.hpp>

#include <boost/json/object.hpp>

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

struct tag_change {
    enum class kind { mark, unmark };
    kind what = kind::mark;
    std::string tag;
};

/// Why `change` may not be asked for at all (a usage error); nullopt when it may.
std::optional<std::string> refused_tag_change(const tag_change& change);

/// What happened to one item.
struct item_change {
    std::string guid;
    std::string mailbox;
    std::vector<std::string> before;
    std::vector<std::string> after;  ///< as the store's rule makes them (item.hpp)
    enum class outcome { changed, unchanged, refused, failed } result = outcome::unchanged;
    std::string why;  ///< for refused and failed
};

/// Applies `change` to each of `items` in `store`, in order; one entry per item.
std::vector<item_change> apply_tag_change(store::mime_store& store,
                                          const std::vector<store::item>& items,
                                          const tag_change& change);

/// `store fake: mark archive on the 2 listed of 5 matching items`, a line per item
/// (`guid_1  unread -> archive`), then the totals.
void write_tag_changes_text(std::ostream& out, std::string_view store_kind,
                            const tag_change& change, std::uint64_t matching,
                            const std::vector<item_change>& changes);

/// {"store","action","tag","count","selected","changed","unchanged","refused","failed",
/// "items":[{"guid","mailbox","before","after","outcome","why"?}]}.
boost::json::object tag_changes_json(std::string_view store_kind, const tag_change& change,
                                     std::uint64_t matching,
                                     const std::vector<item_change>& changes);

/// True when every item was changed or already as asked.
bool all_applied(const std::vector<item_change>& changes);

}  // namespace izypop3::app
