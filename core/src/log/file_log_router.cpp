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

// One job log, shared by the pipes of an instance.
struct FileLogRouter::LogFile {
    std::string path;
    int fd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
    bool failing = false;
    std::uint64_t size = 0;  // of the open file, as far as the router knows
    // Who wrote the file's last line without its newline yet (a piece of a long line), if
    // anyone: another writer ends that line first.
    const void* open_line = nullptr;

    explicit LogFile(std::string p) : path(std::move(p)) {}
    ~LogFile() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    LogFile(const LogFile&) = delete;
    LogFile& operator=(const LogFile&) = delete;
};

struct FileLogRouter::Pipe {
    int read_fd = -1;
    StreamKind stream = StreamKind::Stdout;
    std::string job;
    std::string instance;
    bool timestamps = false;
    bool carried = false;
    bool carried_by_default = false;
    std::string partial;
    bool mid_line = false;  // the last piece passed on has no newline yet
    std::shared_ptr<LogFile> file;
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
    if (thread_.joinable()) {
        thread_.join();
    }
    for (auto& pipe : pipes_) {
        ::close(pipe->read_fd);
    }
    for (auto& pipe : incoming_) {
        ::close(pipe->read_fd);
    }
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void FileLogRouter::setTap(OutputTap tap) {
    std::lock_guard lock(mutex_);
    tap_ = tap ? std::make_shared<const OutputTap>(std::move(tap)) : nullptr;
}

void FileLogRouter::setCarrier(bool present, bool by_default) {
    carrier_ = present;
    carrier_by_default_ = present && by_default;
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

void FileLogRouter::appendLines(std::string path, std::vector<std::string> lines) {
    if (lines.empty()) {
        return;
    }
    {
        std::lock_guard lock(mutex_);
        appends_.push_back(Append{std::move(path), std::move(lines)});
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

int FileLogRouter::openLogFile(const OutputSpec& spec, std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    const std::string path = (dir_ / spec.file_name).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        error = "cannot open " + path + ": " + std::strerror(errno);
    }
    return fd;
}

OutputPipes FileLogRouter::openOutput(const OutputSpec& spec, std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        error = "cannot create " + dir_.string() + ": " + ec.message();
        return {};
    }
    int out[2];
    int err[2];
    const auto failed = [&error] {
        const int code = errno;
        error = std::string("pipe: ") + std::strerror(code);
        OutputPipes none;
        none.out_of_descriptors = code == EMFILE || code == ENFILE;
        return none;
    };
    if (::pipe2(out, O_CLOEXEC) < 0) {
        return failed();
    }
    if (::pipe2(err, O_CLOEXEC) < 0) {
        const OutputPipes none = failed();
        ::close(out[0]);
        ::close(out[1]);
        return none;
    }
    // A bigger stdout pipe lets a fast writer run ahead while the file catches up.
    ::fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
    addPipes(spec, out[0], err[0]);
    return {out[1], err[1]};
}

void FileLogRouter::adoptOutput(const OutputSpec& spec, int out_read, int err_read) {
    addPipes(spec, out_read, err_read);
}

void FileLogRouter::addPipes(const OutputSpec& spec, int out_read, int err_read) {
    auto file = std::make_shared<LogFile>((dir_ / spec.file_name).string());
    std::vector<std::unique_ptr<Pipe>> pipes;
    for (const StreamKind kind : {StreamKind::Stdout, StreamKind::Stderr}) {
        const int fd = kind == StreamKind::Stdout ? out_read : err_read;
        if (fd < 0) {
            continue;
        }
        auto& pipe = pipes.emplace_back(std::make_unique<Pipe>());
        pipe->read_fd = fd;
        ::fcntl(pipe->read_fd, F_SETFL, O_NONBLOCK);
        pipe->stream = kind;
        pipe->job = spec.job;
        pipe->instance = spec.instance;
        pipe->timestamps = spec.timestamps;
        pipe->carried = spec.carried;
        pipe->carried_by_default = spec.carried_by_default;
        pipe->file = file;
    }
    {
        std::lock_guard lock(mutex_);
        for (auto& pipe : pipes) {
            incoming_.push_back(std::move(pipe));
        }
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

std::vector<FileLogRouter::HandedPipe> FileLogRouter::pause() {
    pausing_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    std::vector<HandedPipe> out;
    for (const auto& pipe : pipes_) {
        out.push_back(HandedPipe{pipe->job, pipe->instance, pipe->stream, pipe->read_fd});
    }
    return out;
}

void FileLogRouter::resume() {
    pausing_ = false;
    thread_ = std::thread([this] { run(); });
}

// What the pipes hold goes to the files now; a line still without its newline goes too, as
// the piece of a long line would, and the next tend's router writes the rest after it.
void FileLogRouter::flushForHandOver() {
    takeRequests();
    for (auto& pipe : pipes_) {
        drain(*pipe, false);
        if (pipe->read_fd >= 0 && !pipe->partial.empty()) {
            const std::string rest = std::move(pipe->partial);
            pipe->partial.clear();
            writeFile(*pipe->file, pipe.get(), rest, pipe->timestamps);
        }
    }
    std::erase_if(pipes_, [](const std::unique_ptr<Pipe>& p) { return p->read_fd < 0; });
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
            auto* pipe = static_cast<Pipe*>(events[static_cast<std::size_t>(i)].data.ptr);
            // An exception here (an allocation that failed) would end tend: it costs this one
            // turn instead. What was read is written already; the rest waits in the pipe, which
            // stays in the epoll set and is read at the next turn.
            try {
                if (!pipe) {
                    takeRequests();
                } else {
                    drain(*pipe, false);
                }
            } catch (const std::exception& e) {
                try {
                    logger_->error("job log capture: {}; reading on", e.what());
                } catch (...) {
                }
            }
        }
        std::erase_if(pipes_, [](const std::unique_ptr<Pipe>& p) { return p->read_fd < 0; });
        if (pausing_) {
            flushForHandOver();
            return;
        }
        if (stopping_) {
            takeRequests();
            for (auto& pipe : pipes_) {
                drain(*pipe, true);
            }
            return;
        }
    }
}

void FileLogRouter::takeRequests() {
    std::uint64_t count = 0;
    [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof count);
    std::vector<Rotation> rotations;
    std::vector<Append> appends;
    {
        std::lock_guard lock(mutex_);
        for (auto& incoming : incoming_) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = incoming.get();
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, incoming->read_fd, &ev);
            pipes_.push_back(std::move(incoming));
        }
        incoming_.clear();
        rotations.swap(rotations_);
        appends.swap(appends_);
    }
    // Between two writes: every line before this point is in the renamed file, every line after
    // it goes to a new one. A partial line waits in its pipe, so none is torn.
    for (auto& rotation : rotations) {
        std::string error;
        try {
            error = rotation.rename ? rotation.rename(rotation.path) : std::string();
        } catch (const std::exception& e) {
            error = e.what();
        } catch (...) {
            error = "the rename failed";
        }
        for (auto& pipe : pipes_) {
            LogFile& file = *pipe->file;
            if (file.path == rotation.path && file.fd >= 0) {
                ::close(file.fd);
                file.fd = -1;
                file.size = 0;
            }
        }
        if (rotation.done) {
            rotation.done(std::move(error));
        }
    }
    for (auto& append : appends) {
        std::shared_ptr<LogFile> file;
        bool timestamps = false;
        for (auto& pipe : pipes_) {
            if (pipe->file->path == append.path) {
                file = pipe->file;
                timestamps = pipe->timestamps;
                break;
            }
        }
        if (!file) {
            file = std::make_shared<LogFile>(append.path);  // the job is gone: open, write, close
        }
        std::string text;
        for (const auto& line : append.lines) {
            text.append(line);
            text.push_back('\n');
        }
        writeFile(*file, this, text, timestamps);
    }
}

