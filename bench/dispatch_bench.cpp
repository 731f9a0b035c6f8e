// SPDX-License-Identifier: MIT
// Event dispatch: one event handled against 1,000 job classes with realistic `start on` /
// `stop on` trees, on the fake platform (no processes), so that what is measured is matching
// and queue work alone.
#include <benchmark/benchmark.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "conf/job_loader.hpp"
#include "dispatch/supervisor.hpp"
#include "support/fake_platform.hpp"

namespace {

using namespace tend;

// The shapes real session jobs use: a dependency on another job, a desktop event with a
// variable, file and D-Bus bridge events, and the matching stop conditions.
std::string jobText(int i) {
    switch (i % 5) {
    case 0:
        return "start on started svc" + std::to_string(i + 1) + "\nstop on stopping svc" +
               std::to_string(i + 1) + "\nexec x\n";
    case 1:
        return "start on desktop-start and started dbus\nstop on desktop-end\nexec x\n";
    case 2:
        return "start on file FILE=/home/u/Mail/new/" + std::to_string(i) +
               "* EVENT=create\ntask\nexec x\n";
    case 3:
        return "start on (started dbus or xsession SESSIONTYPE=gnome*) and net-device-up "
               "IFACE!=lo\nstop on session-end\nexec x\n";
    default:
        return "start on dbus SIGNAL=NameOwnerChanged INTERFACE=org.example" + std::to_string(i) +
               "\nexec x\n";
    }
}

struct Fixture {
    test::FakePlatform platform;
    std::unique_ptr<dispatch::Supervisor> supervisor;

    explicit Fixture(int classes) {
        auto logger = std::make_shared<spdlog::logger>(
            "bench", std::make_shared<spdlog::sinks::null_sink_mt>());
        supervisor = std::make_unique<dispatch::Supervisor>(platform, nullptr,
                                                            dispatch::SupervisorOptions{}, logger);
        const auto registry = conf::StanzaRegistry::withCoreStanzas();
        for (int i = 0; i < classes; ++i) {
            const std::string name = "svc" + std::to_string(i);
            const grammar::SourceText source(name + ".conf", jobText(i));
            auto result = conf::loadJob(name, source, nullptr, registry);
            supervisor->setClass(std::make_shared<const model::JobClass>(std::move(*result.job)));
        }
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
BENCHMARK(BM_DispatchStartedToThousandClasses)->Arg(1000)->Unit(benchmark::kMicrosecond);

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
