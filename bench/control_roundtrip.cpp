// SPDX-License-Identifier: MIT
// The control round trip over one open connection, not counting process start-up: request
// written, whole reply read, repeated N times against a running tend. Without a command it is
// `emit --no-wait bench-event N=1`; with one (`list`, `status JOB`) that request, waiting.
//
//   control_roundtrip SOCKET N [COMMAND [ARGS...]]
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {
long long nowNs() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: control_roundtrip SOCKET N [COMMAND [ARGS...]]\n");
        return 2;
    }
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("connect");
        return 1;
    }
    const int n = std::atoi(argv[2]);
    std::string label = "emit --no-wait";
    std::string request =
        R"({"protocol":1,"command":"emit","args":["bench-event","N=1"],"wait":false})"
        "\n";
    if (argc > 3) {
        label = argv[3];
        std::string args;
        for (int i = 4; i < argc; ++i) {
            label += std::string(" ") + argv[i];
            args += std::string(args.empty() ? "" : ",") + "\"" + argv[i] + "\"";
        }
        request = std::string(R"({"protocol":1,"command":")") + argv[3] + R"(","args":[)" + args +
                  R"(],"wait":true})" + "\n";
    }
    std::vector<double> samples;
    std::string reply;
    char buffer[65536];
    for (int i = 0; i < n; ++i) {
        reply.clear();
        const long long t0 = nowNs();
        if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
            return 1;
        }
        while (reply.empty() || reply.back() != '\n') {
            const ssize_t r = read(fd, buffer, sizeof buffer);
            if (r <= 0) {
                std::fprintf(stderr, "control_roundtrip: connection closed\n");
                return 1;
            }
            reply.append(buffer, static_cast<std::size_t>(r));
        }
        const long long t1 = nowNs();
        if (reply.find("\"ok\":true") == std::string::npos) {
            std::fprintf(stderr, "control_roundtrip: error reply: %s", reply.c_str());
            return 1;
        }
        samples.push_back(static_cast<double>(t1 - t0) / 1e6);
    }
    std::sort(samples.begin(), samples.end());
    std::printf("%s round trip: n=%zu median=%.3f ms min=%.3f ms max=%.3f ms (reply %zu bytes)\n",
                label.c_str(), samples.size(), samples[samples.size() / 2], samples.front(),
                samples.back(), reply.size());
    return 0;
}
