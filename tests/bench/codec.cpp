// Throughput of the multi-line body codec: dot_stuffer::encode (RETR on the server),
// dot_unstuffer::decode (RETR on the client) and wire_size_counter (LIST sizes at store time),
// on a 1 MiB message of ~70-octet CRLF lines, some starting with '.', in 64 KiB chunks as a
// transport would read them.

#include <izypop3/core/dot_stuffer.hpp>
#include <izypop3/core/dot_unstuffer.hpp>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t message_size = 1024 * 1024;
constexpr std::size_t chunk_size = 64 * 1024;

// Headers, a blank line, then text lines of 40-78 printable octets; about one line in 20
// starts with '.', as quoted text and signatures do.
const std::string& message() {
    static const std::string m = [] {
        std::mt19937 rng(1939);
        std::uniform_int_distribution<int> len(40, 78);
        std::uniform_int_distribution<int> letter(0, 25);
        std::uniform_int_distribution<int> odds(0, 19);
        std::string s =
            "Return-Path: <sender@example.org>\r\nFrom: Sender <sender@example.org>\r\n"
            "To: rcpt@example.net\r\nSubject: benchmark\r\nMessage-ID: <bench@example.org>\r\n"
            "\r\n";
        while (s.size() < message_size) {
            const int n = len(rng);
            if (odds(rng) == 0) s += '.';
            for (int i = 0; i < n; ++i)
                s += i % 7 == 6 ? ' ' : static_cast<char>('a' + letter(rng));
            s += "\r\n";
        }
        return s;
    }();
    return m;
}

const std::string& wire() {
    static const std::string w = [] {
        izypop3::core::dot_stuffer s;
        std::string out;
        s.encode(message(), out);
        s.finish(out);
        return out;
    }();
    return w;
}

// The floor every codec pass is measured against: copying the same chunks into the same
// reused buffer. encode/decode near this figure means the codec costs little beyond a copy.
void copy_baseline(benchmark::State& state) {
    const std::string_view m = message();
    std::string out;
    out.reserve(chunk_size * 2);
    for (auto _ : state) {
        for (std::size_t i = 0; i < m.size(); i += chunk_size) {
            out.assign(m.substr(i, chunk_size));
            benchmark::DoNotOptimize(out.data());
        }
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(m.size()));
}
BENCHMARK(copy_baseline);

void encode(benchmark::State& state) {
    const std::string_view m = message();
    std::string out;
    out.reserve(chunk_size * 2);
    for (auto _ : state) {
        izypop3::core::dot_stuffer s;
        for (std::size_t i = 0; i < m.size(); i += chunk_size) {
            out.clear();  // a server writes each encoded chunk and reuses the buffer
            s.encode(m.substr(i, chunk_size), out);
            benchmark::DoNotOptimize(out.data());
        }
        s.finish(out);
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(m.size()));
}
BENCHMARK(encode);

void decode(benchmark::State& state) {
    const std::string_view w = wire();
    std::string out;
    out.reserve(chunk_size * 2);
    for (auto _ : state) {
        izypop3::core::dot_unstuffer d;
        for (std::size_t i = 0; i < w.size() && !d.done(); i += chunk_size) {
            out.clear();  // a client hands each decoded chunk to the store and reuses the buffer
            d.decode(w.substr(i, chunk_size), out);
            benchmark::DoNotOptimize(out.data());
        }
        if (!d.done()) state.SkipWithError("terminator not found");
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(w.size()));
}
BENCHMARK(decode);

void wire_size(benchmark::State& state) {
    const std::string_view m = message();
    for (auto _ : state) {
        izypop3::core::wire_size_counter c;
        for (std::size_t i = 0; i < m.size(); i += chunk_size) c.add(m.substr(i, chunk_size));
        benchmark::DoNotOptimize(c.finish());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(m.size()));
}
BENCHMARK(wire_size);

}  // namespace

BENCHMARK_MAIN();
