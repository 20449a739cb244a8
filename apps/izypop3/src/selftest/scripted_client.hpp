#pragma once
// A POP3 conversation written out command by command, for the self-test: send a line, read
// the status line, read a multi-line body. Blocking, one connection, every wait bounded by
// the stream's timeouts. Not a general client (that is core::client_session); its point is
// to do exactly what a test script says, including dropping the connection mid-session.

#include <izypop3/core/dot_unstuffer.hpp>
#include <izypop3/core/line_reader.hpp>
#include <izypop3/transport/client_stream.hpp>
#include <izypop3/transport/logger.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace izypop3::app {

class scripted_client {
public:
    scripted_client(transport::client_stream_options options, transport::logger log);

    /// Connects and returns the greeting line. Errors carry error_text().
    boost::system::result<std::string> connect();
    /// Sends `command` (CRLF added) and returns the status line. `shown` replaces the
    /// command in the transcript (for passwords).
    boost::system::result<std::string> command(std::string_view command,
                                               std::string_view shown = {});
    /// Reads a multi-line body after a "+OK" status line: the message octets, unstuffed.
    boost::system::result<std::string> body();
    /// STLS after its "+OK": upgrades the connection in place.
    boost::system::error_code start_tls();
    /// Drops the connection without QUIT (what a crashed client does).
    void drop() noexcept;
    /// What failed last, for a FAIL line.
    std::string error_text() const;

private:
    /// The next line; with verbose.waitTime, how long it took since `since` is logged as
    /// the wait for `what`.
    boost::system::result<std::string> next_line(std::string_view what = {},
                                                 std::chrono::steady_clock::time_point since = {});
    boost::system::error_code fill();

    transport::client_stream stream_;
    transport::logger log_;
    core::line_reader lines_{64 * 1024};
    std::string failure_;
};

}  // namespace izypop3::app
