// Text placed in the HTML pages izypop3 writes: markup stays text, controls and octets that
// are not UTF-8 become visible escapes, readable UTF-8 passes.

#include "common/html_text.hpp"

#include <gtest/gtest.h>

namespace app = izypop3::app;

TEST(HtmlText, EscapesTheFiveMarkupCharacters) {
    EXPECT_EQ(app::html_text(R"(<a href="x" title='y'>&</a>)"),
              "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(HtmlText, ShowsControlsAndBrokenUtf8AsEscapes) {
    EXPECT_EQ(app::html_text("a\x1b[31mb\xff\r\n"), "a\\x1B[31mb\\xFF\\x0D\\x0A");
}

TEST(HtmlText, KeepsReadableUtf8) {
    EXPECT_EQ(app::html_text("Grüße, 東京"), "Grüße, 東京");
}
