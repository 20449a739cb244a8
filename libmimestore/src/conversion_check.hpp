#pragma once
// Whether a message's octets can sit in a directory store as they are. The files of localfs
// and maildir are read by other mail programs (Dovecot, mutt, a mail client opening an .eml),
// and two shapes of message do not survive that reading:
// - NUL octets: Dovecot shows them as 0x80 (IMAP, and POP3 with outlook-no-nuls), and C
//   string code ends the text at the first one;
// - a header section that never ends: no empty line, and the last line cut off without its
//   line end, so the message ends in the middle of a header field.
// The store keeps such a message byte for byte all the same, tagged conversionerror, in its
// own folder, out of the INBOX that those programs serve.

#include <cstdint>
#include <string_view>

namespace izypop3::store::detail {

class conversion_check {
  public:
    /// The next octets of the message.
    void add(std::string_view chunk);
    /// Empty when the octets can be kept as they are; else what is wrong with them.
    [[nodiscard]] std::string_view problem() const noexcept;

  private:
    bool nul_ = false;
    bool header_ended_ = false;
    std::uint64_t octets_ = 0;
    std::uint64_t line_octets_ = 0;  // of the current line, before its LF
    bool line_is_cr_ = false;        // the current line so far is a lone CR
    char last_ = '\0';
};

}  // namespace izypop3::store::detail
