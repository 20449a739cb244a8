// What a client transcript shows of each line the client sends before login: the commands
// that carry no secret as they are, everything else reduced to its verb or to <redacted>.

#include <izypop3/core/client_redaction.hpp>

#include <gtest/gtest.h>

namespace {

using izypop3::core::redact_client_login_line;

TEST(client_redaction, commands_without_secrets_pass) {
    for (const char* line : {"CAPA", "STLS", "UTF8", "QUIT", "*", "USER alice", "user alice",
                             "AUTH PLAIN", "AUTH SCRAM-SHA-256"})
        EXPECT_EQ(redact_client_login_line(line), line);
}

TEST(client_redaction, secrets_never_pass) {
    EXPECT_EQ(redact_client_login_line("PASS s3cret"), "PASS <redacted>");
    EXPECT_EQ(redact_client_login_line("pass s3cret"), "PASS <redacted>");
    EXPECT_EQ(redact_client_login_line("APOP alice c4c9334bac560ecc979e58001b3e22fb"),
              "APOP alice <redacted>");
    EXPECT_EQ(redact_client_login_line("AUTH PLAIN AGFsaWNlAHMzY3JldA=="), "AUTH PLAIN <redacted>");
    EXPECT_EQ(redact_client_login_line("AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2tlbgEB"),
              "AUTH XOAUTH2 <redacted>");
    // SASL continuation lines, empty ones included, and anything unknown.
    for (const char* line :
         {"YWxpY2U=", "czNjcmV0", "", "=", "c=biws,r=nonce,p=proof", "PASSs3cret", "NOOP"})
        EXPECT_EQ(redact_client_login_line(line), "<redacted>") << line;
}

}  // namespace
