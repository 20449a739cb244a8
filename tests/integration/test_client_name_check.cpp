// The client transport's certificate name check fails closed (issue 12, item 6): a name
// OpenSSL cannot check (an IPv6 address with a %scope, a name with a NUL) is refused, over
// implicit TLS and after STLS, unless the certificate is pinned or verification is off.
// Against transport::server on loopback, whose certificate (for localhost, 127.0.0.1 and
// ::1) is also the client's trusted CA file.

#include <izypop3/store/store_factory.hpp>
#include <izypop3/store/store_maildrop.hpp>
#include <izypop3/transport/client_stream.hpp>
#include <izypop3/transport/server.hpp>
#include <izypop3/transport/tls_identity.hpp>

#include <gtest/gtest.h>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

namespace {

using namespace izypop3;
using transport::client_errc;

// Files removed when the test ends.
class temp_dir {
  public:
    temp_dir() {
        const char* t = std::getenv("TMPDIR");
        std::string tmpl = std::string(t != nullptr && *t != '\0' ? t : "/tmp") + "/izyXXXXXX";
        path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : std::string();
        EXPECT_FALSE(path_.empty());
    }
    ~temp_dir() {
        for (const auto& f : files_) std::remove(f.c_str());
        ::rmdir(path_.c_str());
    }
    std::string write(const std::string& name, const std::string& text) {
        std::string p = path_ + "/" + name;
        std::ofstream(p) << text;
        files_.push_back(p);
        return p;
    }

  private:
    std::string path_;
    std::vector<std::string> files_;
};

class tls_server {
  public:
    tls_server() {
        auto id = transport::make_self_signed_identity("localhost");
        EXPECT_TRUE(id);
        identity_ = *id;
        cert_ = dir_.write("cert.pem", identity_.certificate_pem);
        const std::string key = dir_.write("key.pem", identity_.private_key_pem);
        store::store_config cfg;
        std::string error;
        auto made = store::make_store(cfg, error);
        EXPECT_TRUE(made) << error;
        store_ = std::move(*made);
        transport::server_options opt;
        opt.host = "127.0.0.1";
        opt.pick_free_ports = true;
        opt.tls_port = 1;
        opt.threads = 1;
        opt.cert_file = cert_;
        opt.key_file = key;
        transport::server_hooks hooks;
        hooks.verify_password = [](std::string_view, std::string_view) {
            return core::auth_outcome::rejected;
        };
        hooks.open_maildrop = [this](std::string_view user)
            -> boost::system::result<std::unique_ptr<core::maildrop>, core::maildrop_failure> {
            auto md = store_->open_maildrop(user);
            if (!md) return store::to_maildrop_failure(md.error());
            return std::move(*md);
        };
        transport::logger log(transport::log_level::warn,
                              [](transport::log_level, std::string_view) {});
        server_ = std::make_unique<transport::server>(opt, hooks, log);
        EXPECT_FALSE(server_->start(error)) << error;
        thread_ = std::thread([this] { server_->run(false); });
    }
    ~tls_server() {
        server_->stop();
        thread_.join();
    }
    std::uint16_t port() const { return server_->port(); }
    std::uint16_t tls_port() const { return server_->tls_port(); }
    const std::string& ca_file() const { return cert_; }
    const std::string& fingerprint() const { return identity_.fingerprint_sha256; }

