// SPDX-License-Identifier: MIT
// file-bridge: Upstart's file bridge as a plugin. Jobs say `start on file FILE=~/Mail/new/*
// EVENT=create` (or `stop on ...`); the plugin watches exactly what such matches name, following
// job classes as they come, change and go, and emits `file FILE=... EVENT=... [MATCH=...]` when
// it happens. tend's own matching then decides which jobs the event concerns.
//
// inotify is read on tend's loop until it is empty, but only a slice of what was read is handled
// per turn: a burst of thousands of events must not hold the loop past a plugin's budget.
#include <tend/plugin/plugin.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "debouncer.hpp"
#include "file_watcher.hpp"
#include "inotify_watches.hpp"
#include "watch_spec.hpp"

namespace tend::file_bridge {
namespace {

using plugin::ClassChange;
using plugin::JobClassView;
using plugin::LogLevel;
using plugin::PluginHost;
using plugin::Registration;

// Events read ahead of handling (inotify's own queue holds 16384 by default).
constexpr std::size_t kBacklogLimit = 16384;
// How long one turn of the loop may spend handling events before yielding.
constexpr auto kSliceBudget = std::chrono::milliseconds(20);

// `setting debounce 250` (milliseconds; `250ms` and `2s` also read).
std::optional<std::chrono::milliseconds> parseDuration(const std::string& text) {
    long value = 0;
    const char* end = text.data() + text.size();
    const auto [rest, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc() || value < 0) {
        return std::nullopt;
    }
    const std::string unit(rest, end);
    if (unit.empty() || unit == "ms") {
        return std::chrono::milliseconds(value);
    }
    if (unit == "s") {
        return std::chrono::seconds(value);
    }
    return std::nullopt;
}

std::string describe(const FileEvent& event) {
    std::string text = "file";
    for (const auto& entry : event.env()) {
        text += " " + entry;
    }
    return text;
}

class FileBridge final : public plugin::Plugin {
  public:
    explicit FileBridge(PluginHost& host) : host_(host) {}

    void start() override {
        const std::string debounce = host_.setting("debounce", "0");
        if (const auto window = parseDuration(debounce)) {
            if (window->count() > 0) {
                debouncer_.emplace(*window);
            }
        } else {
            host_.log(LogLevel::Warn, "setting debounce '" + debounce +
                                          "': expected milliseconds (250, 250ms or 2s); "
                                          "not debouncing");
        }
        inotify_ = std::make_unique<Inotify>();
        watcher_ = std::make_unique<FileWatcher>(
            *inotify_, [this](const FileEvent& event) { deliver(event); },
            [this](LogLevel level, const std::string& text) { host_.log(level, text); });
        registrations_.push_back(
            host_.watchFd(inotify_->fd(), PluginHost::Readable, [this](unsigned) { pump(); }));
        registrations_.push_back(host_.onJobClass(
            [this](ClassChange change, const JobClassView& view) { classChanged(change, view); }));
    }

    void stop() override {
        registrations_.clear();
        timer_.reset();
        watcher_.reset();
        inotify_.reset();
    }

  private:
    void classChanged(ClassChange change, const JobClassView& view) {
        std::vector<WatchSpec> specs;
        if (change != ClassChange::Removed) {
            const Expander expand = [this](std::string_view text) { return host_.expand(text); };
            for (const plugin::EventMatch* match : view.matchesFor("file")) {
                ParsedSpec parsed = parseWatchSpec(*match, expand);
                if (parsed.spec) {
                    specs.push_back(std::move(*parsed.spec));
                } else {
                    host_.log(LogLevel::Warn,
                              "job " + view.name +
                                  ": a file event it waits for is not watched: " + parsed.error);
                }
            }
        }
        watcher_->setJob(view.name, specs);
    }

    void pump() {
        pump_posted_ = false;
        bool emptied = false;
        if (backlog_.size() < kBacklogLimit) {
            emptied = inotify_->read(backlog_, kBacklogLimit - backlog_.size());
        }
        const auto began = std::chrono::steady_clock::now();
        std::size_t handled = 0;
        while (!backlog_.empty()) {
            const RawEvent event = std::move(backlog_.front());
            backlog_.pop_front();
            watcher_->handle(event);
            if (++handled % 64 == 0 && std::chrono::steady_clock::now() - began > kSliceBudget) {
                break;
            }
        }
        if ((!backlog_.empty() || !emptied) && !pump_posted_) {
            pump_posted_ = true;
            host_.post([this] { pump(); });
        }
    }

    void deliver(const FileEvent& event) {
        host_.log(LogLevel::Debug, "emitting " + describe(event));
        if (!debouncer_) {
            host_.emit("file", event.env());
            return;
        }
        debouncer_->offer(event, Debouncer::Clock::now());
        arm();
    }

    void arm() {
        if (timer_) {
            return;  // it re-arms for the next window when it fires
        }
        const auto next = debouncer_->nextDue();
        if (!next) {
            return;
        }
        const auto delay =
            std::chrono::ceil<std::chrono::milliseconds>(*next - Debouncer::Clock::now());
        timer_ = host_.addTimer(std::max(delay, std::chrono::milliseconds(0)), [this] { fire(); });
    }

    void fire() {
        const Registration fired = std::move(timer_);
        for (const auto& event : debouncer_->due(Debouncer::Clock::now())) {
            host_.emit("file", event.env());
        }
        arm();
    }

    PluginHost& host_;
    std::unique_ptr<Inotify> inotify_;
    std::unique_ptr<FileWatcher> watcher_;
    std::optional<Debouncer> debouncer_;
    std::deque<RawEvent> backlog_;
    bool pump_posted_ = false;
    Registration timer_;
    std::vector<Registration> registrations_;
};

std::unique_ptr<plugin::Plugin> makeFileBridge(PluginHost& host) {
    return std::make_unique<FileBridge>(host);
}

}  // namespace
}  // namespace tend::file_bridge

TEND_PLUGIN("file-bridge", "1.0", "", "", "", tend::file_bridge::makeFileBridge)
TEND_PLUGIN_EMITS("file")
