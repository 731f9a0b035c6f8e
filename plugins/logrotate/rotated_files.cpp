// SPDX-License-Identifier: MIT
#include "rotated_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace tend::logrotate {

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

std::string failure(const char* what, const std::string& path, int error) {
    return std::string(what) + " " + path + ": " + std::strerror(error);
}

// `name` is `<something>.log.<digits>`.
bool isPlainRotation(const std::string& name) {
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || dot + 1 == name.size()) {
        return false;
    }
    if (!std::all_of(name.begin() + static_cast<long>(dot) + 1, name.end(),
                     [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
    }
    return name.substr(0, dot).ends_with(".log");
}

std::vector<std::string> namesIn(const std::string& dir) {
    std::vector<std::string> names;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* entry = ::readdir(d)) {
            names.emplace_back(entry->d_name);
        }
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::string rotatedName(const std::string& path, int n, bool compressed) {
    return path + "." + std::to_string(n) + (compressed ? ".gz" : "");
}

std::string shiftRotated(const std::string& path, int keep) {
    for (const bool gz : {false, true}) {
        // What would pass `keep` once everything moves up one goes first.
        for (int n = std::max(keep, 1);; ++n) {
            const std::string old = rotatedName(path, n, gz);
            if (!exists(old)) {
                break;
            }
            if (::unlink(old.c_str()) != 0 && errno != ENOENT) {
                return failure("cannot remove", old, errno);
            }
        }
        for (int n = keep - 1; n >= 1; --n) {
            const std::string from = rotatedName(path, n, gz);
            if (exists(from) && ::rename(from.c_str(), rotatedName(path, n + 1, gz).c_str()) != 0) {
                return failure("cannot rename", from, errno);
            }
        }
    }
    return {};
}

std::string asideName(const std::string& path) {
    static std::atomic<unsigned> sequence{0};
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, ".rotating-%012lld.%09ld-%06u",
                  static_cast<long long>(now.tv_sec), now.tv_nsec, sequence++ % 1000000);
    return path + stamp;
}

std::string renameAside(const std::string& path, const std::string& aside, bool& renamed) {
    renamed = false;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) {
        return {};
    }
    if (::rename(path.c_str(), aside.c_str()) != 0) {
        return failure("cannot rename", path, errno);
    }
    renamed = true;
    return {};
}

std::string placeRotation(const std::string& path, const std::string& aside, int keep,
                          bool compress) {
    if (!exists(aside)) {
        return {};  // placed already, by a repair that ran first
    }
    if (keep == 0) {
        if (::unlink(aside.c_str()) != 0 && errno != ENOENT) {
            return failure("cannot remove", aside, errno);
        }
        return {};
    }
    if (std::string error = shiftRotated(path, keep); !error.empty()) {
        return error;
    }
    const std::string first = rotatedName(path, 1, false);
    if (::rename(aside.c_str(), first.c_str()) != 0) {
        return failure("cannot rename", aside, errno);
    }
    return compress ? compressFile(first) : std::string();
}

std::string compressFile(const std::string& source) {
    const std::string target = source + ".gz";
    const std::string partial = target + ".partial";
    const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return failure("cannot read", source, errno);
    }
    const int out = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        const int error = errno;
        ::close(in);
        return failure("cannot create", partial, error);
    }
    gzFile gz = ::gzdopen(out, "wb6");
    if (!gz) {
        ::close(out);
        ::close(in);
        ::unlink(partial.c_str());
        return "cannot compress " + source + ": out of memory";
    }
    ::gzbuffer(gz, 256 * 1024);
    constexpr std::size_t kChunk = 1 << 20;
    const auto buffer = std::make_unique_for_overwrite<char[]>(kChunk);
    std::string error;
    for (;;) {
        const ssize_t n = ::read(in, buffer.get(), kChunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            error = failure("cannot read", source, errno);
            break;
        }
        if (n == 0) {
            break;
        }
        errno = 0;
        if (::gzwrite(gz, buffer.get(), static_cast<unsigned>(n)) != n) {
            int zerr = 0;
            const char* text = ::gzerror(gz, &zerr);
            error = zerr == Z_ERRNO ? failure("cannot write", partial, errno)
                                    : "cannot compress " + source + ": " + text;
            break;
        }
    }
    ::close(in);
    // gzclose flushes the tail: on a full disk it is often where the write fails.
    errno = 0;
    const int flushed = ::gzflush(gz, Z_FINISH);
    if (error.empty() && flushed != Z_OK) {
        error = failure("cannot write", partial, errno ? errno : ENOSPC);
    }
    if (error.empty() && ::fsync(out) != 0) {
        error = failure("cannot sync", partial, errno);
    }
    if (::gzclose(gz) != Z_OK && error.empty()) {
        error = failure("cannot write", partial, errno ? errno : ENOSPC);
    }
    if (error.empty() && ::rename(partial.c_str(), target.c_str()) != 0) {
        error = failure("cannot rename", partial, errno);
    }
    if (!error.empty()) {
        ::unlink(partial.c_str());
        return error;
    }
    ::unlink(source.c_str());
    return {};
}

std::vector<std::string> uncompressedRotations(const std::string& dir) {
    std::vector<std::string> found;
    for (const auto& name : namesIn(dir)) {
        if (isPlainRotation(name)) {
            found.push_back(dir + "/" + name);
        }
    }
    return found;
}

std::vector<std::string> asideRotations(const std::string& dir) {
    std::vector<std::string> found;
    for (const auto& name : namesIn(dir)) {
        if (name.find(".log.rotating-") != std::string::npos && !name.ends_with(".partial")) {
            found.push_back(dir + "/" + name);
        }
    }
    return found;
}

std::vector<std::string> liveLogs(const std::string& dir) {
    std::vector<std::string> found;
    for (const auto& name : namesIn(dir)) {
        if (name.size() > 4 && name.ends_with(".log")) {
            found.push_back(dir + "/" + name);
        }
    }
    return found;
}

}  // namespace tend::logrotate
