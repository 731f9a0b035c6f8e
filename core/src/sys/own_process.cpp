// SPDX-License-Identifier: MIT
#include "sys/own_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace tend::sys {

std::vector<pid_t> ownChildren() {
    std::vector<pid_t> out;
    DIR* tasks = ::opendir("/proc/self/task");
    if (!tasks) {
        return out;
    }
    while (const dirent* entry = ::readdir(tasks)) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        std::ifstream in(std::string("/proc/self/task/") + entry->d_name + "/children");
        pid_t pid = 0;
        while (in >> pid) {
            out.push_back(pid);
        }
    }
    ::closedir(tasks);
    return out;
}

std::vector<int> openDescriptors() {
    std::vector<int> out;
    DIR* fds = ::opendir("/proc/self/fd");
    if (!fds) {
        return out;
    }
    const int own = ::dirfd(fds);
    while (const dirent* entry = ::readdir(fds)) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        const int fd = std::atoi(entry->d_name);
        if (fd != own) {
            out.push_back(fd);
        }
    }
    ::closedir(fds);
    return out;
}

void growDescriptorTable(int count) {
    rlimit files{};
    if (count <= 0 || ::getrlimit(RLIMIT_NOFILE, &files) != 0) {
        return;
    }
    if (files.rlim_cur != RLIM_INFINITY) {
        count = static_cast<int>(std::min<rlim_t>(static_cast<rlim_t>(count), files.rlim_cur));
    }
    // Occupying the highest entry sizes the table for it; fcntl finds a free one at or above it.
    const int any = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (any < 0) {
        return;
    }
    const int highest = ::fcntl(any, F_DUPFD_CLOEXEC, count - 1);
    if (highest >= 0) {
        ::close(highest);
    }
    ::close(any);
}

}  // namespace tend::sys
