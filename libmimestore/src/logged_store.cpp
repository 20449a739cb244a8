#include <izypop3/store/logged_store.hpp>

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <utility>

namespace izypop3::store {
namespace {

using clock = std::chrono::steady_clock;
using shared_log = std::shared_ptr<const store_log>;

std::string ms(clock::duration d) {
    return fmt::format("{:.3f} ms", std::chrono::duration<double, std::milli>(d).count());
}

// Runs `call` and gives back its result with the time it took.
template <class Call>
auto timed(Call&& call, clock::duration& took) {
    const auto start = clock::now();
    auto result = call();
    took = clock::now() - start;
    return result;
}

std::string name_of(const item& it) {
    return it.mailbox.empty() ? it.guid : fmt::format("{} ({})", it.guid, it.mailbox);
}

std::string outcome_of(const error_code& ec) {
    return ec ? fmt::format("failed: {}", ec.message()) : std::string("ok");
}

std::string list_or(const std::vector<std::string>& values, std::string_view none) {
    if (values.empty()) return std::string(none);
    std::string out;
    for (const auto& v : values) out += (out.empty() ? "" : ",") + v;
    return out;
}

std::string_view to_text(add_outcome o) {
    switch (o) {
        case add_outcome::added:
            return "added";
        case add_outcome::duplicate:
            return "duplicate";
        case add_outcome::already_present:
            return "already_present";
    }
    return "?";
}

// A message's octets as they are read; one line when the reader lets go of it.
class logged_source final : public core::message_source {
  public:
    logged_source(std::unique_ptr<core::message_source> inner, shared_log log, std::string name)
        : inner_(std::move(inner)), log_(std::move(log)), name_(std::move(name)) {}
    ~logged_source() override {
        std::string how;
        if (failure_) {
            how = fmt::format(", failed: {}", failure_.message());
        } else if (!ended_) {
            how = ", stopped before the end";
        }
        const std::string route =
            from_file_ ? std::string("from its file") : fmt::format("in {} reads", reads_);
        (*log_)(fmt::format("read {}: {} octets {}{}, {}", name_, octets_, route, how, ms(took_)));
    }
    logged_source(const logged_source&) = delete;
    logged_source& operator=(const logged_source&) = delete;

    boost::system::result<std::size_t> read(std::span<char> buf) override {
        clock::duration took{};
        auto n = timed([&] { return inner_->read(buf); }, took);
        took_ += took;
        ++reads_;
        if (!n) {
            failure_ = n.error();
        } else if (*n == 0) {
            ended_ = true;
        } else {
            octets_ += *n;
        }
        return n;
    }

    // The wrapper changes nothing about where and how the octets are read: a server that
    // logs its store calls must not lose in-place reads or sendfile by it.
    std::size_t buffered() const noexcept override { return inner_->buffered(); }
    bool reads_at_once() const noexcept override { return inner_->reads_at_once(); }
    std::optional<core::file_region> wire_file() override {
        auto region = inner_->wire_file();
        if (region) {
            octets_ = region->length;
            ended_ = true;
            from_file_ = true;
        }
        return region;
    }
    boost::system::error_code check_sent_file() override {
        failure_ = inner_->check_sent_file();
        return failure_;
    }

  private:
    std::unique_ptr<core::message_source> inner_;
    shared_log log_;
    std::string name_;
    std::uint64_t octets_ = 0;
    std::uint64_t reads_ = 0;
    clock::duration took_{};
    bool ended_ = false;
    bool from_file_ = false;  // sent by the caller from wire_file(), not read
    error_code failure_;
};

// An add in progress: writes are summed up in the commit's line.
class logged_writer final : public item_writer {
  public:
    logged_writer(std::unique_ptr<item_writer> inner, shared_log log, std::string name)
        : inner_(std::move(inner)), log_(std::move(log)), name_(std::move(name)) {}
    // Destroying a writer aborts it (item_writer): that is logged too.
    ~logged_writer() override { abort(); }
    logged_writer(const logged_writer&) = delete;
    logged_writer& operator=(const logged_writer&) = delete;

