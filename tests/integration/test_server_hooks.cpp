// A program embedding the POP3 server through transport::server and server_hooks
// (pop3-emitter's events as a C++ API): a connect hook refusing an address, a password
// check, a CAPA edit, and the program's own maildrop. docs/embedding.md quotes the part
// between the "embedding example" markers; it is compiled and run here.

#include <izypop3/core/maildrop.hpp>
#include <izypop3/core/server_session.hpp>
#include <izypop3/transport/server.hpp>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace izypop3;

// [embedding example]
// The program's own storage: messages held in memory, and a record of what QUIT deleted.
struct mailbox {
    explicit mailbox(std::vector<std::string> m) : messages(std::move(m)) {}
    std::vector<std::string> messages;  // as sent: CRLF line ends, not dot-stuffed
    std::mutex mutex;                   // commit_deletions runs on a server worker thread
    std::vector<std::size_t> deleted;
};

class string_source final : public core::message_source {
  public:
    explicit string_source(std::string_view text) : rest_(text) {}
    boost::system::result<std::size_t> read(std::span<char> buf) override {
        const std::size_t n = std::min(buf.size(), rest_.size());
        std::memcpy(buf.data(), rest_.data(), n);
        rest_.remove_prefix(n);
        return n;
    }

  private:
    std::string_view rest_;
};

// One session's view of the mailbox (RFC 1939: numbers and sizes fixed at login).
class mailbox_maildrop final : public core::maildrop {
  public:
    explicit mailbox_maildrop(mailbox& box) : box_(box) {
        for (std::size_t i = 0; i < box.messages.size(); ++i)
            info_.push_back({box.messages[i].size(), "msg-" + std::to_string(i + 1)});
    }
    const std::vector<core::message_info>& messages() const noexcept override { return info_; }
    // "uidl": the ids above never change between sessions, so UIDL is offered.
    bool stable_uids() const noexcept override { return true; }
    boost::system::result<std::unique_ptr<core::message_source>> open(std::size_t i) override {
        return std::make_unique<string_source>(box_.messages.at(i));
    }
    // pop3-emitter's quit(dele[]): called only after QUIT, with the messages marked by DELE.
    boost::system::error_code commit_deletions(std::span<const std::size_t> indices) override {
        std::lock_guard lock(box_.mutex);
        box_.deleted.assign(indices.begin(), indices.end());
        return {};
    }

  private:
    mailbox& box_;
    std::vector<core::message_info> info_;
};

transport::server_hooks example_hooks(mailbox& box) {
    transport::server_hooks hooks;
    // "connected": accept or refuse by address, before the greeting.
    hooks.on_connect = [](std::string_view peer) { return peer != "127.0.0.2"; };
    // "authenticate": a cleartext check serves USER/PASS, AUTH PLAIN and AUTH LOGIN. Add
    // lookup_secret and secret_forms to offer APOP, CRAM-MD5 and SCRAM too.
    hooks.verify_password = [](std::string_view user, std::string_view password) {
        return user == "alice" && password == "wonderland" ? core::auth_outcome::accepted
                                                           : core::auth_outcome::rejected;
    };
    // "capabilities": edit the CAPA lines of either state.
    hooks.edit_capabilities = [](core::session_state state, std::vector<std::string>& caps) {
        std::erase(caps, "LOGIN-DELAY 0");
        if (state == core::session_state::authorization) caps.push_back("X-EXAMPLE embedded");
    };
    // "list", "uidl", "retrieve", "quit": a maildrop per logged-in session. Only called
    // after a successful login, so code before login never reaches the store.
    hooks.open_maildrop = [&box](std::string_view user)
        -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
        if (user != "alice") return core::maildrop_failure::permanent;
        return std::make_unique<mailbox_maildrop>(box);
    };
    return hooks;
}
// [embedding example end]

