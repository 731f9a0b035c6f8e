// SPDX-License-Identifier: MIT
// The control round trip of `emit --no-wait` over one open connection, not counting process
// start-up: request written, reply read, repeated N times against a running tend.
//
//   control_roundtrip SOCKET N
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
    if (argc != 3) {
        std::fprintf(stderr, "usage: control_roundtrip SOCKET N\n");
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
    const std::string request =
        R"({"protocol":1,"command":"emit","args":["bench-event","N=1"],"wait":false})"
        "\n";
    std::vector<double> samples;
    char buffer[4096];
    for (int i = 0; i < n; ++i) {
        const long long t0 = nowNs();
        if (write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
            return 1;
        }
        std::size_t got = 0;
        while (got == 0 || buffer[got - 1] != '\n') {
            const ssize_t r = read(fd, buffer + got, sizeof buffer - got);
            if (r <= 0) {
                std::fprintf(stderr, "control_roundtrip: connection closed\n");
                return 1;
            }
            got += static_cast<std::size_t>(r);
        }
        if (std::strstr(buffer, "\"ok\":true") == nullptr) {
            std::fprintf(stderr, "control_roundtrip: error reply: %.*s", static_cast<int>(got),
                         buffer);
            return 1;
        }
        samples.push_back(static_cast<double>(nowNs() - t0) / 1e6);
    }
    std::sort(samples.begin(), samples.end());
    std::printf("emit --no-wait round trip: n=%zu median=%.3f ms min=%.3f ms max=%.3f ms\n",
                samples.size(), samples[samples.size() / 2], samples.front(), samples.back());
    return 0;
}
