// SPDX-License-Identifier: MIT
// `tendctl log`: reads the job's log file itself, as bytes or (--json) as one object a line.
// The file holds stdout and stderr as one stream, so no line says which it came from.
#include "tendctl_log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

namespace tend::ctl {

namespace {

// The prefix `log timestamp` puts before each line (core/src/log/file_log_router.cpp): the
// local time, `2026-11-25 09:14:06.523 `. `d` stands for a digit.
constexpr std::string_view kStampShape = "dddd-dd-dd dd:dd:dd.ddd ";

bool stamped(std::string_view line) {
    if (line.size() < kStampShape.size()) {
        return false;
    }
    for (std::size_t i = 0; i < kStampShape.size(); ++i) {
        const bool ok = kStampShape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(line[i]))
                                              : line[i] == kStampShape[i];
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Where the last `lines` lines of `text` start (a last line without its newline counts).
std::size_t startOfLastLines(std::string_view text, long lines) {
    if (lines < 0) {
        return 0;
    }
    if (lines == 0) {
        return text.size();
    }
    long seen = 0;
    std::size_t pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n') {
        --pos;
    }
    while (pos > 0) {
        if (text[pos - 1] == '\n' && ++seen == lines) {
            break;
        }
        --pos;
    }
    return pos;
}

// Writes what the log holds to stdout: the bytes as they are, or with --json one object for
// each line, which waits for its newline (a job may be half-way through writing it).
class LogPrinter {
  public:
    explicit LogPrinter(const LogView& view) : view_(view) {}

    void write(std::string_view data) {
        if (!view_.json) {
            std::fwrite(data.data(), 1, data.size(), stdout);
            return;
        }
        partial_.append(data);
        std::size_t start = 0;
        for (auto end = partial_.find('\n'); end != std::string::npos;
             end = partial_.find('\n', start)) {
            printLine(std::string_view(partial_).substr(start, end - start));
            start = end + 1;
        }
        partial_.erase(0, start);
    }

    // The end of a file (printed whole, rotated away or truncated): a last line without its
    // newline is a line too.
    void endOfFile() {
        if (!partial_.empty()) {
            printLine(partial_);
            partial_.clear();
        }
    }

    void flush() { std::fflush(stdout); }

  private:
    void printLine(std::string_view line) {
        nlohmann::json out{{"job", view_.job}, {"instance", view_.instance}};
        if (stamped(line)) {
            out["time"] = std::string(line.substr(0, kStampShape.size() - 1));
            line.remove_prefix(kStampShape.size());
        }
        out["text"] = std::string(line);
        // A job may write anything: bytes that are not UTF-8 come out as U+FFFD.
        const std::string text =
            out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
        std::fwrite(text.data(), 1, text.size(), stdout);
    }

    const LogView& view_;
    std::string partial_;
};

// Reads `fd` from `offset` to its end into `printer`; returns the new offset.
off_t copyFrom(int fd, off_t offset, LogPrinter& printer) {
    char chunk[65536];
    ssize_t n = 0;
    while ((n = ::pread(fd, chunk, sizeof chunk, offset)) > 0) {
        printer.write(std::string_view(chunk, static_cast<std::size_t>(n)));
        offset += n;
    }
    return offset;
}

}  // namespace

std::string showLog(const LogView& view) {
    int fd = ::open(view.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && !view.follow) {
        return "no log at " + view.path + ": " + std::strerror(errno);
    }
    LogPrinter printer(view);
    std::string text;
    if (fd >= 0) {
        char chunk[65536];
        ssize_t n = 0;
        while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
            text.append(chunk, static_cast<std::size_t>(n));
        }
    }
    printer.write(std::string_view(text).substr(startOfLastLines(text, view.lines)));
    if (!view.follow) {
        printer.endOfFile();
        printer.flush();
        if (fd >= 0) {
            ::close(fd);
        }
        return {};
    }
    printer.flush();
    struct stat seen {};
    if (fd >= 0) {
        ::fstat(fd, &seen);
    }
    off_t offset = static_cast<off_t>(text.size());
    for (;;) {
        ::poll(nullptr, 0, 200);
        struct stat now {};
        if (::stat(view.path.c_str(), &now) != 0) {
            continue;  // rotated away; a new file comes when the job writes again
        }
        const bool replaced = now.st_ino != seen.st_ino || now.st_dev != seen.st_dev;
        if (fd < 0 || replaced || now.st_size < offset) {
            if (fd >= 0 && replaced) {
                // Rotated: what was written to the old file before the switch comes first.
                offset = copyFrom(fd, offset, printer);
            }
            printer.endOfFile();
            if (fd >= 0) {
                ::close(fd);
            }
            fd = ::open(view.path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                continue;
            }
            ::fstat(fd, &seen);
            offset = 0;
        }
        offset = copyFrom(fd, offset, printer);
        printer.flush();
    }
}

}  // namespace tend::ctl