// A blocking line client over plain TCP, optionally from a chosen loopback source address.
class line_client {
  public:
    explicit line_client(std::uint16_t port, const char* source = "127.0.0.1") : sock_(io_) {
        sock_.open(tcp::v4());
        sock_.bind(tcp::endpoint(asio::ip::make_address(source), 0));
        sock_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    void send(std::string_view bytes) { asio::write(sock_, asio::buffer(bytes)); }
    std::string line() {
        boost::system::error_code ec;
        const std::size_t n = asio::read_until(sock_, buf_, "\r\n", ec);
        if (ec) return "<" + ec.message() + ">";
        std::string l(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + n - 2);
        buf_.consume(n);
        return l;
    }
    // Lines up to and including the "." of a multi-line reply.
    std::vector<std::string> lines_to_dot() {
        std::vector<std::string> out;
        do out.push_back(line());
        while (out.back() != "." && !out.back().starts_with("<"));
        return out;
    }

  private:
    asio::io_context io_;
    tcp::socket sock_;
    asio::streambuf buf_;
};

class embedded_server {
  public:
    explicit embedded_server(mailbox& box) {
        // What a program does: options, hooks, a logger; start() binds, run() serves.
        transport::server_options opt;
        opt.host = "127.0.0.1";
        opt.port = 0;
        opt.pick_free_ports = true;  // tests only; a program gives its port
        opt.threads = 1;
        transport::logger quiet(transport::log_level::error,
                                [](transport::log_level, std::string_view) {});
        server_ = std::make_unique<transport::server>(opt, example_hooks(box), quiet);
        std::string error;
        const auto ec = server_->start(error);
        EXPECT_FALSE(ec) << error;
        // run(true) would also stop on SIGINT/SIGTERM; a test stops it itself.
        thread_ = std::thread([this] { server_->run(false); });
    }
    ~embedded_server() {
        server_->stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }

