// SPDX-License-Identifier: MIT
// journal-logger: job output, and jobs' state changes, in the systemd journal.
//
// Every line of a job with `console log` (what output sinks see) goes to the journal as an
// entry of its own, beside the job's log file, which tend writes as before: when the journal is
// down nothing is lost, it is only not copied. The loop only queues entries; a thread of the
// plugin's own sends them (journal_sender.hpp), so journald never holds up tend, and the queue
// is bounded, so a job writing fast never costs tend more than its size.
//
// `setting jobs all` (the default) or `setting jobs NAME,NAME...` in plugins.d/
// journal-logger.conf chooses the jobs; a job's `journal on|off` stanza overrides that. The
// choice covers both a job's output and its state changes.
#include <tend/plugin/plugin.hpp>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "journal_entry.hpp"
#include "journal_selection.hpp"
#include "journal_sender.hpp"

namespace tend::journal {
namespace {

using json = nlohmann::json;
using plugin::LogLevel;
using plugin::PluginHost;

class JournalLogger final : public plugin::Plugin {
  public:
    explicit JournalLogger(PluginHost& host) : host_(host) {}

    void start() override {
        // Notices come from the sender's thread: they are handled on the loop.
        sender_ = std::make_unique<JournalSender>(
            [this](const std::string& reason, std::uint64_t missed) {
                host_.post([this, reason, missed] { notice(reason, missed); });
            });
        if (const std::string jobs = host_.setting("jobs"); !jobs.empty()) {
            if (const std::string error = selection_.applySetting(jobs); !error.empty()) {
                host_.log(LogLevel::Error, error + "; copying every job's output");
            }
        }
        registrations_.push_back(host_.addStanza("journal", [](const auto& args) {
            std::string error;
            JobSelection::parseStanza(args, &error);
            return error;
        }));
        registrations_.push_back(
            host_.onJobClass([this](plugin::ClassChange change, const plugin::JobClassView& view) {
                onClass(change, view);
            }));
        registrations_.push_back(
            host_.onJobChange([this](const plugin::JobChange& change) { onChange(change); }));
        registrations_.push_back(
            host_.addOutputSink([this](const plugin::OutputLines& lines) { onOutput(lines); }));
        // tend's own log too, at its level, unless `setting tend-log off`.
        if (host_.setting("tend-log", "on") != "off") {
            registrations_.push_back(host_.onTendLog([this](const plugin::TendLogLine& line) {
                behind(!sender_->queueEntry(tendLogFields(line.level, line.text)));
            }));
        }
        registrations_.push_back(host_.serveCommand(
            "journal-logger", [this](const plugin::CommandCall& call,
                                     plugin::CommandResponder reply) { status(call, reply); }));
    }

    void stop() override {
        registrations_.clear();
        sender_.reset();  // sends what is queued, for up to a second
    }

  private:
    using InstanceKey = std::pair<std::string, std::string>;  // job, instance

    void notice(const std::string& reason, std::uint64_t missed) {
        reason_ = reason;
        if (!reason.empty()) {
            host_.log(LogLevel::Warn,
                      "journal unavailable (" + reason + "); job output stays in the file logs");
        } else {
            host_.log(LogLevel::Info, "journal reachable again; " + std::to_string(missed) +
                                          " lines were not sent to it and are in the file logs");
        }
    }

    void onClass(plugin::ClassChange change, const plugin::JobClassView& view) {
        std::optional<bool> on;
        if (change != plugin::ClassChange::Removed) {
            if (const auto it = view.stanzas.find("journal");
                it != view.stanzas.end() && !it->second.empty()) {
                on = JobSelection::parseStanza(it->second.back());  // checked when read
            }
        }
        selection_.setOverride(view.name, on);
    }

    int mainPid(std::string_view job, std::string_view instance) const {
        const auto it = pids_.find(InstanceKey(job, instance));
        return it == pids_.end() ? 0 : it->second;
    }

    void onChange(const plugin::JobChange& change) {
        const InstanceKey key(change.job, change.instance);
        if (change.main_pid > 0) {
            pids_[key] = change.main_pid;
        } else {
            pids_.erase(key);
        }
        // A goal-only change, or an instance replayed as the plugin subscribed, is no state
        // change.
        if (change.state == change.previous_state || !selection_.selected(change.job)) {
            return;
        }
        const JobIdentity who{change.job, change.instance, change.main_pid};
        // A change of an instance that failed (its respawn limit, a hook) is a notice.
        constexpr int kNotice = 5;
        behind(
            !sender_->queueEntry(stateFields(who, change.previous_state, change.state, change.goal,
                                             change.failed ? kNotice : kDefaultPriority)));
    }

    void onOutput(const plugin::OutputLines& output) {
        if (!output.lines || !selection_.selected(output.job)) {
            return;
        }
        const std::size_t count = output.lines->size();
        behind(!sender_->queueLines(std::string(output.job), std::string(output.instance),
                                    mainPid(output.job, output.instance), *output.lines),
               count);
    }

    // The sender's queue is full: journald takes entries more slowly than jobs write. Said
    // once, and once again when there is room.
    void behind(bool full, std::size_t lines = 0) {
        if (full) {
            if (dropped_ == 0) {
                host_.log(LogLevel::Warn,
                          "the journal falls behind; job output that does not fit in "
                          "journal-logger's queue stays in the file logs only");
            }
            dropped_ += lines;
        } else if (dropped_ > 0) {
            host_.log(LogLevel::Info, "the journal caught up; " + std::to_string(dropped_) +
                                          " lines were not sent to it and are in the file logs");
            dropped_ = 0;
        }
    }

    void status(const plugin::CommandCall& call, const plugin::CommandResponder& reply) {
        if (!call.args.empty()) {
            reply({false, "journal-logger: takes no arguments", "{}"});
            return;
        }
        std::string jobs = "all";
        if (!selection_.all()) {
            jobs.clear();
            for (const auto& name : selection_.names()) {
                jobs += (jobs.empty() ? "" : ",") + name;
            }
        }
        const bool connected = reason_.empty();
        const JournalSender& sender = *sender_;
        std::string text =
            connected ? "journal: connected" : "journal: unavailable (" + reason_ + ")";
        text += "\nlines sent: " + std::to_string(sender.linesSent()) +
                "\nlines not sent: " + std::to_string(sender.linesNotSent()) +
                "\nstate changes sent: " + std::to_string(sender.changesSent()) +
                "\nstate changes not sent: " + std::to_string(sender.changesNotSent()) +
                "\njobs: " + jobs;
        const json data{{"connected", connected},
                        {"reason", reason_},
                        {"lines_sent", sender.linesSent()},
                        {"lines_not_sent", sender.linesNotSent()},
                        {"state_changes_sent", sender.changesSent()},
                        {"state_changes_not_sent", sender.changesNotSent()},
                        {"jobs", jobs}};
        reply({true, text, data.dump(-1, ' ', false, json::error_handler_t::replace)});
    }

    PluginHost& host_;
    std::unique_ptr<JournalSender> sender_;
    std::string reason_;         // why the journal is unavailable; empty while it is not
    std::uint64_t dropped_ = 0;  // lines the full queue refused since it last had room
    JobSelection selection_;
    std::map<InstanceKey, int> pids_;  // main processes of instances that have one
    std::vector<plugin::Registration> registrations_;
};

std::unique_ptr<plugin::Plugin> makeJournalLogger(PluginHost& host) {
    return std::make_unique<JournalLogger>(host);
}

}  // namespace
}  // namespace tend::journal

TEND_PLUGIN("journal-logger", "1.0", "", "", "", tend::journal::makeJournalLogger)
