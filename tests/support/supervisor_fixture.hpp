// SPDX-License-Identifier: MIT
// SupervisorTest: the supervisor on the fake platform (a virtual clock, processes as records),
// with what it logged, the events it emitted and how each start or stop request completed.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <vector>

#include "dispatch/supervisor.hpp"
#include "support/fake_platform.hpp"
#include "support/job_text.hpp"

namespace tend::test {

using dispatch::Supervisor;

class SupervisorTest : public ::testing::Test {
  protected:
    SupervisorTest() {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
        logger_ = std::make_shared<spdlog::logger>("test", sink);
        logger_->set_level(spdlog::level::info);
        supervisor_ = std::make_unique<Supervisor>(platform_, nullptr,
                                                   dispatch::SupervisorOptions{}, logger_);
        supervisor_->eventObservers().add([this](const model::Event& event) {
            std::string line = event.name;
            for (const auto& entry : event.env.entries()) {
                line += " " + entry;
            }
            events_.push_back(line);
        });
    }

    void addJob(const std::string& name, const std::string& text) {
        const grammar::SourceText source(name + ".conf", text);
        auto result = conf::loadJob(name, source, nullptr, test::coreRegistry());
        ASSERT_TRUE(result.job) << test::formatted(result);
        supervisor_->setClass(std::make_shared<const model::JobClass>(std::move(*result.job)));
    }

    std::string status(const std::string& name) {
        return supervisor_->statusOfClass(*supervisor_->findClass(name));
    }

    // Starts `name` and records how the request completed.
    Supervisor::Reply start(const std::string& name, std::vector<std::string> env = {}) {
        return supervisor_->start(name, env, [this](bool failed, const std::string& detail) {
            completions_.push_back(failed ? "failed: " + detail : "ok");
        });
    }
    Supervisor::Reply stop(const std::string& name) {
        return supervisor_->stop(name, {}, [this](bool failed, const std::string&) {
            completions_.push_back(failed ? "stop failed" : "stopped");
        });
    }

    pid_t lastPid() const { return platform_.spawned.back().pid; }
    std::string lastCommand() const {
        const auto& argv = platform_.spawned.back().setup.argv;
        return argv.empty() ? "" : argv.back();
    }
    void exit(pid_t pid, int status = 0) {
        platform_.exited(pid);
        supervisor_->onChildExit(pid, {false, status});
    }
    void killedBy(pid_t pid, int signal) {
        platform_.exited(pid);
        supervisor_->onChildExit(pid, {true, signal});
    }
    std::vector<std::string> eventsNamed(const std::string& prefix) const {
        std::vector<std::string> out;
        for (const auto& e : events_) {
            if (e.starts_with(prefix)) {
                out.push_back(e);
            }
        }
        return out;
    }

    test::FakePlatform platform_;
    std::ostringstream log_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<Supervisor> supervisor_;
    std::vector<std::string> events_;
    std::vector<std::string> completions_;
};

}  // namespace tend::test
