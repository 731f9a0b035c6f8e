// SPDX-License-Identifier: MIT
// The D-Bus bridge seen from the bus, against a running tend with dbus-bridge loaded.
//
// `signal`: from a D-Bus signal to the job it starts. Each of JOBS loaded jobs waits for a
// signal of its own (`start on dbus SIGNAL=Ping INTERFACE=org.tend.Bench ARG0=jobI`); the
// harness emits that signal on an open sd-bus connection and takes two times:
//   - when tend says on the bus that the job is running (its JobChanged signal with state
//     "running", sent once the job's process is spawned): the bus both ways, the bridge, tend's
//     dispatch among JOBS classes, and the spawn;
//   - when the job's process, `STAMP stamp DIR/started-I` (bench/file_event_latency.cpp's,
//     which links nothing but the C++ runtime), writes the time it began: all of that, and the
//     exec and the dynamic loading of a small program.
// The floor of the second is the exec and loading alone: the harness spawning the same stamp
// itself, once after each signal (or before it, in turn), so that both see the same moments of
// the machine. It fails when a signal's job does not start, or when a job that was not
// signalled starts.
//
// `status`: the round trip of org.tend.Manager1.Status(JOB) on one open bus connection beside
// the round trip of the same `status JOB` on one open control socket connection, and, to tell
// the bus's share from the command's, org.freedesktop.DBus.Peer.Ping of tend's name (which
// sd-bus answers in tend without running a command). N of each per round, ROUNDS rounds, each
// series first in turn. Per round the median of each; the summary is the median of the rounds'
// medians with their min and max.
//
//   dbus_latency signal BUS_ADDRESS DIR JOBS N STAMP
//   dbus_latency status BUS_ADDRESS SOCKET JOB ROUNDS N
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <vector>

