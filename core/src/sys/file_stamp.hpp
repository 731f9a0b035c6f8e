// SPDX-License-Identifier: MIT
// What identifies one version of a file without reading it: the job-file store and the plugin
// directories compare stamps to tell a changed file from an untouched one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>

namespace tend::sys {

struct FileStamp {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp stampOf(const std::filesystem::path& path);  // follows symlinks

}  // namespace tend::sys