    error_code write(std::string_view chunk) override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->write(chunk); }, took);
        write_took_ += took;
        ++writes_;
        if (!ec) octets_ += chunk.size();
        if (ec) (*log_)(fmt::format("write {}: {}, {}", name_, outcome_of(ec), ms(took)));
        return ec;
    }

    result<add_outcome> commit() override {
        clock::duration took{};
        auto r = timed([&] { return inner_->commit(); }, took);
        finished_ = true;
        (*log_)(fmt::format("commit {}: {}, {} octets in {} writes ({}), {}", name_,
                            r ? std::string(to_text(*r)) : outcome_of(r.error()), octets_, writes_,
                            ms(write_took_), ms(took)));
        return r;
    }

    error_code sync_data() override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->sync_data(); }, took);
        (*log_)(fmt::format("sync_data {}: {}, {}", name_, outcome_of(ec), ms(took)));
        return ec;
    }

    void abort() noexcept override {
        inner_->abort();
        if (finished_) return;
        finished_ = true;
        try {
            (*log_)(fmt::format("abort {} after {} octets", name_, octets_));
        } catch (...) {  // a log line is not worth breaking a noexcept abort for
        }
    }

  private:
    std::unique_ptr<item_writer> inner_;
    shared_log log_;
    std::string name_;
    std::uint64_t octets_ = 0;
    std::uint64_t writes_ = 0;
    clock::duration write_took_{};
    bool finished_ = false;
};

// A POP3 session's view of the store: opening messages and the UPDATE at QUIT.
class logged_maildrop final : public core::maildrop {
  public:
    logged_maildrop(std::unique_ptr<core::maildrop> inner, shared_log log, std::string user)
        : inner_(std::move(inner)), log_(std::move(log)), user_(std::move(user)) {}
    ~logged_maildrop() override { (*log_)(fmt::format("maildrop {}: closed", user_)); }
    logged_maildrop(const logged_maildrop&) = delete;
    logged_maildrop& operator=(const logged_maildrop&) = delete;

    const std::vector<core::message_info>& messages() const noexcept override {
        return inner_->messages();
    }

    bool stable_uids() const noexcept override { return inner_->stable_uids(); }
    bool served_locally() const noexcept override { return inner_->served_locally(); }
    bool opens_at_once(std::size_t index) const noexcept override {
        return inner_->opens_at_once(index);
    }

    boost::system::result<std::unique_ptr<core::message_source>> open(std::size_t index) override {
        clock::duration took{};
        auto src = timed([&] { return inner_->open(index); }, took);
        const std::string name = fmt::format("message {} of {}", index + 1, user_);
        (*log_)(fmt::format("maildrop {}: open message {}: {}, {}", user_, index + 1,
                            src ? std::string("ok") : outcome_of(src.error()), ms(took)));
        if (!src) return src.error();
        return std::unique_ptr<core::message_source>(
            std::make_unique<logged_source>(std::move(*src), log_, name));
    }

    boost::system::error_code commit_deletions(std::span<const std::size_t> indices) override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->commit_deletions(indices); }, took);
        (*log_)(fmt::format("maildrop {}: commit_deletions of {} messages: {}, {}", user_,
                            indices.size(), outcome_of(ec), ms(took)));
        return ec;
    }

    boost::system::error_code record_retrieval(std::span<const std::size_t> indices,
                                               std::chrono::system_clock::time_point now) override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->record_retrieval(indices, now); }, took);
        (*log_)(fmt::format("maildrop {}: record_retrieval of {} messages: {}, {}", user_,
                            indices.size(), outcome_of(ec), ms(took)));
        return ec;
    }

  private:
    std::unique_ptr<core::maildrop> inner_;
    shared_log log_;
    std::string user_;
};

class logged_store final : public mime_store {
  public:
    logged_store(std::unique_ptr<mime_store> inner, store_log log)
        : inner_(std::move(inner)), log_(std::make_shared<const store_log>(std::move(log))) {}

    result<query_result> query(const query_options& o) override {
        clock::duration took{};
        auto r = timed([&] { return inner_->query(o); }, took);
        const std::string asked = fmt::format(
            "query mailbox={} tags={} exclude={} limit={} {}", o.mailbox.empty() ? "*" : o.mailbox,
            list_or(o.tags, "-"), list_or(o.exclude_tags, "-"),
            o.limit == query_options::unlimited ? std::string("all") : std::to_string(o.limit),
            o.order_by == query_options::order::asc ? "asc" : "desc");
        if (r) {
            log(fmt::format("{}: {} of {} items, {} octets, {}", asked, r->items.size(), r->count,
                            r->total_size, ms(took)));
        } else {
            log(fmt::format("{}: {}, {}", asked, outcome_of(r.error()), ms(took)));
        }
        return r;
    }

