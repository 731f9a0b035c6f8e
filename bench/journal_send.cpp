// SPDX-License-Identifier: MIT
// The floor of journal-logger's throughput: N entries of one 100-byte line each, sent from one
// thread with sd_journal_sendv(), one call per line, with the fields journal-logger gives a line
// (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, TEND_JOB, OBJECT_PID). This is journald's native
// protocol, a datagram per entry, as the plugin sends; systemd-cat uses the stream protocol.
//
//   journal_send IDENTIFIER N
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: journal_send IDENTIFIER N\n");
        return 2;
    }
    const int n = std::atoi(argv[2]);
    const std::vector<std::string> fields{"MESSAGE=" + std::string(99, 'x'), "PRIORITY=6",
                                          std::string("SYSLOG_IDENTIFIER=") + argv[1],
                                          std::string("TEND_JOB=") + argv[1],
                                          "OBJECT_PID=" + std::to_string(::getpid())};
    std::vector<iovec> iov(fields.size());
    for (std::size_t i = 0; i < fields.size(); ++i) {
        iov[i].iov_base = const_cast<char*>(fields[i].data());
        iov[i].iov_len = fields[i].size();
    }
    for (int i = 0; i < n; ++i) {
        if (const int r = sd_journal_sendv(iov.data(), static_cast<int>(iov.size())); r < 0) {
            std::fprintf(stderr, "journal_send: %s\n", std::strerror(-r));
            return 1;
        }
    }
    return 0;
}
