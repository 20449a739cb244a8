#pragma once
// The "maildir" store: a standard Maildir (tmp/ new/ cur/) that Dovecot and mutt read and
// write too. New messages are delivered to new/ through tmp/ under the classic unique name
// with ",S=" and ",W=" sizes; status tags other than unread are Maildir++ folders of the
// same name (.archive/, .staged/, .dup/, ...); izypop3's own files are the dot-files
// .izypop3-meta.log, .izypop3.lock and .izypop3-write.lock in the Maildir root. Files
// Dovecot or mutt delivered are served as they are: UIDL = the base name before ":2,"
// (when RFC 1939 allows it, else derived from it), LF line ends become CRLF on the wire and
// LIST/STAT give the size of what is sent. Common behaviour: dir_store.hpp; format:
// docs/stores.md.

#include <izypop3/store/dir_store.hpp>

namespace izypop3::store {

using maildir_store_options = dir_store_options;

/// The mimestore.* settings of the maildir store: path, create, commitmode.
std::span<const setting_info> maildir_settings() noexcept;
boost::system::result<maildir_store_options> maildir_options(const store_config& cfg,
                                                             std::string& why);
boost::system::error_code validate_maildir_settings(const store_config& cfg,
                                                    std::string& error_text);
boost::system::result<std::unique_ptr<mime_store>> make_maildir_store(const store_config& cfg,
                                                                      std::string& error_text);

class maildir_store final : public dir_store {
public:
    /// As localfs_store::open; also bad_config for a directory that is neither empty nor a
    /// Maildir (no cur/, new/ or tmp/), so that a wrong path is not filled with folders.
    static boost::system::result<std::unique_ptr<maildir_store>> open(
        const maildir_store_options& opts, std::string& error_text);

    std::string_view kind() const noexcept override { return "maildir"; }

private:
    using dir_store::dir_store;
};

}  // namespace izypop3::store
