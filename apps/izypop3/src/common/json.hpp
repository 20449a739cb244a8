#pragma once
// The JSON of every `format json`: values built with Boost.JSON and serialised by it, so
// quoting and escaping are the library's (RFC 8259). What this file adds is what JSON
// leaves to the caller: text from mail is not always UTF-8, and numbers keep the precision
// the text report shows.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace izypop3::app {

/// `text` as a JSON string. JSON text must be UTF-8 (RFC 8259 section 8.1): valid UTF-8
/// passes through, each octet that is not part of a valid sequence becomes U+FFFD.
boost::json::string json_string(std::string_view text);

/// `values` as a JSON array of strings, each as json_string() makes it.
boost::json::array json_strings(const std::vector<std::string>& values);

/// `value` rounded to `decimals` places: a timing carries no more digits than it is worth.
double json_rounded(double value, int decimals);

/// `value` serialised on one line, then a line break.
void write_json_line(std::ostream& out, const boost::json::value& value);

}  // namespace izypop3::app