  private:
    temp_dir dir_;
    transport::tls_identity identity_;
    std::string cert_;
    std::unique_ptr<store::mime_store> store_;
    std::unique_ptr<transport::server> server_;
    std::thread thread_;
};

std::string read_line(transport::client_stream& c) {
    std::string line;
    std::array<char, 1> ch{};
    while (!line.ends_with("\r\n")) {
        auto n = c.read_some(ch.data(), 1);
        if (!n) return "<" + c.error_text() + ">";
        line += ch[0];
    }
    return line;
}

enum class how { implicit, stls };

struct outcome {
    boost::system::error_code ec;
    std::string text;
};

// Connects to the server as `server_name` with the given certificate options; for STLS the
// plain port is used and the upgrade asked for by hand.
outcome connect_as(const tls_server& srv, how h, std::string server_name,
                   transport::tls_client_options tls) {
    transport::client_stream_options o;
    o.host = "127.0.0.1";
    o.port = h == how::implicit ? srv.tls_port() : srv.port();
    o.implicit_tls = h == how::implicit;
    o.tls = std::move(tls);
    o.tls.server_name = std::move(server_name);
    o.connect_timeout = o.handshake_timeout = o.idle_timeout = std::chrono::seconds(20);
    transport::client_stream c(o);
    auto ec = c.connect();
    if (!ec && h == how::stls) {
        EXPECT_TRUE(read_line(c).starts_with("+OK"));
        EXPECT_FALSE(c.write_all("STLS\r\n"));
        EXPECT_TRUE(read_line(c).starts_with("+OK"));
        ec = c.start_tls();
    }
    if (!ec) {
        if (h == how::implicit) {
            EXPECT_TRUE(read_line(c).starts_with("+OK"));
        }
        EXPECT_FALSE(c.write_all("CAPA\r\n"));
        EXPECT_TRUE(read_line(c).starts_with("+OK"));  // TLS carries the conversation
    }
    return {ec, c.error_text()};
}

transport::tls_client_options chain_checked(const tls_server& srv) {
    transport::tls_client_options t;
    t.ca_file = srv.ca_file();
    return t;
}

class ClientNameCheck : public ::testing::TestWithParam<how> {
  protected:
    tls_server srv_;
};

TEST_P(ClientNameCheck, NamesInTheCertificateAreAccepted) {
    for (std::string name : {"localhost", "127.0.0.1", "::1"}) {
        SCOPED_TRACE(name);
        auto r = connect_as(srv_, GetParam(), name, chain_checked(srv_));
        EXPECT_FALSE(r.ec) << r.text;
    }
}

TEST_P(ClientNameCheck, OtherNamesAreRejected) {
    for (std::string name : {"pop.example.org", "127.0.0.2", "::2"}) {
        SCOPED_TRACE(name);
        auto r = connect_as(srv_, GetParam(), name, chain_checked(srv_));
        EXPECT_EQ(r.ec, transport::make_error_code(client_errc::certificate_rejected)) << r.text;
    }
}

TEST_P(ClientNameCheck, ScopedIpv6AddressIsRefused) {
    // ::1 is in the certificate; with a %scope OpenSSL cannot compare it to anything.
    for (std::string name : {"::1%lo", "::1%1", "fe80::1%lo"}) {
        SCOPED_TRACE(name);
        auto r = connect_as(srv_, GetParam(), name, chain_checked(srv_));
        EXPECT_EQ(r.ec, transport::make_error_code(client_errc::tls_setup_failed)) << r.text;
        EXPECT_NE(r.text.find("%scope"), std::string::npos) << r.text;
        EXPECT_NE(r.text.find("tls.fingerprint"), std::string::npos) << r.text;
    }
}

TEST_P(ClientNameCheck, NameWithNulIsRefused) {
    const std::string name("localhost\0.evil.example", 23);
    auto r = connect_as(srv_, GetParam(), name, chain_checked(srv_));
    EXPECT_TRUE(r.ec == transport::make_error_code(client_errc::tls_setup_failed) ||
                r.ec == transport::make_error_code(client_errc::certificate_rejected))
        << r.ec.message() << ": " << r.text;
    EXPECT_TRUE(r.ec);
}

TEST_P(ClientNameCheck, ScopedAddressWorksWithAPinOrWithoutVerification) {
    transport::tls_client_options pinned;
    pinned.fingerprint = srv_.fingerprint();
    auto r = connect_as(srv_, GetParam(), "::1%lo", pinned);
    EXPECT_FALSE(r.ec) << r.text;
    transport::tls_client_options unchecked;
    unchecked.verify = false;
    r = connect_as(srv_, GetParam(), "::1%lo", unchecked);
    EXPECT_FALSE(r.ec) << r.text;
}

INSTANTIATE_TEST_SUITE_P(Transport, ClientNameCheck, ::testing::Values(how::implicit, how::stls),
                         [](const ::testing::TestParamInfo<how>& i) {
                             return i.param == how::implicit ? "ImplicitTls" : "Stls";
                         });

}  // namespace