  private:
    std::unique_ptr<transport::server> server_;
    std::thread thread_;
};

std::vector<std::string> two_messages() {
    return {"From: a@example.org\r\nSubject: one\r\n\r\nHello\r\n",
            "Subject: two\r\n\r\n.dot line\r\nend\r\n"};
}

TEST(server_hooks, connect_hook_refuses_an_address_before_the_greeting) {
    mailbox box(two_messages());
    embedded_server srv(box);
    line_client refused(srv.port(), "127.0.0.2");
    EXPECT_EQ(refused.line(), "<End of file>");
    line_client accepted(srv.port(), "127.0.0.3");
    // No APOP timestamp: without lookup_secret the server cannot offer APOP.
    EXPECT_EQ(accepted.line(), "+OK POP3 Server ready");
}

TEST(server_hooks, capabilities_hook_edits_capa_in_each_state) {
    mailbox box(two_messages());
    embedded_server srv(box);
    line_client c(srv.port());
    c.line();
    c.send("CAPA\r\n");
    // A loopback peer may use cleartext; only verify_password is given, so only the
    // mechanisms that need no stored secret are listed.
    EXPECT_EQ(c.lines_to_dot(),
              (std::vector<std::string>{"+OK Capability list follows", "TOP", "UIDL", "RESP-CODES",
                                        "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN LOGIN",
                                        "UTF8 USER", "EXPIRE NEVER", "LANG",
                                        "IMPLEMENTATION izypop3", "X-EXAMPLE embedded", "."}));
    c.send("USER alice\r\nPASS wonderland\r\nCAPA\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    EXPECT_EQ(c.line(), "+OK You are now logged in");
    const auto after = c.lines_to_dot();
    EXPECT_EQ(std::count(after.begin(), after.end(), "X-EXAMPLE embedded"), 0);
    EXPECT_EQ(std::count(after.begin(), after.end(), "LOGIN-DELAY 0"), 0);
    EXPECT_EQ(std::count(after.begin(), after.end(), "UIDL"), 1);
}

TEST(server_hooks, custom_maildrop_serves_list_uidl_retr_and_quit) {
    mailbox box(two_messages());
    embedded_server srv(box);
    line_client c(srv.port());
    c.line();
    c.send("USER alice\r\nPASS nope\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    EXPECT_EQ(c.line(), "-ERR [AUTH] Invalid login");
    c.send("USER alice\r\nPASS wonderland\r\nLIST\r\n");
    EXPECT_EQ(c.line(), "+OK User accepted");
    EXPECT_EQ(c.line(), "+OK You are now logged in");
    EXPECT_EQ(c.lines_to_dot(),
              (std::vector<std::string>{"+OK 2 messages (76 octets)", "1 44", "2 32", "."}));
    c.send("UIDL\r\n");
    EXPECT_EQ(c.lines_to_dot(), (std::vector<std::string>{"+OK Unique-ID listing follows",
                                                          "1 msg-1", "2 msg-2", "."}));
    c.send("RETR 2\r\n");
    // The transport dot-stuffs the maildrop's octets on the way out.
    EXPECT_EQ(c.lines_to_dot(), (std::vector<std::string>{"+OK 32 octets", "Subject: two", "",
                                                          "..dot line", "end", "."}));
    c.send("DELE 1\r\nQUIT\r\n");
    EXPECT_EQ(c.line(), "+OK Message 1 deleted");
    EXPECT_EQ(c.line(), "+OK izypop3 signing off (1 messages deleted)");
    std::lock_guard lock(box.mutex);
    EXPECT_EQ(box.deleted, std::vector<std::size_t>{0});
}

TEST(server_hooks, command_hook_sees_every_command_redacted_with_its_result) {
    mailbox box(two_messages());
    std::mutex mutex;
    std::vector<std::string> events;
    transport::server_hooks hooks = example_hooks(box);
    hooks.on_command = [&](const core::command_event& e) {
        std::lock_guard lock(mutex);
        events.push_back(e.verb + '|' + e.arguments + '|' + (e.ok ? "+OK" : "-ERR"));
    };
    transport::server_options opt;
    opt.host = "127.0.0.1";
    opt.pick_free_ports = true;
    opt.threads = 1;
    transport::server srv(opt, hooks,
                          transport::logger(transport::log_level::error,
                                            [](transport::log_level, std::string_view) {}));
    std::string error;
    ASSERT_FALSE(srv.start(error)) << error;
    std::thread t([&srv] { srv.run(false); });
    {
        line_client c(srv.port());
        c.line();
        c.send("user alice\r\nPASS wonderland\r\nSTAT\r\nRETR 9\r\nRETR 1\r\n");
        for (int i = 0; i < 4; ++i) c.line();
        c.lines_to_dot();
        c.send("QUIT\r\n");
        EXPECT_EQ(c.line(), "+OK izypop3 signing off (nothing deleted)");
    }
    srv.stop();
    t.join();
    // The password never reaches the hook; the verb is upper-cased as pop3-emitter reports it.
    EXPECT_EQ(events,
              (std::vector<std::string>{"USER|alice|+OK", "PASS|<redacted>|+OK", "STAT||+OK",
                                        "RETR|9|-ERR", "RETR|1|+OK", "QUIT||+OK"}));
}

TEST(server_hooks, maildrop_is_opened_only_after_a_successful_login) {
    // SECURITY S26: before login nothing reaches the store. Every pre-login command, a
    // failed login included, leaves open_maildrop uncalled.
    mailbox box(two_messages());
    std::atomic<int> opened{0};
    transport::server_hooks hooks = example_hooks(box);
    auto open = hooks.open_maildrop;
    hooks.open_maildrop = [&opened, open](std::string_view user) {
        ++opened;
        return open(user);
    };
    transport::server_options opt;
    opt.host = "127.0.0.1";
    opt.pick_free_ports = true;
    opt.threads = 1;
    transport::server srv(opt, hooks,
                          transport::logger(transport::log_level::error,
                                            [](transport::log_level, std::string_view) {}));
    std::string error;
    ASSERT_FALSE(srv.start(error)) << error;
    std::thread t([&srv] { srv.run(false); });
    {
        line_client c(srv.port());
        c.line();
        // Two transaction commands (a third would end the session: Dovecot's pre-login
        // limit of 3 bad commands) and a failed login.
        c.send("STAT\r\nRETR 1\r\nUSER alice\r\nPASS wrong\r\n");
        for (int i = 0; i < 4; ++i) c.line();
        EXPECT_EQ(opened, 0);
        c.send("USER alice\r\nPASS wonderland\r\nSTAT\r\n");
        c.line();
        EXPECT_EQ(c.line(), "+OK You are now logged in");
        EXPECT_EQ(c.line(), "+OK 2 76");
        EXPECT_EQ(opened, 1);
    }
    srv.stop();
    t.join();
}

}  // namespace
