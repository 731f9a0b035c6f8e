// SPDX-License-Identifier: MIT
// tend's side of a control request, without the socket: ControlServer::handle() on a request
// line, to the reply serialised as it goes on the wire, with 1,000 running jobs on the fake
// platform. bench/control_scenarios.sh measures the same requests as whole round trips.
#include <benchmark/benchmark.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "conf/job_loader.hpp"
#include "control/control_server.hpp"
#include "control/protocol.hpp"
#include "dispatch/supervisor.hpp"
#include "support/fake_platform.hpp"

namespace {

using namespace tend;

// Serialises each reply as the socket would, and keeps the last one's size.
class WireClient : public control::Client {
  public:
    void send(const nlohmann::json& message) override {
        bytes = control::encodeLine(message).size();
    }
    void sendLine(std::string line) override { bytes = line.size(); }
    std::size_t bytes = 0;
};

struct Fixture {
    test::FakePlatform platform;
    boost::asio::io_context io;
    std::unique_ptr<dispatch::Supervisor> supervisor;
    std::unique_ptr<control::ControlServer> server;
    std::shared_ptr<WireClient> client = std::make_shared<WireClient>();

    explicit Fixture(int jobs) {
        auto logger = std::make_shared<spdlog::logger>(
            "bench", std::make_shared<spdlog::sinks::null_sink_mt>());
        supervisor = std::make_unique<dispatch::Supervisor>(platform, nullptr,
                                                            dispatch::SupervisorOptions{}, logger);
        const auto registry = conf::StanzaRegistry::withCoreStanzas();
        for (int i = 1; i <= jobs; ++i) {
            const std::string name = "idle" + std::to_string(i);
            const grammar::SourceText source(name + ".conf",
                                             "start on startup\nconsole none\nexec sleep 100000\n");
            auto result = conf::loadJob(name, source, nullptr, registry);
            supervisor->setClass(std::make_shared<const model::JobClass>(std::move(*result.job)));
        }
        supervisor->emit("startup", {});
        supervisor->poll();
        control::ControlContext context;
        context.supervisor = supervisor.get();
        context.logger = logger;
        context.version = "bench";
        context.log_dir = "/tmp";
        server = std::make_unique<control::ControlServer>(io, std::move(context));
    }
};

void run(benchmark::State& state, const std::string& line) {
    Fixture fixture(static_cast<int>(state.range(0)));
    for (auto _ : state) {
        fixture.server->handle(line, fixture.client);
    }
    state.counters["reply_bytes"] = static_cast<double>(fixture.client->bytes);
}

// `tendctl list`: every job's status line and its JSON, in one reply.
void BM_ListThousandJobs(benchmark::State& state) {
    run(state, R"({"protocol":1,"command":"list","args":[],"wait":true})");
}
BENCHMARK(BM_ListThousandJobs)->Arg(1000)->Unit(benchmark::kMillisecond);

// `tendctl status idle1`: what the control-load scenario sends.
void BM_StatusOneJob(benchmark::State& state) {
    run(state, R"({"protocol":1,"command":"status","args":["idle1"],"wait":true})");
}
BENCHMARK(BM_StatusOneJob)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
