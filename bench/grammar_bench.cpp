// SPDX-License-Identifier: MIT
// Micro-benchmarks of the job-file language: raw parse throughput over the concatenated Upstart
// corpus, the full load (parse + stanza registry) of the same, and loading a directory of 1,000
// typical job files from disk the way the daemon does at start-up.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "conf/job_loader.hpp"
#include "tend/grammar/parse.hpp"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> corpusTexts() {
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(TEND_CORPUS_DIR)) {
        if (entry.path().extension() == ".conf") {
            paths.push_back(entry.path());
        }
    }
    std::sort(paths.begin(), paths.end());
    std::vector<std::string> texts;
    for (const auto& path : paths) {
        std::ifstream in(path, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        texts.push_back(text.str());
    }
    return texts;
}

// The corpus as one file. Two files use stanzas Upstart rejects; they stay in, since error
// recovery is part of what a parser pays for.
const std::string& concatenatedCorpus() {
    static const std::string text = [] {
        std::string all;
        for (const auto& t : corpusTexts()) {
            all += t;
            all += '\n';
        }
        return all;
    }();
    return text;
}

void BM_ParseConcatenatedCorpus(benchmark::State& state) {
    const tend::grammar::SourceText source("corpus.conf", concatenatedCorpus());
    for (auto _ : state) {
        auto result = tend::grammar::parseJobFile(source);
        benchmark::DoNotOptimize(result);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(source.text().size()));
}
BENCHMARK(BM_ParseConcatenatedCorpus);

void BM_LoadEachCorpusFileInMemory(benchmark::State& state) {
    const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    std::vector<tend::grammar::SourceText> sources;
    std::int64_t bytes = 0;
    for (auto& text : corpusTexts()) {
        bytes += static_cast<std::int64_t>(text.size());
        sources.emplace_back("job.conf", std::move(text));
    }
    for (auto _ : state) {
        for (const auto& source : sources) {
            auto result = tend::conf::loadJob("job", source, nullptr, registry);
            benchmark::DoNotOptimize(result);
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes);
}
BENCHMARK(BM_LoadEachCorpusFileInMemory);

// 1,000 job files cycled from the 78 loadable corpus files, written to a temporary directory.
class ThousandJobs {
  public:
    ThousandJobs() {
        char pattern[] = "/tmp/tend-bench-XXXXXX";
        dir_ = mkdtemp(pattern);
        const auto texts = corpusTexts();
        const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
        std::vector<const std::string*> loadable;
        for (const auto& text : texts) {
            if (tend::conf::loadJob("j", tend::grammar::SourceText("j.conf", text), nullptr,
                                    registry)
                    .job) {
                loadable.push_back(&text);
            }
        }
        for (int i = 0; i < 1000; ++i) {
            std::ofstream(dir_ / ("job" + std::to_string(i) + ".conf"))
                << *loadable[static_cast<std::size_t>(i) % loadable.size()];
        }
    }
    ~ThousandJobs() { fs::remove_all(dir_); }
    const fs::path& dir() const { return dir_; }

  private:
    fs::path dir_;
};

void BM_LoadThousandJobFilesFromDisk(benchmark::State& state) {
    static const ThousandJobs jobs;
    const auto registry = tend::conf::StanzaRegistry::withCoreStanzas();
    std::size_t loaded = 0;
    for (auto _ : state) {
        std::vector<tend::grammar::Diagnostic> problems;
        loaded = 0;
        for (const auto& file : tend::conf::findJobFiles(jobs.dir(), problems)) {
            loaded += tend::conf::loadJobFile(file.name, file.path, registry).job.has_value();
        }
    }
    if (loaded != 1000) {
        state.SkipWithError("not every job loaded");
    }
    state.counters["jobs"] = static_cast<double>(loaded);
}
BENCHMARK(BM_LoadThousandJobFilesFromDisk)->Unit(benchmark::kMillisecond);

void BM_ParseCondition(benchmark::State& state) {
    const tend::grammar::SourceText source(
        "cond", "started dbus and (file FILE=/home/*/Mail/new/* EVENT=create or desktop-start)");
    for (auto _ : state) {
        auto result = tend::grammar::parseCondition(source);
        benchmark::DoNotOptimize(result);
    }
}
BENCHMARK(BM_ParseCondition);

}  // namespace

BENCHMARK_MAIN();
