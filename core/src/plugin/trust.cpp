// SPDX-License-Identifier: MIT
#include "plugin/trust.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace tend::plugin {

std::string untrusted(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::string("cannot stat ") + path.string() + ": " + std::strerror(errno);
    }
    if (st.st_uid != ::geteuid() && st.st_uid != 0) {
        return path.string() + " is owned by uid " + std::to_string(st.st_uid) +
               ", neither you (uid " + std::to_string(::geteuid()) + ") nor root";
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return path.string() + " is group- or world-writable (mode " + mode +
               "); plugins load only from files and directories nobody else can change";
    }
    return {};
}

}  // namespace tend::plugin
