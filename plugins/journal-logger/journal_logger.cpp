// SPDX-License-Identifier: MIT
// journal-logger: job output, and jobs' state changes, in the systemd journal.
//
// Every line of a job with `console log` (what output sinks see) goes to the journal as an
// entry of its own, beside the job's log file, which tend writes as before: when the journal is
// down nothing is lost, it is only not copied. stdout lines are info, stderr lines warnings,
// unless a `<N>` prefix says otherwise; the pieces of a line over 64 KiB are joined again, up
// to 1 MiB an entry.
//
// `console journal` jobs (and, with `setting console journal`, jobs without a console stanza)
// go to the journal only: the plugin carries their output, and gives back to the log file what
// it cannot send (the journal is down, the queue is full, the job is not chosen), so that no
// line is lost.
//
// The loop only queues entries; a thread of the plugin's own sends them (journal_sender.hpp), so
// journald never holds up tend, and the queue is bounded, so a job writing fast never costs tend
// more than its size.
//
// `setting jobs all` (the default) or `setting jobs NAME,NAME...` in plugins.d/
// journal-logger.conf chooses the jobs; a job's `journal on|off` stanza overrides that. The
// choice covers both a job's output and its state changes.
#include <tend/plugin/plugin.hpp>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
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
            },
            [this](const std::string& job, const std::string& instance,
                   std::vector<std::string> lines) {
                host_.writeJobLog(job, instance, std::move(lines));
            });
        // `console journal` jobs are this plugin's to carry; `setting console journal` makes
        // it every job's default.
        const std::string console = host_.setting("console", "log");
        if (console != "log" && console != "journal") {
            host_.log(LogLevel::Error, "setting console: expected 'log' or 'journal', not '" +
                                           console +
                                           "'; jobs without a console stanza log "
                                           "to their files");
        }
        default_console_ = console == "journal" ? "journal" : "log";
        registrations_.push_back(host_.carryJournalConsole(default_console_ == "journal"));
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
    using InstanceKey = std::pair<std::string, std::string>;      // job, instance
    using PieceKey = std::tuple<std::string, std::string, bool>;  // job, instance, stderr
    // The longest entry a joined line makes; a longer line goes on in the next entry.
    static constexpr std::size_t kMaxLine = 1u << 20;

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
        if (!output.lines) {
            return;
        }
        if (!selection_.selected(output.job)) {
            if (!output.in_log_file) {  // `journal off` beats `console journal`: the file
                host_.writeJobLog(output.job, output.instance, *output.lines);
            }
            return;
        }
        const bool stderr_stream = output.stream == plugin::OutputStream::Stderr;
        std::vector<std::string> lines = joinPieces(output, stderr_stream);
        if (lines.empty()) {
            return;
        }
        const std::size_t count = lines.size();
        std::vector<std::string> kept;
        if (!output.in_log_file) {
            kept = lines;  // for the file, if the queue has no room
        }
        const bool queued = sender_->queueLines(
            std::string(output.job), std::string(output.instance),
            mainPid(output.job, output.instance), std::move(lines),
            stderr_stream ? kStderrPriority : kStdoutPriority, !output.in_log_file);
        if (!queued && !output.in_log_file) {
            host_.writeJobLog(output.job, output.instance, std::move(kept));
        }
        behind(!queued, count);
    }

    // A line over 64 KiB comes in pieces: they are joined into one entry, up to kMaxLine.
    std::vector<std::string> joinPieces(const plugin::OutputLines& output, bool stderr_stream) {
        const std::vector<std::string>& in = *output.lines;
        const PieceKey key{std::string(output.job), std::string(output.instance), stderr_stream};
        const auto pending = pieces_.find(key);
        if (!output.continues && pending == pieces_.end()) {
            return in;
        }
        std::string joined = pending == pieces_.end() ? std::string() : std::move(pending->second);
        if (pending != pieces_.end()) {
            pieces_.erase(pending);
        }
        std::vector<std::string> out;
        bool split = false;  // the line being joined went out in part already
        for (std::size_t i = 0; i < in.size(); ++i) {
            joined.append(in[i]);
            const bool goes_on = output.continuesAt(i);
            while (joined.size() > kMaxLine || (goes_on && joined.size() == kMaxLine)) {
                out.push_back(joined.substr(0, kMaxLine));
                joined.erase(0, kMaxLine);
                split = true;
            }
            if (goes_on) {
                continue;
            }
            if (!joined.empty() || !split) {
                out.push_back(std::move(joined));
            }
            joined.clear();
            split = false;
        }
        if (!joined.empty()) {
            pieces_.emplace(key, std::move(joined));
        }
        return out;
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
                "\nlines given back to the file logs: " + std::to_string(sender.linesGivenBack()) +
                "\nstate changes not sent: " + std::to_string(sender.changesNotSent()) +
                "\njobs: " + jobs + "\ndefault console: " + default_console_;
        const json data{{"connected", connected},
                        {"reason", reason_},
                        {"lines_sent", sender.linesSent()},
                        {"lines_not_sent", sender.linesNotSent()},
                        {"state_changes_sent", sender.changesSent()},
                        {"lines_given_back", sender.linesGivenBack()},
                        {"state_changes_not_sent", sender.changesNotSent()},
                        {"jobs", jobs},
                        {"default_console", default_console_}};
        reply({true, text, data.dump(-1, ' ', false, json::error_handler_t::replace)});
    }

    PluginHost& host_;
    std::unique_ptr<JournalSender> sender_;
    std::string reason_;         // why the journal is unavailable; empty while it is not
    std::uint64_t dropped_ = 0;  // lines the full queue refused since it last had room
    JobSelection selection_;
    std::map<InstanceKey, int> pids_;         // main processes of instances that have one
    std::map<PieceKey, std::string> pieces_;  // the start of a line whose end has not come
    std::string default_console_ = "log";
    std::vector<plugin::Registration> registrations_;
};

std::unique_ptr<plugin::Plugin> makeJournalLogger(PluginHost& host) {
    return std::make_unique<JournalLogger>(host);
}

}  // namespace
}  // namespace tend::journal

TEND_PLUGIN("journal-logger", "1.0", "", "", "", tend::journal::makeJournalLogger)
