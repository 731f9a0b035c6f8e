// SPDX-License-Identifier: MIT
// A real, private dbus-daemon for a test: its own configuration (nothing activatable from the
// host), listening on a socket in the test's directory, the test's child so it is always reaped.
// It can be stopped and started again at the same address, as a session bus that dies and
// returns.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace tend::test {

class PrivateBus {
  public:
    // `any_user`: other users may connect too (a test of who tend serves).
    explicit PrivateBus(std::filesystem::path dir, bool any_user = false) : dir_(std::move(dir)) {
        std::filesystem::create_directories(dir_ / "services");
        std::ofstream(dir_ / "bus.conf")
            << "<busconfig><type>session</type><keep_umask/>"
               "<listen>unix:path="
            << socketPath().string() << "</listen><auth>EXTERNAL</auth><servicedir>"
            << (dir_ / "services").string()
            << "</servicedir><policy context=\"default\"><allow send_destination=\"*\" "
               "eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/>"
            << (any_user ? "<allow user=\"*\"/>" : "")
            << "</policy>"
               "</busconfig>\n";
    }
    ~PrivateBus() { stop(); }
    PrivateBus(const PrivateBus&) = delete;
    PrivateBus& operator=(const PrivateBus&) = delete;

    std::filesystem::path socketPath() const { return dir_ / "bus"; }
    std::string address() const { return "unix:path=" + socketPath().string(); }

    // Starts the daemon and waits until its socket is there; false if it does not come.
    bool start() {
        std::filesystem::remove(socketPath());
        pid_ = ::fork();
        if (pid_ == 0) {
            const std::string config = "--config-file=" + (dir_ / "bus.conf").string();
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            ::execl("/usr/bin/dbus-daemon", "dbus-daemon", config.c_str(), "--nofork",
                    "--nopidfile", static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 1000; ++i) {
            if (std::filesystem::exists(socketPath())) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

  private:
    std::filesystem::path dir_;
    pid_t pid_ = -1;
};

}  // namespace tend::test
