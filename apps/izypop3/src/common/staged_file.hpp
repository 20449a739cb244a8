#pragma once
// A file written whole or not at all: the text goes to a temporary file beside the final
// name, which is renamed over it once complete, so a reader never sees half a file. The
// temporary file is made when the object is, so a place that cannot be written is known
// before a long run starts rather than after it.

#include <optional>
#include <string>
#include <string_view>

namespace izypop3::app {

class staged_file {
  public:
    /// Creates `<path>.tmp-<pid>`; nullopt (and `why`) when the directory is not writable.
    static std::optional<staged_file> create(std::string path, std::string& why);
    staged_file(staged_file&& other) noexcept;
    staged_file& operator=(staged_file&&) = delete;
    staged_file(const staged_file&) = delete;
    ~staged_file();  ///< removes the temporary file if commit() never succeeded

    /// Writes `text`, flushes it and renames the file into place; false (and `why`) on error.
    bool commit(std::string_view text, std::string& why);
    const std::string& path() const noexcept { return path_; }

  private:
    staged_file(std::string path, std::string temp, int fd) noexcept;
    std::string path_;
    std::string temp_;
    int fd_ = -1;
};

}  // namespace izypop3::app