namespace {

// Takes what `input` completes: whole lines, or a piece of an overlong one. The rest waits in
// `partial`; `joined` holds the bytes the result points into when partial had some.
std::string_view completeLines(std::string& partial, std::string_view input, std::string& joined) {
    if (!partial.empty()) {
        joined = std::move(partial);
        partial.clear();
        joined.append(input);
        input = joined;
    }
    std::size_t complete = input.rfind('\n');
    complete = complete == std::string_view::npos ? 0 : complete + 1;
    if (input.size() - complete > kMaxPartialLine) {
        complete = input.size();  // an endless line goes on in pieces rather than being held
    }
    partial.assign(input.substr(complete));
    return input.substr(0, complete);
}

void addLines(CapturedLines& batch, std::string_view out) {
    std::size_t start = 0;
    while (start < out.size()) {
        std::size_t end = out.find('\n', start);
        const bool piece = end == std::string_view::npos;
        end = piece ? out.size() : end;
        batch.lines.emplace_back(out.substr(start, end - start));
        if (piece) {
            batch.continues.resize(batch.lines.size());
            batch.continues.back() = true;
        }
        start = end + 1;
    }
}

}  // namespace

void FileLogRouter::drain(Pipe& pipe, bool final) {
    if (pipe.read_fd < 0) {
        return;
    }
    std::shared_ptr<const OutputTap> tap;
    std::shared_ptr<const Growth> growth;
    {
        std::lock_guard lock(mutex_);
        tap = tap_;
        growth = growth_;
    }
    const bool carried =
        tap && carrier_ && (pipe.carried || (pipe.carried_by_default && carrier_by_default_));
    CapturedLines tapped;
    if (tap) {
        tapped.job = pipe.job;
        tapped.instance = pipe.instance;
        tapped.time = std::chrono::system_clock::now();
        tapped.stream = pipe.stream;
        tapped.in_log_file = !carried;
    }
    std::string held;  // carried output, for the file if the tap does not take it
    // The lines go to the tap once per drain, whichever way it ends.
    struct Flush {
        FileLogRouter& router;
        Pipe& pipe;
        const std::shared_ptr<const OutputTap>& tap;
        CapturedLines& lines;
        std::string& held;
        ~Flush() {
            if (!tap || lines.lines.empty()) {
                return;
            }
            const bool carried = !lines.in_log_file;
            if (!(*tap)(std::move(lines)) && carried) {
                router.writeFile(*pipe.file, &pipe, held, pipe.timestamps);
            }
        }
    } flush{*this, pipe, tap, tapped, held};
    const auto take = [&](std::string_view input) {
        std::string joined;
        const std::string_view out = completeLines(pipe.partial, input, joined);
        if (out.empty()) {
            return;
        }
        pipe.mid_line = out.back() != '\n';
        // Before the timestamps, and whether or not the file can be written: a sink (the
        // journal, say) still has the lines when the disk is full.
        if (tap) {
            addLines(tapped, out);
        }
        if (carried) {
            held.append(out);
            return;
        }
        const std::uint64_t size_before = pipe.file->size;
        writeFile(*pipe.file, &pipe, out, pipe.timestamps);
        // Told per read, not per drain (up to 8 MiB), so that a size limit is kept closely.
        const std::uint64_t size = pipe.file->size;
        if (growth && size > size_before && size / growth->step != size_before / growth->step) {
            growth->tap(LogGrowth{pipe.file->path, pipe.job, pipe.instance, size});
        }
    };
    // One buffer for every read, allocated once: a fresh 1 MiB per wake-up (zeroed by resize)
    // cost more than the copying itself for a job writing as fast as it can.
    if (!read_buffer_) {
        read_buffer_ = std::make_unique_for_overwrite<char[]>(kReadChunk);
    }
    char* const buffer = read_buffer_.get();
    std::size_t total = 0;
    for (;;) {
        const ssize_t n = ::read(pipe.read_fd, buffer, kReadChunk);
        if (n > 0) {
            take(std::string_view(buffer, static_cast<std::size_t>(n)));
            total += static_cast<std::size_t>(n);
            if (total >= 8 * kReadChunk && !final) {
                return;  // let other pipes have a turn
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && !final) {
            return;
        }
        // End of stream: every writer is gone. What is left of a line ends here.
        if (!pipe.partial.empty() || pipe.mid_line) {
            take("\n");
        }
        if (n == 0 || !final) {
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, pipe.read_fd, nullptr);
            ::close(pipe.read_fd);
            pipe.read_fd = -1;
        }
        return;
    }
}

