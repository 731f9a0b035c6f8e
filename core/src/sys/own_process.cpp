// SPDX-License-Identifier: MIT
#include "sys/own_process.hpp"

#include <dirent.h>

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

}  // namespace tend::sys