namespace {

long long clockNs(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
long long realtimeNs() {
    return clockNs(CLOCK_REALTIME);
}
long long monotonicNs() {
    return clockNs(CLOCK_MONOTONIC);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void printSummary(const char* label, std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    std::printf("%s: n=%zu median=%.3f ms min=%.3f ms p90=%.3f ms max=%.3f ms\n", label,
                samples.size(), samples[samples.size() / 2], samples.front(),
                samples[samples.size() * 9 / 10], samples.back());
}

sd_bus* connectBus(const char* address) {
    sd_bus* bus = nullptr;
    int r = sd_bus_new(&bus);
    if (r >= 0) {
        r = sd_bus_set_address(bus, address);
    }
    if (r >= 0) {
        r = sd_bus_set_bus_client(bus, 1);
    }
    if (r >= 0) {
        r = sd_bus_start(bus);
    }
    if (r < 0) {
        std::fprintf(stderr, "dbus_latency: cannot connect to %s: %s\n", address,
                     std::strerror(-r));
        sd_bus_unref(bus);
        return nullptr;
    }
    return bus;
}

// JobChanged(job, instance, goal, state, pid) of tend: when `job` was said to be running.
struct RunningWatch {
    std::string job;
    long long at = 0;
};

int onJobChanged(sd_bus_message* message, void* userdata, sd_bus_error*) {
    auto* watch = static_cast<RunningWatch*>(userdata);
    const char* job = nullptr;
    const char* instance = nullptr;
    const char* goal = nullptr;
    const char* state = nullptr;
    int pid = 0;
    if (sd_bus_message_read(message, "ssssi", &job, &instance, &goal, &state, &pid) >= 0 &&
        watch->at == 0 && watch->job == job && std::strcmp(state, "running") == 0) {
        watch->at = realtimeNs();
    }
    return 0;
}

// Reads the stamp a job wrote to `file`, waiting up to 10 s for it on `inotify` (a watch on its
// directory) and, with a `bus`, also for `watch` to see the job running; 0 if either never came.
long long awaitStamp(int inotify, const std::string& file, sd_bus* bus = nullptr,
                     const RunningWatch* watch = nullptr) {
    const long long deadline = monotonicNs() + 10'000'000'000LL;
    long long stamp = 0;
    for (;;) {
        if (bus) {
            while (sd_bus_process(bus, nullptr) > 0) {
            }
        }
        if (stamp == 0) {
            if (std::ifstream in(file); in >> stamp) {
            } else {
                stamp = 0;
            }
        }
        if (stamp != 0 && (!watch || watch->at != 0)) {
            return stamp;
        }
        const long long left = (deadline - monotonicNs()) / 1'000'000;
        if (left <= 0) {
            return 0;
        }
        pollfd pfd[2] = {{inotify, POLLIN, 0}, {bus ? sd_bus_get_fd(bus) : -1, POLLIN, 0}};
        if (::poll(pfd, bus ? 2 : 1, static_cast<int>(std::min(left, 100LL))) > 0 &&
            (pfd[0].revents & POLLIN)) {
            char buffer[4096];
            while (::read(inotify, buffer, sizeof buffer) > 0) {
            }
        }
    }
}

extern "C" char** environ;

// posix_spawn of the stamp straight from here: the fork and exec tend cannot avoid.
double floorSample(const char* stamp, const std::string& dir, int inotify) {
    const std::string started = dir + "/started-floor";
    ::unlink(started.c_str());
    const long long t0 = realtimeNs();
    char* argv[] = {const_cast<char*>(stamp), const_cast<char*>("stamp"),
                    const_cast<char*>(started.c_str()), nullptr};
    pid_t pid = 0;
    if (::posix_spawn(&pid, stamp, nullptr, nullptr, argv, environ) != 0) {
        return -1;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return static_cast<double>(awaitStamp(inotify, started) - t0) / 1e6;
}

int signalLatency(const char* address, const std::string& dir, int jobs, int n, const char* stamp) {
    sd_bus* bus = connectBus(address);
    if (!bus) {
        return 1;
    }
    const int inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify < 0 ||
        ::inotify_add_watch(inotify, dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
        std::perror("inotify");
        return 1;
    }
    RunningWatch watch;
    if (sd_bus_add_match(bus, nullptr,
                         "type='signal',interface='org.tend.Manager1',member='JobChanged'",
                         onJobChanged, &watch) < 0) {
        std::fprintf(stderr, "dbus_latency: cannot watch JobChanged\n");
        return 1;
    }
    std::vector<double> samples;
    std::vector<double> running;
    std::vector<double> floor;
    std::set<std::string> signalled;
    for (int i = 0; i < n; ++i) {
        if (i % 2 == 1) {
            floor.push_back(floorSample(stamp, dir, inotify));
        }
        const int job = (i * 7919) % jobs;  // spread over the jobs, not only the first
        const std::string arg = "job" + std::to_string(job);
        const std::string started = dir + "/started-" + std::to_string(job);
        ::unlink(started.c_str());
        usleep(20000);  // the previous run's own events pass before the next signal
        while (sd_bus_process(bus, nullptr) > 0) {
        }
        watch = RunningWatch{"ping" + std::to_string(job), 0};
        const long long t0 = realtimeNs();
        int r =
            sd_bus_emit_signal(bus, "/org/tend/Bench", "org.tend.Bench", "Ping", "s", arg.c_str());
        if (r >= 0) {
            r = sd_bus_flush(bus);
        }
        if (r < 0) {
            std::fprintf(stderr, "dbus_latency: emitting Ping %s: %s\n", arg.c_str(),
                         std::strerror(-r));
            return 1;
        }
        const long long t1 = awaitStamp(inotify, started, bus, &watch);
        if (t1 == 0) {
            std::fprintf(stderr, "dbus_latency: job %d never started, or tend never said so\n",
                         job);
            return 1;
        }
        signalled.insert("started-" + std::to_string(job));
        samples.push_back(static_cast<double>(t1 - t0) / 1e6);
        running.push_back(static_cast<double>(watch.at - t0) / 1e6);
        if (i % 2 == 0) {
            floor.push_back(floorSample(stamp, dir, inotify));
        }
    }
    usleep(200000);  // time for a job started by mistake to show
    std::size_t unsignalled = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("started-") && name != "started-floor" && !signalled.contains(name)) {
            std::fprintf(stderr, "dbus_latency: %s started without its signal\n", name.c_str());
            ++unsignalled;
        }
    }
    if (unsignalled > 0) {
        return 1;
    }
    sd_bus_flush_close_unref(bus);
    std::printf(
        "every one of %d signals started its job (%zu jobs signalled), no other job "
        "started\n",
        n, signalled.size());
    const std::string label = "dbus signal -> job start, " + std::to_string(jobs) + " jobs loaded";
    printSummary(label.c_str(), samples);
    printSummary("floor: the harness spawning the same program itself", floor);
    const std::string said = "dbus signal -> tend says the job is running (JobChanged), " +
                             std::to_string(jobs) + " jobs loaded";
    printSummary(said.c_str(), running);
    return 0;
}

// `status JOB` on an open control connection, as bench/control_roundtrip.cpp does it.
class ControlConnection {
  public:
    explicit ControlConnection(const char* socket_path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            std::perror("connect");
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~ControlConnection() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    bool ok() const { return fd_ >= 0; }
    // The reply, or empty when the connection failed.
    std::string roundTrip(const std::string& request) {
        if (::write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
            return {};
        }
        std::string reply;
        char buffer[65536];
        while (reply.empty() || reply.back() != '\n') {
            const ssize_t r = ::read(fd_, buffer, sizeof buffer);
            if (r <= 0) {
                return {};
            }
            reply.append(buffer, static_cast<std::size_t>(r));
        }
        return reply;
    }

  private:
    int fd_ = -1;
};

// One org.freedesktop.DBus.Peer.Ping of tend's name: sd-bus answers it inside tend, on the
// bridge's loop, without a control command. False on an error.
bool busPing(sd_bus* bus) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    const int r = sd_bus_call_method(bus, "org.tend.Manager1", "/org/tend/Manager",
                                     "org.freedesktop.DBus.Peer", "Ping", &error, &reply, "");
    if (r < 0) {
        std::fprintf(stderr, "dbus_latency: Ping: %s\n", error.message ? error.message : "failed");
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return r >= 0;
}

// One D-Bus Status call; its text, or empty on an error.
std::string busStatus(sd_bus* bus, const char* job) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    std::string text;
    if (sd_bus_call_method(bus, "org.tend.Manager1", "/org/tend/Manager", "org.tend.Manager1",
                           "Status", &error, &reply, "sas", job, 0u) >= 0) {
        const char* said = nullptr;
        const char* json = nullptr;
        if (sd_bus_message_read(reply, "ss", &said, &json) >= 0 && said) {
            text = said;
        }
    } else {
        std::fprintf(stderr, "dbus_latency: Status: %s\n",
                     error.message ? error.message : "failed");
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return text;
}

int statusLatency(const char* address, const char* socket_path, const char* job, int rounds,
                  int n) {
    sd_bus* bus = connectBus(address);
    ControlConnection control(socket_path);
    if (!bus || !control.ok()) {
        return 1;
    }
    const std::string request = std::string(R"({"protocol":1,"command":"status","args":[")") + job +
                                R"("],"wait":true})" + "\n";
    // Each series: one call, true when its answer is right.
    struct Series {
        const char* label;
        std::function<bool()> call;
        std::vector<double> medians;
        double slowest = 0;
    };
    std::vector<Series> series;
    series.push_back({"dbus Status round trip",
                      [&] {
                          const std::string text = busStatus(bus, job);
                          if (text.find("start/running") == std::string::npos) {
                              std::fprintf(stderr, "dbus_latency: unexpected Status reply: %s\n",
                                           text.c_str());
                              return false;
                          }
                          return true;
                      },
                      {},
                      0});
    series.push_back({"control socket status round trip",
                      [&] {
                          const std::string reply = control.roundTrip(request);
                          if (reply.find("\"ok\":true") == std::string::npos ||
                              reply.find("start/running") == std::string::npos) {
                              std::fprintf(stderr, "dbus_latency: unexpected status reply: %s\n",
                                           reply.c_str());
                              return false;
                          }
                          return true;
                      },
                      {},
                      0});
    series.push_back({"dbus Peer.Ping round trip", [&] { return busPing(bus); }, {}, 0});
    for (int round = 0; round < rounds; ++round) {
        std::printf("round %d:", round + 1);
        // Each series first in turn: none always runs on what another left behind.
        for (std::size_t k = 0; k < series.size(); ++k) {
            Series& one = series[(k + static_cast<std::size_t>(round)) % series.size()];
            std::vector<double> samples;
            for (int i = 0; i < n; ++i) {
                const long long t0 = monotonicNs();
                const bool ok = one.call();
                const long long t1 = monotonicNs();
                if (!ok) {
                    return 1;
                }
                samples.push_back(static_cast<double>(t1 - t0) / 1e6);
            }
            one.medians.push_back(median(samples));
            one.slowest = std::max(one.slowest, *std::max_element(samples.begin(), samples.end()));
            std::printf(" %s median=%.3f ms;", one.label, one.medians.back());
        }
        std::printf("\n");
    }
    sd_bus_flush_close_unref(bus);
    for (Series& one : series) {
        std::sort(one.medians.begin(), one.medians.end());
        std::printf("%s: rounds=%d n=%d median=%.3f ms min=%.3f ms max=%.3f ms slowest=%.3f ms\n",
                    one.label, rounds, n, one.medians[one.medians.size() / 2], one.medians.front(),
                    one.medians.back(), one.slowest);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 7 && std::string(argv[1]) == "signal") {
        return signalLatency(argv[2], argv[3], std::atoi(argv[4]), std::atoi(argv[5]), argv[6]);
    }
    if (argc == 7 && std::string(argv[1]) == "status") {
        return statusLatency(argv[2], argv[3], argv[4], std::atoi(argv[5]), std::atoi(argv[6]));
    }
    std::fprintf(stderr,
                 "usage: dbus_latency signal BUS_ADDRESS DIR JOBS N STAMP\n"
                 "       dbus_latency status BUS_ADDRESS SOCKET JOB ROUNDS N\n");
    return 2;
}