bool FileLogRouter::ensureFile(LogFile& file) {
    if (file.fd >= 0) {
        struct stat st {};
        if (::stat(file.path.c_str(), &st) == 0 && st.st_dev == file.dev && st.st_ino == file.ino) {
            return true;
        }
        ::close(file.fd);  // unlinked or rotated: start a new file at the path
        file.fd = -1;
    }
    file.fd = ::open(file.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
    if (file.fd < 0) {
        if (!file.failing) {
            file.failing = true;
            logger_->error(
                "cannot open job log {}: {}; the job keeps running and its output is "
                "discarded until the log can be written",
                file.path, std::strerror(errno));
        }
        return false;
    }
    struct stat st {};
    ::fstat(file.fd, &st);
    file.dev = st.st_dev;
    file.ino = st.st_ino;
    file.size = static_cast<std::uint64_t>(st.st_size);
    return true;
}

void FileLogRouter::writeFile(LogFile& file, const void* writer, std::string_view text,
                              bool timestamps) {
    if (text.empty()) {
        return;
    }
    std::string buffer;
    // Another writer's piece of a long line is ended first: lines never mix.
    const bool at_line_start = file.open_line != writer;
    if (file.open_line && file.open_line != writer) {
        buffer.push_back('\n');
    }
    if (timestamps) {
        timespec ts{};
        ::clock_gettime(CLOCK_REALTIME, &ts);
        tm local{};
        ::localtime_r(&ts.tv_sec, &local);
        char prefix[40];
        const std::size_t len = std::strftime(prefix, sizeof prefix, "%Y-%m-%d %H:%M:%S", &local);
        std::snprintf(prefix + len, sizeof prefix - len, ".%03ld ", ts.tv_nsec / 1000000);
        const std::string_view stamp(prefix);
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            end = end == std::string_view::npos ? text.size() : end + 1;
            if (start > 0 || at_line_start) {  // a piece that goes on a line has its stamp
                buffer.append(stamp);
            }
            buffer.append(text.substr(start, end - start));
            start = end;
        }
    } else if (!buffer.empty()) {
        buffer.append(text);
    }
    std::string_view out = buffer.empty() ? text : std::string_view(buffer);
    if (!ensureFile(file)) {
        return;
    }
    file.open_line = text.back() == '\n' ? nullptr : writer;
    while (!out.empty()) {
        const ssize_t n = ::write(file.fd, out.data(), out.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (!file.failing) {
                file.failing = true;
                logger_->error(
                    "cannot write job log {}: {}; the job keeps running and its output "
                    "is discarded until the log can be written",
                    file.path, n < 0 ? std::strerror(errno) : "short write");
            }
            return;
        }
        out.remove_prefix(static_cast<std::size_t>(n));
        file.size += static_cast<std::uint64_t>(n);
    }
    if (file.failing) {
        file.failing = false;
        logger_->info("job log {} is writable again", file.path);
    }
}

}  // namespace tend::log
