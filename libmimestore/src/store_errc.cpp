#include <izypop3/store/errc.hpp>

#include <string>

namespace izypop3::store {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "izypop3.store"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::not_found:
                return "the item is no longer in the store; query the store again";
            case errc::in_use:
                return "the maildrop is in use by another session; try again when it ends";
            case errc::no_such_mailbox:
                return "the store has no such mailbox; check the user name or create it";
            case errc::bad_config:
                return "the store configuration is invalid; check the mimestore.* settings";
            case errc::unknown_modhandler:
                return "unknown mimestore.modhandler; use one of the known stores";
            case errc::not_built:
                return "this mimestore.modhandler is not built yet; choose another store";
            case errc::unknown_setting:
                return "unknown mimestore.* setting for this store; check its name";
            case errc::bad_setting_value:
                return "invalid value for a mimestore.* setting; check its allowed range";
            case errc::invalid_item:
                return "the item's metadata is invalid (e.g. an empty guid); fix the caller";
            case errc::io_error:
                return "reading or writing the store failed; check the storage and retry";
            case errc::disk_full:
                return "no space left in the store; free space and retry";
            case errc::corrupt:
                return "stored octets do not match their size or fingerprint; check the store";
            case errc::read_only:
                return "the store is read-only; check its permissions";
            case errc::unsupported:
                return "this store does not support the operation";
            case errc::writer_finished:
                return "the item writer was already committed or aborted";
        }
        return "unknown izypop3.store error";
    }

    // Lets the POP3 server tell "the message is gone" from a temporary failure without
    // knowing the store's codes (core::maildrop::open documents the convention).
    boost::system::error_condition default_error_condition(int ev) const noexcept override {
        if (static_cast<errc>(ev) == errc::not_found)
            return boost::system::errc::make_error_condition(
                boost::system::errc::no_such_file_or_directory);
        return {ev, *this};
    }
};

}  // namespace

const boost::system::error_category& store_category() noexcept {
    static const category instance;
    return instance;
}

}  // namespace izypop3::store
