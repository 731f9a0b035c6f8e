// SPDX-License-Identifier: MIT
#include "sys/job_cgroups.hpp"

#include "sys/clone_into_cgroup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

namespace tend::sys {

namespace {

// With read(2), not a stream: a session's end reads two of these files per job, and a stream's
// open cost more than the kernel's part.
std::string readSmallFile(const std::string& path) {
    std::string text;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return text;
    }
    char buffer[4096];
    ssize_t n = 0;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) {
            text.append(buffer, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    return text;
}

bool writeSmallFile(const std::string& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

std::vector<std::string> subdirectories(const std::string& path) {
    std::vector<std::string> out;
    DIR* dir = ::opendir(path.c_str());
    if (!dir) {
        return out;
    }
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_type == DT_DIR && std::strcmp(entry->d_name, ".") != 0 &&
            std::strcmp(entry->d_name, "..") != 0) {
            out.emplace_back(entry->d_name);
        }
    }
    ::closedir(dir);
    return out;
}

// Removes a subtree's empty cgroups, deepest first; a populated one stays, with its parents.
void removeEmpty(const std::string& path) {
    for (const auto& child : subdirectories(path)) {
        removeEmpty(path + "/" + child);
    }
    ::rmdir(path.c_str());
}

// A tend that crashed left `tend.<pid>` behind; what is empty of it goes.
void removeStaleSubtrees(const std::string& base) {
    for (const auto& name : subdirectories(base)) {
        if (name.rfind("tend.", 0) != 0) {
            continue;
        }
        pid_t pid = 0;
        const char* digits = name.c_str() + 5;
        const auto [end, error] = std::from_chars(digits, name.c_str() + name.size(), pid);
        if (error != std::errc() || *end != '\0' || pid <= 0 ||
            (::kill(pid, 0) == 0 || errno == EPERM)) {
            continue;  // not ours, or its tend still runs
        }
        removeEmpty(base + "/" + name);
    }
}

}  // namespace

std::string cgroup2Mount() {
    std::ifstream in("/proc/self/mountinfo");
    std::string line;
    while (std::getline(in, line)) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [TAGS...] - FSTYPE SOURCE SUPER-OPTIONS
        const auto dash = line.find(" - ");
        if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) {
            continue;
        }
        std::istringstream fields(line.substr(0, dash));
        std::string id, parent, device, root, mount_point;
        fields >> id >> parent >> device >> root >> mount_point;
        if (root == "/") {
            return mount_point;
        }
    }
    return {};
}

std::string cgroup2PathOf(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("0::", 0) == 0) {
            return line.substr(3);
        }
    }
    return {};
}

JobCgroups::JobCgroups() {
    if (const char* setting = std::getenv("TEND_CGROUPS");
        setting && std::strcmp(setting, "off") == 0) {
        reason_ = "TEND_CGROUPS=off";
        return;
    }
    if (!canCloneIntoCgroup()) {
        reason_ = "this build starts processes in a cgroup only on x86-64";
        return;
    }
    const std::string mount = cgroup2Mount();
    if (mount.empty()) {
        reason_ = "no cgroup2 file system is mounted";
        return;
    }
    const std::string own = cgroup2PathOf(::getpid());
    if (own.empty()) {
        reason_ = "tend is in no cgroup2 cgroup";
        return;
    }
    const std::string base = own == "/" ? mount : mount + own;
    // Moving a process between two cgroups needs write access to their common ancestor's
    // cgroup.procs, which is tend's own.
    if (::access((base + "/cgroup.procs").c_str(), W_OK) != 0) {
        reason_ = "tend's cgroup " + own + " is not delegated to it (" + std::strerror(errno) + ")";
        return;
    }
    removeStaleSubtrees(base);
    const std::string root = base + "/tend." + std::to_string(::getpid());
    if (::mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) {
        reason_ = "cannot make " + root + ": " + std::strerror(errno);
        return;
    }
    root_ = root;
}

JobCgroups::~JobCgroups() {
    if (available()) {
        removeEmpty(root_);
    }
}

std::string JobCgroups::describe() const {
    if (available()) {
        return "each job runs in a cgroup of its own under " + root_;
    }
    return "jobs run without cgroups (" + reason_ +
           "): a stop finds a job's processes by process group, session and environment";
}

std::string JobCgroups::key(std::string_view job, std::string_view instance) {
    std::string out;
    const auto append = [&out](std::string_view text) {
        for (const char c : text) {
            const auto u = static_cast<unsigned char>(c);
            if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '+' || c == ':') {
                out += c;
            } else {
                static constexpr char kHex[] = "0123456789abcdef";
                out += "\\x";
                out += kHex[u >> 4];
                out += kHex[u & 15];
            }
        }
    };
    append(job);
    if (!instance.empty()) {
        out += '@';
        append(instance);
    }
    // A cgroup's own files start with "cgroup."; a job named so must not collide with them.
    if (out.rfind("cgroup", 0) == 0 || out.front() == '.') {
        out.insert(0, "_");
    }
    if (out.size() > 200) {
        const auto digest = std::hash<std::string>{}(out);
        out.resize(180);
        out += "~" + std::to_string(digest);
    }
    return out;
}

int JobCgroups::openDirectoryFor(const std::string& key) {
    if (!available()) {
        return -1;
    }
    const std::string path = pathOf(key);
    // mkdir takes the kernel's global cgroup lock even to fail with EEXIST, so a crash loop
    // that asked at every spawn stalled every other cgroup operation on the machine.
    if (!made_.contains(key)) {
        if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
            return -1;
        }
        made_.insert(key);
    }
    return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

std::vector<pid_t> JobCgroups::processes(const std::string& key) const {
    std::vector<pid_t> out;
    if (!available()) {
        return out;
    }
    const std::string text = readSmallFile(pathOf(key) + "/cgroup.procs");
    const char* at = text.data();
    const char* const end = at + text.size();
    while (at < end) {
        pid_t pid = 0;
        const auto [next, error] = std::from_chars(at, end, pid);
        if (error == std::errc()) {
            out.push_back(pid);
        }
        at = next == at ? at + 1 : next;  // one past the newline, or past a stray byte
    }
    return out;
}

bool JobCgroups::populated(const std::string& key) const {
    if (!available()) {
        return false;
    }
    return readSmallFile(pathOf(key) + "/cgroup.events").find("populated 1") != std::string::npos;
}

bool JobCgroups::killAll(const std::string& key) const {
    return available() && writeSmallFile(pathOf(key) + "/cgroup.kill", "1");
}

void JobCgroups::release(const std::string& key) {
    if (available() && ::rmdir(pathOf(key).c_str()) == 0) {
        made_.erase(key);
    }
}

}  // namespace tend::sys