    result<std::unique_ptr<core::message_source>> open_item(const item& it) override {
        clock::duration took{};
        auto src = timed([&] { return inner_->open_item(it); }, took);
        log(fmt::format("open_item {}: {}, {}", name_of(it),
                        src ? std::string("ok") : outcome_of(src.error()), ms(took)));
        if (!src) return src.error();
        return std::unique_ptr<core::message_source>(
            std::make_unique<logged_source>(std::move(*src), log_, name_of(it)));
    }

    result<std::unique_ptr<item_writer>> begin_add(item meta) override {
        const std::string name = name_of(meta);
        clock::duration took{};
        auto w = timed([&] { return inner_->begin_add(std::move(meta)); }, took);
        log(fmt::format("begin_add {}: {}, {}", name, w ? std::string("ok") : outcome_of(w.error()),
                        ms(took)));
        if (!w) return w.error();
        return std::unique_ptr<item_writer>(
            std::make_unique<logged_writer>(std::move(*w), log_, name));
    }

    error_code mark(const item& it, std::string_view t) override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->mark(it, t); }, took);
        log(fmt::format("mark {} {}: {}, {}", name_of(it), t, outcome_of(ec), ms(took)));
        return ec;
    }

    error_code unmark(const item& it, std::string_view t) override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->unmark(it, t); }, took);
        log(fmt::format("unmark {} {}: {}, {}", name_of(it), t, outcome_of(ec), ms(took)));
        return ec;
    }

    error_code remove(const item& it) override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->remove(it); }, took);
        log(fmt::format("remove {}: {}, {}", name_of(it), outcome_of(ec), ms(took)));
        return ec;
    }

    result<std::unique_ptr<core::maildrop>> open_maildrop(std::string_view user) override {
        clock::duration took{};
        auto md = timed([&] { return inner_->open_maildrop(user); }, took);
        if (!md) {
            log(fmt::format("open_maildrop {}: {}, {}", user, outcome_of(md.error()), ms(took)));
            return md.error();
        }
        log(fmt::format("open_maildrop {}: {} messages, {}", user, (*md)->messages().size(),
                        ms(took)));
        return std::unique_ptr<core::maildrop>(
            std::make_unique<logged_maildrop>(std::move(*md), log_, std::string(user)));
    }

    void set_group_commit(bool on) override {
        inner_->set_group_commit(on);
        log(fmt::format("group commit {}", on ? "on" : "off"));
    }

    error_code flush() override {
        clock::duration took{};
        auto ec = timed([&] { return inner_->flush(); }, took);
        log(fmt::format("flush: {}, {}", outcome_of(ec), ms(took)));
        return ec;
    }

    result<std::uint32_t> record_login(std::string_view mailbox,
                                       std::chrono::system_clock::time_point now,
                                       std::chrono::seconds min_interval) override {
        clock::duration took{};
        auto r = timed([&] { return inner_->record_login(mailbox, now, min_interval); }, took);
        log(fmt::format("record_login {}: {}, {}", mailbox,
                        r ? (*r == 0 ? std::string("recorded") : fmt::format("{} s left", *r))
                          : outcome_of(r.error()),
                        ms(took)));
        return r;
    }

    bool keeps_retrieval_times() const noexcept override { return inner_->keeps_retrieval_times(); }

    result<std::uint64_t> expire_retrieved(std::string_view mailbox,
                                           std::chrono::system_clock::time_point cutoff) override {
        clock::duration took{};
        auto r = timed([&] { return inner_->expire_retrieved(mailbox, cutoff); }, took);
        log(fmt::format("expire_retrieved {}: {}, {}", mailbox,
                        r ? fmt::format("{} messages", *r) : outcome_of(r.error()), ms(took)));
        return r;
    }

    std::string_view kind() const noexcept override { return inner_->kind(); }

  private:
    void log(const std::string& line) const { (*log_)(line); }

    std::unique_ptr<mime_store> inner_;
    shared_log log_;
};

}  // namespace

std::unique_ptr<mime_store> make_logged_store(std::unique_ptr<mime_store> inner, store_log log) {
    return std::make_unique<logged_store>(std::move(inner), std::move(log));
}

}  // namespace izypop3::store
