// libFuzzer target for core::proxy_header_reader, the PROXY protocol v1/v2 header a trusted
// load balancer sends first. The input is read twice, whole and one octet at a time, the way
// a transport reads (never more than bytes_needed()); both reads must agree, the reader must
// never take more than the header's bounds, and a finished reader asks for nothing more.

#include <izypop3/core/proxy_header.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using izypop3::core::proxy_header_reader;

void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "proxy_header_reader invariant broken: %s\n", what);
        std::abort();
    }
}

struct result {
    std::size_t taken = 0;
    bool done = false;
    bool failed = false;
    std::string error;
    izypop3::core::proxy_header header;
};

result read(std::string_view input, std::size_t slice, std::size_t max_v2) {
    proxy_header_reader r(max_v2);
    result out;
    while (r.bytes_needed() > 0 && out.taken < input.size()) {
        const std::size_t want = r.bytes_needed();
        const std::size_t n = std::min({slice, want, input.size() - out.taken});
        const std::size_t used = r.feed(input.substr(out.taken, n));
        check(used == n, "took less than it asked for");
        out.taken += used;
        check(r.size() == out.taken, "size() differs from the octets fed");
    }
    out.done = r.done();
    out.failed = r.failed();
    check(!(out.done && out.failed), "done and failed at once");
    if (out.done || out.failed) check(r.bytes_needed() == 0, "finished but asks for more");
    if (out.done || out.failed) check(r.feed(input) == 0, "finished but took more");
    if (out.failed) {
        out.error = r.error();
        check(!out.error.empty() && out.error.find('\n') == std::string::npos,
              "error is not one line");
    }
    if (out.done) {
        out.header = r.header();
        check(out.header.version == 1 || out.header.version == 2, "bad version");
        if (out.header.version == 1)
            check(out.taken <= proxy_header_reader::max_v1_size, "v1 too long");
        if (out.header.has_addresses) {
            check(!out.header.source.address_text().empty(), "empty source text");
            check(!out.header.destination.address_text().empty(), "empty destination text");
        }
    }
    check(out.taken <= std::max(max_v2, proxy_header_reader::max_v1_size), "read too much");
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    // The first octet picks a small v2 size limit sometimes, so the limit check is reached.
    const std::size_t max_v2 =
        data[0] < 32 ? 16u + data[0] * 8u : proxy_header_reader::default_max_v2_size;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const result whole = read(input, input.size() + 1, max_v2);
    const result single = read(input, 1, max_v2);
    check(whole.taken == single.taken, "whole and octet-by-octet reads took different sizes");
    check(whole.done == single.done && whole.failed == single.failed,
          "whole and octet-by-octet reads ended differently");
    check(whole.error == single.error, "whole and octet-by-octet reads failed differently");
    if (whole.done) {
        check(whole.header.has_addresses == single.header.has_addresses &&
                  whole.header.source == single.header.source &&
                  whole.header.destination == single.header.destination,
              "whole and octet-by-octet reads gave different addresses");
    }
    return 0;
}
