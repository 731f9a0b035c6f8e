// SPDX-License-Identifier: MIT
#include "conf/resources.hpp"

#include <sys/resource.h>

#include <utility>

namespace tend::conf {

namespace {

constexpr std::pair<std::string_view, int> kResources[] = {
    {"as", RLIMIT_AS},
    {"core", RLIMIT_CORE},
    {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},
    {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE},
    {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},
    {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

}  // namespace

std::optional<int> resourceByName(std::string_view name) {
    for (const auto& [text, resource] : kResources) {
        if (text == name) {
            return resource;
        }
    }
    return std::nullopt;
}

std::string_view resourceName(int resource) {
    for (const auto& [text, number] : kResources) {
        if (number == resource) {
            return text;
        }
    }
    return "?";
}

std::string resourceNameList() {
    std::string out;
    for (const auto& [text, resource] : kResources) {
        if (!out.empty()) {
            out += ", ";
        }
        out += text;
    }
    return out;
}

}  // namespace tend::conf
