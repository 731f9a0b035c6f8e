// SPDX-License-Identifier: MIT
#include "log/file_log_router.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace tend::log {

namespace {
constexpr std::size_t kReadChunk = 1 << 20;
constexpr std::size_t kMaxPartialLine = 64 * 1024;
}  // namespace

struct FileLogRouter::Stream {
    int read_fd = -1;
    std::string path;
    std::string job;
    std::string instance;
    bool timestamps = false;
    int file_fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    std::string partial;
    bool failing = false;
    std::uint64_t size = 0;  // of the open file, as far as this stream knows
};

struct FileLogRouter::Rotation {
    std::string path;
    RenameStep rename;
    RotationDone done;
};

struct FileLogRouter::Growth {
    std::uint64_t step = 0;
    GrowthTap tap;
};

FileLogRouter::FileLogRouter(std::filesystem::path dir, std::shared_ptr<spdlog::logger> logger)
    : dir_(std::move(dir)), logger_(logger ? std::move(logger) : spdlog::default_logger()) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] { run(); });
}

FileLogRouter::~FileLogRouter() {
    stopping_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    for (auto& stream : streams_) {
        ::close(stream->read_fd);
        if (stream->file_fd >= 0) {
            ::close(stream->file_fd);
        }
    }
    for (auto& stream : incoming_) {
        ::close(stream->read_fd);
    }
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void FileLogRouter::setTap(OutputTap tap) {
    std::lock_guard lock(mutex_);
    tap_ = tap ? std::make_shared<const OutputTap>(std::move(tap)) : nullptr;
}

void FileLogRouter::setGrowthTap(std::uint64_t step, GrowthTap tap) {
    std::lock_guard lock(mutex_);
    growth_ =
        tap && step > 0 ? std::make_shared<const Growth>(Growth{step, std::move(tap)}) : nullptr;
}

void FileLogRouter::rotate(std::string path, RenameStep rename, RotationDone done) {
    {
        std::lock_guard lock(mutex_);
        rotations_.push_back(Rotation{std::move(path), std::move(rename), std::move(done)});
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

int FileLogRouter::openOutput(const OutputSpec& spec, std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        error = "cannot create " + dir_.string() + ": " + ec.message();
        return -1;
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0) {
        error = std::string("pipe: ") + std::strerror(errno);
        return -1;
    }
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    // A bigger pipe lets a fast writer run ahead while the file catches up.
    ::fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
    auto stream = std::make_unique<Stream>();
    stream->read_fd = fds[0];
    stream->path = (dir_ / spec.file_name).string();
    stream->job = spec.job;
    stream->instance = spec.instance;
    stream->timestamps = spec.timestamps;
    {
        std::lock_guard lock(mutex_);
        incoming_.push_back(std::move(stream));
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    return fds[1];
}

void FileLogRouter::run() {
    std::vector<epoll_event> events(64);
    for (;;) {
        const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
        if (n < 0 && errno != EINTR) {
            logger_->error("job log capture stopped: epoll_wait: {}", std::strerror(errno));
            return;
        }
        for (int i = 0; i < n; ++i) {
            auto* stream = static_cast<Stream*>(events[static_cast<std::size_t>(i)].data.ptr);
            if (!stream) {
                takeRequests();
                continue;
            }
            drain(*stream, false);
        }
        std::erase_if(streams_, [](const std::unique_ptr<Stream>& s) { return s->read_fd < 0; });
        if (stopping_) {
            for (auto& stream : streams_) {
                drain(*stream, true);
            }
            return;
        }
    }
}

void FileLogRouter::takeRequests() {
    std::uint64_t count = 0;
    [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
    std::vector<Rotation> rotations;
    {
        std::lock_guard lock(mutex_);
        for (auto& incoming : incoming_) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = incoming.get();
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, incoming->read_fd, &ev);
            streams_.push_back(std::move(incoming));
        }
        incoming_.clear();
        rotations.swap(rotations_);
    }
    // Between two writes: every line before this point is in the renamed file, every line after
    // it goes to a new one. A partial line waits in its stream, so none is torn.
    for (auto& rotation : rotations) {
        std::string error;
        try {
            error = rotation.rename ? rotation.rename(rotation.path) : std::string();
        } catch (const std::exception& e) {
            error = e.what();
        } catch (...) {
            error = "the rename failed";
        }
        for (auto& stream : streams_) {
            if (stream->path == rotation.path && stream->file_fd >= 0) {
                ::close(stream->file_fd);
                stream->file_fd = -1;
                stream->size = 0;
            }
        }
        if (rotation.done) {
            rotation.done(std::move(error));
        }
    }
}

void FileLogRouter::drain(Stream& stream, bool final) {
    if (stream.read_fd < 0) {
        return;
    }
    std::shared_ptr<const OutputTap> tap;
    std::shared_ptr<const Growth> growth;
    {
        std::lock_guard lock(mutex_);
        tap = tap_;
        growth = growth_;
    }
    CapturedLines tapped;
    CapturedLines* lines = nullptr;
    if (tap) {
        tapped.job = stream.job;
        tapped.instance = stream.instance;
        tapped.time = std::chrono::system_clock::now();
        lines = &tapped;
    }
    // The lines go to the tap once per drain, whichever way it ends.
    struct Flush {
        const std::shared_ptr<const OutputTap>& tap;
        CapturedLines& lines;
        ~Flush() {
            if (tap && !lines.lines.empty()) {
                (*tap)(std::move(lines));
            }
        }
    } flush{tap, tapped};
    // One buffer for every read, allocated once: a fresh 1 MiB per wake-up (zeroed by resize)
    // cost more than the copying itself for a job writing as fast as it can.
    if (!read_buffer_) {
        read_buffer_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
    }
    char* const buffer = read_buffer_.get();
    std::size_t total = 0;
    for (;;) {
        const ssize_t n = ::read(stream.read_fd, buffer, kReadChunk);
        if (n > 0) {
            const std::uint64_t size_before = stream.size;
            writeOut(stream, buffer, static_cast<std::size_t>(n), lines);
            // Told per read, not per drain (up to 8 MiB), so that a size limit is kept closely.
            if (growth && stream.size > size_before &&
                stream.size / growth->step != size_before / growth->step) {
                growth->tap(LogGrowth{stream.path, stream.job, stream.instance, stream.size});
            }
            total += static_cast<std::size_t>(n);
            if (total >= 8 * kReadChunk && !final) {
                return;  // let other streams have a turn
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && !final) {
            return;
        }
        // End of stream: every writer is gone.
        if (!stream.partial.empty()) {
            std::string rest = std::move(stream.partial);
            stream.partial.clear();
            rest.push_back('\n');
            writeOut(stream, rest.data(), rest.size(), lines);
            stream.partial.clear();
        }
        if (n == 0 || !final) {
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stream.read_fd, nullptr);
            ::close(stream.read_fd);
            stream.read_fd = -1;
            if (stream.file_fd >= 0) {
                ::close(stream.file_fd);
                stream.file_fd = -1;
            }
        }
        return;
    }
}

bool FileLogRouter::ensureFile(Stream& stream) {
    if (stream.file_fd >= 0) {
        struct stat st {};
        if (::stat(stream.path.c_str(), &st) == 0 && st.st_dev == stream.dev &&
            st.st_ino == stream.ino) {
            return true;
        }
        ::close(stream.file_fd);  // unlinked or rotated: start a new file at the path
        stream.file_fd = -1;
    }
    stream.file_fd =
        ::open(stream.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    if (stream.file_fd < 0) {
        if (!stream.failing) {
            stream.failing = true;
            logger_->error(
                "cannot open job log {}: {}; the job keeps running and its output is "
                "discarded until the log can be written",
                stream.path, std::strerror(errno));
        }
        return false;
    }
    struct stat st {};
    ::fstat(stream.file_fd, &st);
    stream.dev = st.st_dev;
    stream.ino = st.st_ino;
    stream.size = static_cast<std::uint64_t>(st.st_size);
    return true;
}

void FileLogRouter::writeOut(Stream& stream, const char* data, std::size_t size,
                             CapturedLines* tapped) {
    // Complete lines go out; the tail waits for its newline.
    std::string_view input(data, size);
    std::string joined;
    if (!stream.partial.empty()) {
        joined = std::move(stream.partial);
        stream.partial.clear();
        joined.append(input);
        input = joined;
    }
    std::size_t complete = input.rfind('\n');
    complete = complete == std::string_view::npos ? 0 : complete + 1;
    if (input.size() - complete > kMaxPartialLine) {
        complete = input.size();  // an endless line is written in pieces rather than held
    }
    stream.partial.assign(input.substr(complete));
    std::string_view out = input.substr(0, complete);
    if (out.empty()) {
        return;
    }
    if (tapped) {
        // Before the timestamps, and whether or not the file can be written: a sink (the
        // journal, say) still has the lines when the disk is full.
        std::size_t start = 0;
        while (start < out.size()) {
            std::size_t end = out.find('\n', start);
            end = end == std::string_view::npos ? out.size() : end;
            tapped->lines.emplace_back(out.substr(start, end - start));
            start = end + 1;
        }
    }
    std::string stamped;
    if (stream.timestamps) {
        timespec ts{};
        ::clock_gettime(CLOCK_REALTIME, &ts);
        tm local{};
        ::localtime_r(&ts.tv_sec, &local);
        char prefix[40];
        const std::size_t len = std::strftime(prefix, sizeof prefix, "%Y-%m-%d %H:%M:%S", &local);
        std::snprintf(prefix + len, sizeof prefix - len, ".%03ld ", ts.tv_nsec / 1000000);
        const std::string_view stamp(prefix);
        std::size_t start = 0;
        while (start < out.size()) {
            std::size_t end = out.find('\n', start);
            end = end == std::string_view::npos ? out.size() : end + 1;
            stamped.append(stamp);
            stamped.append(out.substr(start, end - start));
            start = end;
        }
        out = stamped;
    }
    if (!ensureFile(stream)) {
        return;
    }
    while (!out.empty()) {
        const ssize_t n = ::write(stream.file_fd, out.data(), out.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (!stream.failing) {
                stream.failing = true;
                logger_->error(
                    "cannot write job log {}: {}; the job keeps running and its output "
                    "is discarded until the log can be written",
                    stream.path, n < 0 ? std::strerror(errno) : "short write");
            }
            return;
        }
        out.remove_prefix(static_cast<std::size_t>(n));
        stream.size += static_cast<std::uint64_t>(n);
    }
    if (stream.failing) {
        stream.failing = false;
        logger_->info("job log {} is writable again", stream.path);
    }
}

}  // namespace tend::log
