#pragma once
// systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram of
// "KEY=VALUE" lines to the AF_UNIX socket named by NOTIFY_SOCKET ("@name" is abstract).

#include <boost/system/error_code.hpp>

#include <string>
#include <string_view>

namespace izypop3::transport {

/// Sends `state` ("READY=1", "RELOADING=1\nMONOTONIC_USEC=...", "STOPPING=1") to the
/// service manager. Without NOTIFY_SOCKET it does nothing and succeeds.
boost::system::error_code notify_service_manager(std::string_view state);

/// "RELOADING=1" with the MONOTONIC_USEC field systemd 253 and later ask for.
std::string reloading_state();

}  // namespace izypop3::transport
