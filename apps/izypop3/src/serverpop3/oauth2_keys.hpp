#pragma once
// serverpop3's oauth2.* keys: how bearer tokens (XOAUTH2, OAUTHBEARER) are validated.

#include <izypop3/transport/oauth2_options.hpp>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include <iosfwd>
#include <optional>

namespace izypop3::app {

/// Adds the oauth2.* keys to serverpop3's table.
void add_oauth2_keys(boost::program_options::options_description& d);

/// The keys as transport options (not configured when none is given); nullopt after a
/// one-line error on `err` (keys that do not go together, a secret command that fails).
std::optional<transport::oauth2_options> oauth2_options_of(
    const boost::program_options::variables_map& o, std::ostream& err);

}  // namespace izypop3::app
