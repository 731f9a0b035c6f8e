// SPDX-License-Identifier: MIT
// The control server's reserve descriptor, which lets tend answer a client when it has run out
// of descriptors: it must come back after each client so served, even when whatever else tend
// does takes every descriptor that comes free.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "control/control_server.hpp"
#include "dispatch/supervisor.hpp"
#include "support/fake_platform.hpp"

namespace tend::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ControlReserve : public ::testing::Test {
  protected:
    ControlReserve() {
        dir_ = fs::temp_directory_path() / ("tend-reserve-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        logger_ = std::make_shared<spdlog::logger>("test",
                                                   std::make_shared<spdlog::sinks::null_sink_mt>());
        supervisor_ = std::make_unique<dispatch::Supervisor>(
            platform_, nullptr, dispatch::SupervisorOptions{}, logger_);
        control::ControlContext context;
        context.supervisor = supervisor_.get();
        context.logger = logger_;
        context.version = "test";
        server_ = std::make_unique<control::ControlServer>(io_, std::move(context));
        ::getrlimit(RLIMIT_NOFILE, &saved_limit_);
    }
    ~ControlReserve() override {
        server_.reset();
        for (const int fd : filler_) {
            ::close(fd);
        }
        ::setrlimit(RLIMIT_NOFILE, &saved_limit_);
        fs::remove_all(dir_);
    }

    // Takes every free descriptor, as the jobs of a session short of them do.
    void takeEveryFreeDescriptor() {
        for (;;) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                ASSERT_EQ(errno, EMFILE);
                return;
            }
            filler_.push_back(fd);
        }
    }

    // Sends `version` on `client` (a socket made while descriptors were free) and runs the loop
    // until the reply comes or 10 s have passed; returns the reply, empty for none.
    std::string askVersion(int client) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const std::string path = (dir_ / "control").string();
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        if (::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            return "connect failed";
        }
        const std::string request = R"({"protocol":1,"command":"version","args":[]})"
                                    "\n";
        if (::write(client, request.data(), request.size()) !=
            static_cast<ssize_t>(request.size())) {
            return "write failed";
        }
        std::string reply;
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (std::chrono::steady_clock::now() < deadline) {
            io_.run_one_for(10ms);
            pollfd ready{client, POLLIN, 0};
            if (::poll(&ready, 1, 0) == 1) {
                char buffer[4096];
                const ssize_t n = ::read(client, buffer, sizeof buffer);
                if (n <= 0) {
                    break;
                }
                reply.append(buffer, static_cast<std::size_t>(n));
                if (reply.back() == '\n') {
                    break;
                }
            }
        }
        return reply;
    }

    fs::path dir_;
    boost::asio::io_context io_;
    test::FakePlatform platform_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<dispatch::Supervisor> supervisor_;
    std::unique_ptr<control::ControlServer> server_;
    std::vector<int> filler_;
    rlimit saved_limit_{};
};

TEST_F(ControlReserve, ComesBackAfterEachClientItServedWhenEveryOtherDescriptorIsTaken) {
    ASSERT_EQ(server_->listen((dir_ / "control").string()), "");
    // The clients' sockets are made first: out of descriptors, the test could not make them.
    std::vector<int> clients;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        ASSERT_GE(clients.back(), 0);
    }
    // A limit a little above what is open, then nothing left.
    rlimit low = saved_limit_;
    low.rlim_cur = 0;
    for (int fd = 0; fd < 4096; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0) {
            low.rlim_cur = static_cast<rlim_t>(fd) + 1;
        }
    }
    low.rlim_cur += 8;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    takeEveryFreeDescriptor();
    for (std::size_t i = 0; i < clients.size(); ++i) {
        EXPECT_NE(askVersion(clients[i]).find(R"("ok":true)"), std::string::npos)
            << "client " << i + 1 << " was not answered";
        ::close(clients[i]);
        // Its connection goes; whatever comes free, the session's jobs take at once.
        for (int turns = 0; turns < 10; ++turns) {
            io_.poll();
        }
        takeEveryFreeDescriptor();
    }
}

}  // namespace
}  // namespace tend::test
