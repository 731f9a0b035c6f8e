// SPDX-License-Identifier: MIT
// Control-plane load: THREADS clients, each on its own persistent connection, send
// `status JOB` request/response style (the next request goes out once the reply to the last
// has been read, as tendctl does), for SECONDS or until SIGINT/SIGTERM. Back to back by
// default; with --rate R the clients together send R requests a second, each on a fixed
// schedule (one that falls behind sends at once until it has caught up). Prints the replies per
// second: overall, and the median and lowest of the whole seconds.
//
//   control_load [--threads T] [--rate R] [--seconds S] [--socket PATH] [--text]
//                [--reference-server] JOB
//
// --text asks for the reply without its JSON `data`, as tendctl does when it prints text.
// The socket is --socket, else $TEND_SESSION. Every reply must say "ok":true.
//
// --reference-server aims the clients at a server this program forks for the purpose instead of
// at tend: one thread, epoll, one read and one canned reply per request, in a session of its
// own as tend is. It is the least any server can do for the same traffic, so a restart measured
// beside it shows what the clients alone cost the machine, whatever the server. Its CPU time
// (on CPU from schedstat; user and system from wait4) is printed at the end.
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop{false};
std::atomic<long long> replies{0};
std::atomic<long long> failures{0};

long long nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void onSignal(int) {
    stop = true;
}

int connectTo(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("control_load: connect");
        std::exit(1);
    }
    return fd;
}

void client(const std::string& path, const std::string& request, long long interval_ns) {
    const int fd = connectTo(path);
    std::string pending;
    char buffer[65536];
    long long next = nowNs();
    while (!stop) {
        if (interval_ns > 0) {
            next += interval_ns;
            const timespec at{static_cast<time_t>(next / 1'000'000'000LL),
                              static_cast<long>(next % 1'000'000'000LL)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
            }
        }
        if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
            ++failures;
            break;
        }
        for (;;) {
            const auto end = pending.find('\n');
            if (end != std::string::npos) {
                if (std::string_view(pending).substr(0, end).find("\"ok\":true") ==
                    std::string_view::npos) {
                    ++failures;
                }
                pending.erase(0, end + 1);
                break;
            }
            const ssize_t r = read(fd, buffer, sizeof buffer);
            if (r <= 0) {
                std::fprintf(stderr, "control_load: tend closed the connection\n");
                ++failures;
                close(fd);
                return;
            }
            pending.append(buffer, static_cast<std::size_t>(r));
        }
        ++replies;
    }
    close(fd);
}

// Answers every line on every connection with a canned reply until the parent goes.
[[noreturn]] void referenceServer(int listener) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    setsid();
    const int poller = epoll_create1(EPOLL_CLOEXEC);
    epoll_event interest{};
    interest.events = EPOLLIN;
    interest.data.fd = listener;
    epoll_ctl(poller, EPOLL_CTL_ADD, listener, &interest);
    static constexpr std::string_view reply = R"({"ok":true,"text":"steady stop/waiting"})"
                                              "\n";
    char buffer[65536];
    epoll_event ready[64];
    for (;;) {
        const int n = epoll_wait(poller, ready, 64, -1);
        for (int i = 0; i < n; ++i) {
            const int fd = ready[i].data.fd;
            if (fd == listener) {
                const int client = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
                if (client >= 0) {
                    interest.data.fd = client;
                    epoll_ctl(poller, EPOLL_CTL_ADD, client, &interest);
                }
                continue;
            }
            const ssize_t r = read(fd, buffer, sizeof buffer);
            if (r <= 0) {
                close(fd);
                continue;
            }
            // Request/response clients have one request in flight, so a read holds whole lines.
            for (ssize_t k = 0; k < r; ++k) {
                if (buffer[k] == '\n' && write(fd, reply.data(), reply.size()) < 0) {
                    break;
                }
            }
        }
    }
}

