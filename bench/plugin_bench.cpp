// SPDX-License-Identifier: MIT
// What loaded but idle plugins cost: event dispatch through the supervisor of
// bench/dispatch_bench.cpp (1,000 classes, fake platform, the same events) with a real
// PluginManager over a plugins.d holding none or five idle plugins (tests/plugins/idle.cpp),
// and the time to load one plugin. The idle plugins come in two shapes: subscribed to every
// event and job change and doing nothing with them (the worst case), and shaped like a bridge
// with nothing to do (following job classes, serving a command: how the standard plugins wait).
//
// Run the dispatch pairs with --benchmark_enable_random_interleaving=true: on a busy machine
// the drift between two runs minutes apart is larger than the difference being measured.
#include <benchmark/benchmark.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dispatch/supervisor.hpp"
#include "plugin/plugin_manager.hpp"
#include "session_jobs.hpp"
#include "support/fake_platform.hpp"

namespace {

using namespace tend;
namespace fs = std::filesystem;

constexpr int kIdlePlugins = 5;

// A private plugins.d with idle1.so .. idle<count>.so copied in, trusted the way the manager
// wants (0755 directory, 0644 files); removed with the object.
class PluginsDir {
  public:
    explicit PluginsDir(int count, bool subscribed = true) {
        std::string pattern = (fs::temp_directory_path() / "tend-plugin-bench-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
        fs::permissions(path_, static_cast<fs::perms>(0755));
        for (int i = 1; i <= count; ++i) {
            const std::string file = "idle" + std::to_string(i) + ".so";
            fs::copy_file(fs::path(TEND_TEST_PLUGINS_DIR) / file, path_ / file);
            fs::permissions(path_ / file, static_cast<fs::perms>(0644));
            if (!subscribed) {
                std::ofstream(path_ / ("idle" + std::to_string(i) + ".conf"))
                    << "setting subscribe none\n";
            }
        }
    }
    ~PluginsDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    PluginsDir(const PluginsDir&) = delete;
    PluginsDir& operator=(const PluginsDir&) = delete;
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

std::shared_ptr<spdlog::logger> nullLogger() {
    return std::make_shared<spdlog::logger>("bench",
                                            std::make_shared<spdlog::sinks::null_sink_mt>());
}

plugin::PluginManagerOptions optionsFor(const PluginsDir& dir) {
    plugin::PluginManagerOptions options;
    options.dirs = {dir.path()};
    options.watch = false;
    return options;
}

// Whether every plugin the manager found is running (a refused one would bench nothing).
bool allRunning(const plugin::PluginManager& manager, int expected) {
    const auto status = manager.status();
    return static_cast<int>(status.size()) == expected &&
           std::all_of(status.begin(), status.end(), [](const plugin::PluginStatus& s) {
               return s.state == plugin::PluginState::Running;
           });
}

// The supervisor of bench/dispatch_bench.cpp, with a plugin manager over `plugins` idle plugins.
// With none, the manager is still there (as in tend), observing events for nobody.
struct Fixture {
    test::FakePlatform platform;
    std::shared_ptr<spdlog::logger> logger = nullLogger();
    std::unique_ptr<dispatch::Supervisor> supervisor;
    boost::asio::io_context io;
    PluginsDir dir;
    std::unique_ptr<plugin::PluginManager> plugins;

    Fixture(int classes, int idle_plugins, bool subscribed) : dir(idle_plugins, subscribed) {
        supervisor = std::make_unique<dispatch::Supervisor>(platform, nullptr,
                                                            dispatch::SupervisorOptions{}, logger);
        bench::loadSessionJobs(*supervisor, classes);
        plugins = std::make_unique<plugin::PluginManager>(io, *supervisor, logger, optionsFor(dir));
        plugins->start();
    }
    ~Fixture() { plugins.reset(); }  // before the supervisor it observes
};

void dispatchLoop(benchmark::State& state, const std::string& name, const model::Environment& env) {
    const int idle_plugins = static_cast<int>(state.range(0));
    const bool subscribed = state.range(1) != 0;
    Fixture fixture(1000, idle_plugins, subscribed);
    if (!allRunning(*fixture.plugins, idle_plugins)) {
        state.SkipWithError("the idle plugins did not all start");
        return;
    }
    for (auto _ : state) {
        fixture.supervisor->emit(name, env);
        fixture.supervisor->poll();
    }
    state.SetItemsProcessed(state.iterations());
}

// The three events of bench/dispatch_bench.cpp; the arguments are the number of idle plugins
// and whether they subscribe to every event (1) or wait like a bridge (0).
void BM_PluginsDispatchStarted(benchmark::State& state) {
    dispatchLoop(state, "started", model::Environment{"JOB=unrelated", "INSTANCE="});
}
BENCHMARK(BM_PluginsDispatchStarted)
    ->Args({0, 0})
    ->Args({kIdlePlugins, 0})
    ->Args({kIdlePlugins, 1})
    ->Unit(benchmark::kNanosecond);

void BM_PluginsDispatchBridgeEvent(benchmark::State& state) {
    dispatchLoop(state, "dbus",
                 model::Environment{"SIGNAL=PropertiesChanged", "INTERFACE=org.other", "PATH=/x"});
}
BENCHMARK(BM_PluginsDispatchBridgeEvent)
    ->Args({0, 0})
    ->Args({kIdlePlugins, 0})
    ->Args({kIdlePlugins, 1})
    ->Unit(benchmark::kNanosecond);

void BM_PluginsDispatchUnwatchedEvent(benchmark::State& state) {
    dispatchLoop(state, "nobody-cares", {});
}
BENCHMARK(BM_PluginsDispatchUnwatchedEvent)
    ->Args({0, 0})
    ->Args({kIdlePlugins, 0})
    ->Args({kIdlePlugins, 1})
    ->Unit(benchmark::kNanosecond);

// PluginManager::start() over a plugins.d of five idle plugins (scan, descriptors, trust,
// dlopen, factory, start()); the time is per start(), `per_plugin_ms` a fifth of it, and
// `load_ms` the median of what the manager itself logs per plugin ("started ... in X ms":
// dlopen to the end of start()). Unloading is outside the timing.
void BM_PluginsStartFiveIdle(benchmark::State& state) {
    test::FakePlatform platform;
    auto logger = nullLogger();
    dispatch::Supervisor supervisor(platform, nullptr, dispatch::SupervisorOptions{}, logger);
    boost::asio::io_context io;
    PluginsDir dir(kIdlePlugins);
    std::vector<double> load_ms;
    double total_ms = 0;
    for (auto _ : state) {
        plugin::PluginManager manager(io, supervisor, logger, optionsFor(dir));
        const auto begin = std::chrono::steady_clock::now();
        manager.start();
        const std::chrono::duration<double> took = std::chrono::steady_clock::now() - begin;
        state.SetIterationTime(took.count());
        total_ms += took.count() * 1000;
        if (!allRunning(manager, kIdlePlugins)) {
            state.SkipWithError("the idle plugins did not all start");
            return;
        }
        for (const auto& s : manager.status()) {
            load_ms.push_back(s.load_ms);
        }
    }
    std::sort(load_ms.begin(), load_ms.end());
    state.counters["load_ms"] = load_ms.empty() ? 0 : load_ms[load_ms.size() / 2];
    state.counters["per_plugin_ms"] =
        benchmark::Counter(total_ms / kIdlePlugins, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_PluginsStartFiveIdle)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
