// SPDX-License-Identifier: MIT
// Event dispatch: one event handled against 1,000 job classes with realistic `start on` /
// `stop on` trees, on the fake platform (no processes), so that what is measured is matching
// and queue work alone. The argument is the number of classes; `started JOB=unrelated` also
// runs at 100 and 5,000 of them, to show how dispatch cost grows with the session's size.
#include <benchmark/benchmark.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "dispatch/supervisor.hpp"
#include "session_jobs.hpp"
#include "support/fake_platform.hpp"

namespace {

using namespace tend;

struct Fixture {
    test::FakePlatform platform;
    std::unique_ptr<dispatch::Supervisor> supervisor;

    explicit Fixture(int classes) {
        auto logger = std::make_shared<spdlog::logger>(
            "bench", std::make_shared<spdlog::sinks::null_sink_mt>());
        supervisor = std::make_unique<dispatch::Supervisor>(platform, nullptr,
                                                            dispatch::SupervisorOptions{}, logger);
        bench::loadSessionJobs(*supervisor, classes);
    }
};

// `started JOB=unrelated`: every class waiting on `started X` must look at it and decline.
void BM_DispatchStartedToThousandClasses(benchmark::State& state) {
    Fixture fixture(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        fixture.supervisor->emit("started", model::Environment{"JOB=unrelated", "INSTANCE="});
        fixture.supervisor->poll();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchStartedToThousandClasses)
    ->Arg(100)
    ->Arg(1000)
    ->Arg(5000)
    ->Unit(benchmark::kMicrosecond);

// A bridge event with variables that matches no job: the common case for D-Bus signals.
void BM_DispatchBridgeEventToThousandClasses(benchmark::State& state) {
    Fixture fixture(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        fixture.supervisor->emit("dbus", model::Environment{"SIGNAL=PropertiesChanged",
                                                            "INTERFACE=org.other", "PATH=/x"});
        fixture.supervisor->poll();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchBridgeEventToThousandClasses)->Arg(1000)->Unit(benchmark::kMicrosecond);

// Classes that wait for the same signal, each for an argument of its own (`dbus SIGNAL=Ping
// ARG0=jobI`), and a Ping for none of them: the index files each class under its ARG0, so
// the event looks at none.
void BM_DispatchSignalToClassesSharingAnOperand(benchmark::State& state) {
    test::FakePlatform platform;
    auto logger =
        std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>());
    dispatch::Supervisor supervisor(platform, nullptr, dispatch::SupervisorOptions{}, logger);
    const auto registry = conf::StanzaRegistry::withCoreStanzas();
    for (int i = 0; i < state.range(0); ++i) {
        const std::string name = "ping" + std::to_string(i);
        const grammar::SourceText source(
            name + ".conf", "start on dbus SIGNAL=Ping INTERFACE=org.tend.Bench ARG0=job" +
                                std::to_string(i) + "\ntask\nexec true\n");
        auto result = conf::loadJob(name, source, nullptr, registry);
        supervisor.setClass(std::make_shared<const model::JobClass>(std::move(*result.job)));
    }
    for (auto _ : state) {
        supervisor.emit(
            "dbus", model::Environment{"SIGNAL=Ping", "INTERFACE=org.tend.Bench", "ARG0=nobody"});
        supervisor.poll();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchSignalToClassesSharingAnOperand)->Arg(1000)->Unit(benchmark::kMicrosecond);

// An event no job names at all.
void BM_DispatchUnwatchedEvent(benchmark::State& state) {
    Fixture fixture(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        fixture.supervisor->emit("nobody-cares", {});
        fixture.supervisor->poll();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DispatchUnwatchedEvent)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
