#pragma once
// Runs one store query and prints its result, as `test testtype mimestore` does (the
// original's query(tags, limit) -> {count, totalSize, items}), in a stable text form or
// as one JSON object.

#include "cli/methods.hpp"

#include <izypop3/store/store.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

/// The query.tags values, each split at commas: "a,b" "c" -> {a, b, c}. Surrounding spaces
/// and empty pieces are dropped, and so are repeats (the first one stays).
std::vector<std::string> split_tags(const std::vector<std::string>& values);

/// "2024-05-01T12:00:00Z" (whole seconds, UTC).
std::string iso8601_utc(std::chrono::system_clock::time_point t);

/// `store fake: 3 items match tags [a, b] (1236 octets); showing 2` then one aligned line
/// per item: `<guid padded>  <size right-aligned> octets  tags=<a,b>`.
void write_query_text(std::ostream& out, std::string_view store_kind,
                      const std::vector<std::string>& tags, const store::query_result& r);

/// {"guid":..,"size":N,"tags":[..],"sourceId":..,"created":"ISO-8601"}: one item of a query.
boost::json::object query_item_json(const store::item& it);

/// {"store":..,"tags":[..],"limit":N,"count":N,"totalSize":N,"items":`items`}.
boost::json::object query_json(std::string_view store_kind, const std::vector<std::string>& tags,
                               std::size_t limit, const store::query_result& r,
                               boost::json::array items);

/// query_json() with query_item_json() for each item, on one line.
void write_query_json(std::ostream& out, std::string_view store_kind,
                      const std::vector<std::string>& tags, std::size_t limit,
                      const store::query_result& r);

/// Why nothing matched `tags`, from the tags the store's items actually carry (looking at
/// up to `scan` items): "no item carries every tag in [abc]; the fake store's items are
/// tagged 'unread'". Empty when the store cannot be queried.
std::string unmatched_tags_note(store::mime_store& s, const std::vector<std::string>& tags,
                                std::size_t scan = 1000);

/// A store built from `inv` and the answer to its query.tags / query.limit / query.order.
struct query_run {
    std::unique_ptr<store::mime_store> store;
    store::query_options query;
    store::query_result result;
    bool json = false;  ///< format json
};

/// Builds the store of `inv` and queries it. On failure prints what failed to `err` and
/// returns nothing.
std::optional<query_run> run_query(const invocation& inv, std::ostream& err);

/// Builds the store of `inv`, queries it with query.tags, query.limit and query.order, and
/// prints the result in `format`. Exit code 1 when the store fails.
int run_store_query(const invocation& inv, std::ostream& out, std::ostream& err);

}  // namespace izypop3::app
