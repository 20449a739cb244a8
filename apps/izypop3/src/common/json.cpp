#include "common/json.hpp"

#include <boost/json/serialize.hpp>
#include <boost/locale/utf.hpp>

#include <cmath>
#include <ostream>

namespace izypop3::app {

boost::json::string json_string(std::string_view text) {
    using utf8 = boost::locale::utf::utf_traits<char>;
    boost::json::string out;
    out.reserve(text.size());
    for (auto it = text.begin(); it != text.end();) {
        auto next = it;
        const auto cp = utf8::decode(next, text.end());
        if (cp == boost::locale::utf::illegal || cp == boost::locale::utf::incomplete) {
            out.append("\xEF\xBF\xBD");  // U+FFFD for the one octet that starts no character
            ++it;
        } else {
            out.append(std::string_view(it, next));
            it = next;
        }
    }
    return out;
}

boost::json::array json_strings(const std::vector<std::string>& values) {
    boost::json::array out;
    out.reserve(values.size());
    for (const std::string& v : values) out.emplace_back(json_string(v));
    return out;
}

double json_rounded(double value, int decimals) {
    const double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

void write_json_line(std::ostream& out, const boost::json::value& value) {
    out << boost::json::serialize(value) << '\n';
}

}  // namespace izypop3::app
