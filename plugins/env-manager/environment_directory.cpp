// SPDX-License-Identifier: MIT
#include "environment_directory.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace tend::env_manager {

namespace fs = std::filesystem;
using plugin::LogLevel;

namespace {

// The host's global table, as the layer sees it: its values read once, kept up to date with
// what the layer changes, and the origins asked for as needed.
class HostTable final : public EnvironmentTable {
  public:
    explicit HostTable(plugin::PluginHost& host) : host_(host) {
        for (const auto& entry : host_.environment().value_or(std::vector<std::string>())) {
            const auto eq = entry.find('=');
            values_[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
        }
    }

    std::vector<std::string> names() const override {
        std::vector<std::string> out;
        for (const auto& [name, value] : values_) {
            out.push_back(name);
        }
        return out;
    }
    std::optional<Value> get(const std::string& name) const override {
        const auto it = values_.find(name);
        if (it == values_.end()) {
            return std::nullopt;
        }
        const auto origin = host_.environmentOrigin(name);
        return Value{it->second, origin ? origin->kind : "", origin ? origin->detail : ""};
    }
    std::string set(const std::string& name, const Value& value) override {
        plugin::EnvironmentOrigin origin;
        origin.kind = value.kind;
        origin.detail = value.detail;
        std::string error = host_.setEnvironmentFrom(origin, {name + "=" + value.value}, false);
        if (error.empty()) {
            values_[name] = value.value;
        }
        return error;
    }
    std::string unset(const std::string& name) override {
        std::string error = host_.unsetEnvironment({name});
        if (error.empty()) {
            values_.erase(name);
        }
        return error;
    }

  private:
    plugin::PluginHost& host_;
    std::map<std::string, std::string> values_;
};

std::string readWhole(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace

fs::path defaultEnvironmentDirectory() {
    const char* config = std::getenv("XDG_CONFIG_HOME");
    fs::path base = config && *config ? fs::path(config) : fs::path();
    if (base.empty() || base.is_relative()) {
        const char* home = std::getenv("HOME");
        base = fs::path(home && *home ? home : "/") / ".config";
    }
    return base / "tend" / "environment.d";
}

EnvironmentDirectory::EnvironmentDirectory(plugin::PluginHost& host, fs::path dir)
    : host_(host), dir_(std::move(dir)) {}

EnvironmentDirectory::~EnvironmentDirectory() {
    registration_.reset();  // before the descriptor goes
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void EnvironmentDirectory::start() {
    fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) {
        host_.log(LogLevel::Warn,
                  "cannot watch " + dir_.string() + " (inotify); its files are read at start only");
    } else {
        watch();
        registration_ =
            host_.watchFd(fd_, plugin::PluginHost::Readable, [this](unsigned) { onReadable(); });
    }
    reload();
}

void EnvironmentDirectory::watch() {
    std::error_code ec;
    if (fs::is_directory(dir_, ec)) {
        if (dir_watch_ < 0) {
            dir_watch_ =
                ::inotify_add_watch(fd_, dir_.c_str(),
                                    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                        IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
        }
    } else if (dir_watch_ >= 0) {
        ::inotify_rm_watch(fd_, dir_watch_);
        dir_watch_ = -1;
    }
    // The parent tells when the directory comes, goes, or is replaced.
    if (parent_watch_ < 0) {
        parent_watch_ =
            ::inotify_add_watch(fd_, dir_.parent_path().c_str(),
                                IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR);
    }
}

void EnvironmentDirectory::onReadable() {
    alignas(inotify_event) std::array<char, 16 * 1024> buffer;
    bool any = false;
    for (;;) {
        const ssize_t got = ::read(fd_, buffer.data(), buffer.size());
        if (got <= 0) {
            break;
        }
        for (ssize_t at = 0; at < got;) {
            const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + at);
            if (event->wd == dir_watch_ && (event->mask & IN_IGNORED)) {
                dir_watch_ = -1;  // the directory went
            }
            at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        }
        any = true;
    }
    if (any) {
        watch();
        reload();
    }
}

void EnvironmentDirectory::reload() {
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_ec;
        if (it->path().extension() == ".conf" && it->is_regular_file(type_ec)) {
            files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
        return a.filename().string() < b.filename().string();
    });
    HostTable table(host_);
    const Lookup below = [&](std::string_view name) { return layer_.below(table, name); };
    std::vector<FileAssignment> wanted;
    std::vector<std::string> problems;
    for (const auto& file : files) {
        parseEnvironmentFile(readWhole(file), file.string(), below, wanted, problems);
    }
    for (auto& problem : layer_.apply(table, wanted)) {
        problems.push_back(std::move(problem));
    }
    for (const auto& problem : problems) {
        host_.log(LogLevel::Error, problem);
    }
}

}  // namespace tend::env_manager