pid_t startReferenceServer(const std::string& path) {
    unlink(path.c_str());
    const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener, 64) != 0) {
        std::perror("control_load: reference server");
        std::exit(1);
    }
    const pid_t pid = fork();
    if (pid == 0) {
        referenceServer(listener);
    }
    close(listener);
    return pid;
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 8;
    double rate = 0;     // back to back
    double seconds = 0;  // until a signal
    std::string path;
    if (const char* session = std::getenv("TEND_SESSION")) {
        path = session;
    }
    std::string job;
    bool reference_server = false;
    bool text_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (arg == "--rate" && i + 1 < argc) {
            rate = std::atof(argv[++i]);
        } else if (arg == "--seconds" && i + 1 < argc) {
            seconds = std::atof(argv[++i]);
        } else if (arg == "--socket" && i + 1 < argc) {
            path = argv[++i];
        } else if (arg == "--text") {
            text_only = true;
        } else if (arg == "--reference-server") {
            reference_server = true;
        } else if (job.empty() && !arg.starts_with("-")) {
            job = arg;
        } else {
            job.clear();
            break;
        }
    }
    if (job.empty() || path.empty() || threads < 1) {
        std::fprintf(stderr,
                     "usage: control_load [--threads T] [--rate R] [--seconds S] [--socket PATH] "
                     "[--text] [--reference-server] JOB\n");
        return 2;
    }
    pid_t server = 0;
    if (reference_server) {
        path += ".reference";
        server = startReferenceServer(path);
    }
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    const std::string request = R"({"protocol":1,"command":"status","args":[")" + job +
                                R"("],"wait":true)" +
                                (text_only ? R"(,"options":{"data":false}})" : "}") + "\n";

    const long long interval_ns = rate > 0 ? static_cast<long long>(threads * 1e9 / rate) : 0;
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
        pool.emplace_back(client, path, request, interval_ns);
    }
    const long long start = nowNs();
    std::vector<double> per_second;
    long long mark = start;
    long long counted = replies;
    while (!stop) {
        timespec tick{0, 10'000'000};
        nanosleep(&tick, nullptr);
        const long long now = nowNs();
        if (now - mark >= 1'000'000'000LL) {
            const long long total = replies;
            per_second.push_back(static_cast<double>(total - counted) * 1e9 /
                                 static_cast<double>(now - mark));
            counted = total;
            mark = now;
        }
        if (seconds > 0 && static_cast<double>(now - start) >= seconds * 1e9) {
            stop = true;
        }
    }
    const double elapsed = static_cast<double>(nowNs() - start) / 1e9;
    for (auto& thread : pool) {
        thread.join();
    }
    std::string server_cpu;
    if (server > 0) {
        // Time on CPU to the nanosecond (schedstat), where rusage counts in scheduler ticks.
        double on_cpu_s = 0;
        if (FILE* schedstat =
                std::fopen(("/proc/" + std::to_string(server) + "/schedstat").c_str(), "r")) {
            unsigned long long ns = 0;
            if (std::fscanf(schedstat, "%llu", &ns) == 1) {
                on_cpu_s = static_cast<double>(ns) / 1e9;
            }
            std::fclose(schedstat);
        }
        kill(server, SIGTERM);
        rusage usage{};
        wait4(server, nullptr, 0, &usage);
        unlink(path.c_str());
        char text[128];
        std::snprintf(text, sizeof text,
                      "; reference server CPU: %.6f s on CPU, user %.3f s, system %.3f s", on_cpu_s,
                      static_cast<double>(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec / 1e6,
                      static_cast<double>(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec / 1e6);
        server_cpu = text;
    }
    std::sort(per_second.begin(), per_second.end());
    std::string seconds_text = "whole seconds: none";
    if (!per_second.empty()) {
        char text[128];
        std::snprintf(text, sizeof text, "whole seconds: median %.0f/s, lowest %.0f/s",
                      per_second[per_second.size() / 2], per_second.front());
        seconds_text = text;
    }
    const std::string pace =
        rate > 0 ? "offered " + std::to_string(static_cast<long>(rate)) + "/s" : "back to back";
    std::printf(
        "control load (%d clients, status %s, request/response, %s%s): %lld replies in "
        "%.1f s = %.0f/s; %s; failures %lld%s\n",
        threads, job.c_str(), pace.c_str(), reference_server ? ", reference server" : "",
        replies.load(), elapsed, static_cast<double>(replies) / elapsed, seconds_text.c_str(),
        failures.load(), server_cpu.c_str());
    return failures == 0 ? 0 : 1;
}
