#include "introspection_response.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <limits>

namespace izypop3::transport::detail {
namespace {

introspection_verdict refused(std::string problem) {
    introspection_verdict v;
    v.problem = std::move(problem);
    return v;
}

}  // namespace

introspection_verdict read_introspection_response(std::string_view body, token_user_claim claim,
                                                  std::int64_t now) {
    boost::system::error_code ec;
    const boost::json::value doc = boost::json::parse(body, ec);
    if (ec) return refused("the introspection response is not JSON: " + ec.message());
    const auto* obj = doc.if_object();
    if (!obj) return refused("the introspection response is not a JSON object");
    const auto* active = obj->if_contains("active");
    if (!active || !active->is_bool())
        return refused("the introspection response has no boolean \"active\"");
    introspection_verdict v;
    if (const auto* exp = obj->if_contains("exp")) {
        if (exp->is_int64()) {
            v.exp = exp->get_int64();
        } else if (exp->is_uint64()) {
            v.exp = std::numeric_limits<std::int64_t>::max();
        } else {
            return refused("the introspection response's \"exp\" is not an integer");
        }
    }
    if (!active->get_bool()) return v;
    if (v.exp && *v.exp <= now) return v;  // expired: the endpoint's clock lags ours
    const char* name = claim == token_user_claim::sub ? "sub" : "username";
    const auto* user = obj->if_contains(name);
    if (!user || !user->is_string() || user->get_string().empty())
        return refused(std::string("the introspection response of an active token has no \"") +
                       name + "\" (oauth2.userclaim)");
    v.active = true;
    v.user = std::string(user->get_string());
    return v;
}

}  // namespace izypop3::transport::detail
