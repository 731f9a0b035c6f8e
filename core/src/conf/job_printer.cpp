// SPDX-License-Identifier: MIT
#include "conf/job_printer.hpp"

#include <cstdio>

#include "conf/resources.hpp"
#include "model/signals.hpp"
#include "tend/grammar/quoting.hpp"

namespace tend::conf {

namespace {

using grammar::quoteValue;

void line(std::string& out, std::string_view keyword, const std::string& value) {
    out += keyword;
    out += ' ';
    out += value;
    out += '\n';
}

void optionalText(std::string& out, std::string_view keyword,
                  const std::optional<std::string>& value) {
    if (value) {
        line(out, keyword, quoteValue(*value));
    }
}

// Free text reads best quoted even when it is one word: `description "imapfilter"`.
void optionalProse(std::string& out, std::string_view keyword,
                   const std::optional<std::string>& value) {
    if (value) {
        std::string word = quoteValue(*value);
        line(out, keyword, word == *value ? '"' + word + '"' : word);
    }
}

bool isPlainName(std::string_view name) {
    return !name.empty() && quoteValue(name) == name;
}

// The shortest exact spelling: "30s", "1500ms", "2m".
std::string formatDuration(std::uint32_t ms) {
    if (ms != 0 && ms % 60000 == 0) {
        return std::to_string(ms / 60000) + "m";
    }
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

std::string limitValue(std::uint64_t value) {
    return value == model::kUnlimited ? "unlimited" : std::to_string(value);
}

void process(std::string& out, const model::JobClass& job, model::ProcessType type) {
    const auto& proc = job.process(type);
    if (!proc) {
        return;
    }
    const std::string prefix =
        type == model::ProcessType::Main ? "" : std::string(model::processTypeName(type)) + ' ';
    if (!proc->script) {
        out += prefix + "exec " + proc->command + '\n';
        return;
    }
    out += prefix + "script\n";
    std::size_t pos = 0;
    const std::string& body = proc->command;
    while (pos < body.size()) {
        std::size_t eol = body.find('\n', pos);
        if (eol == std::string::npos) {
            eol = body.size();
        }
        const std::string_view line = std::string_view(body).substr(pos, eol - pos);
        if (line.find_first_not_of(" \t\r") != std::string_view::npos) {
            out += "    ";
        }
        out += line;
        out += '\n';
        pos = eol + 1;
    }
    out += "end script\n";
}

}  // namespace

std::string printJobClass(const model::JobClass& job) {
    std::string out;
    optionalProse(out, "description", job.description);
    optionalProse(out, "author", job.seldom->author);
    optionalProse(out, "version", job.seldom->version);
    optionalProse(out, "usage", job.seldom->usage);
    if (!job.instance.empty()) {
        line(out, "instance", quoteValue(job.instance));
    }
    if (job.start_on) {
        line(out, "start on", job.start_on->toString());
    }
    if (job.stop_on) {
        line(out, "stop on", job.stop_on->toString());
    }
    for (const auto& event : job.emits) {
        line(out, "emits", quoteValue(event));
    }
    for (const auto& entry : job.env) {
        if (!entry.value) {
            line(out, "env", quoteValue(entry.name));
        } else if (isPlainName(entry.name)) {
            line(out, "env", entry.name + '=' + quoteValue(*entry.value));
        } else {
            line(out, "env", quoteValue(entry.name + '=' + *entry.value));
        }
    }
    for (const auto& name : job.exports) {
        line(out, "export", quoteValue(name));
    }
    if (job.task) {
        out += "task\n";
    }
    if (job.respawn) {
        out += "respawn\n";
    }
    if (job.respawn_delay) {
        line(out, "respawn delay",
             formatDuration(job.respawn_delay->initial_ms) + ' ' +
                 formatDuration(job.respawn_delay->max_ms));
    }
    if (job.respawn_limit == 0 && job.respawn_interval == 0) {
        out += "respawn limit unlimited\n";
    } else if (job.respawn_limit != 10 || job.respawn_interval != 5) {
        line(out, "respawn limit",
             std::to_string(job.respawn_limit) + ' ' + std::to_string(job.respawn_interval));
    }
    if (!job.normal_exit.empty()) {
        std::string values;
        for (const auto& exit : job.normal_exit) {
            values += values.empty() ? "" : " ";
            values += exit.signal ? model::signalName(exit.value) : std::to_string(exit.value);
        }
        line(out, "normal exit", values);
    }
    if (job.expect != model::Expect::None) {
        line(out, "expect", std::string(model::expectName(job.expect)));
    }
    if (job.kill_signal != 15) {
        line(out, "kill signal", model::signalName(job.kill_signal));
    }
    if (job.start_timeout_ms != 30000) {
        line(out, "start timeout", formatDuration(job.start_timeout_ms));
    }
    if (job.log_timestamps) {
        out += "log timestamp\n";
    }
    if (job.session_linger) {
        out += "session linger\n";
    }
    if (job.kill_timeout != 5) {
        line(out, "kill timeout", std::to_string(job.kill_timeout));
    }
    if (job.reload_signal != 1) {
        line(out, "reload signal", model::signalName(job.reload_signal));
    }
    if (job.console != model::Console::Default) {
        line(out, "console", std::string(model::consoleName(job.console)));
    }
    if (job.umask) {
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(*job.umask));
        line(out, "umask", octal);
    }
    if (job.nice) {
        line(out, "nice", std::to_string(*job.nice));
    }
    if (job.oom_score) {
        line(out, "oom score", std::to_string(*job.oom_score));
    }
    for (const auto& [resource, limit] : job.seldom->limits) {
        line(out, "limit",
             std::string(resourceName(resource)) + ' ' + limitValue(limit.soft) + ' ' +
                 limitValue(limit.hard));
    }
    optionalText(out, "chdir", job.seldom->chdir);
    optionalText(out, "chroot", job.seldom->chroot);
    optionalText(out, "setuid", job.seldom->setuid);
    optionalText(out, "setgid", job.seldom->setgid);
    optionalText(out, "apparmor load", job.seldom->apparmor_load);
    optionalText(out, "apparmor switch", job.seldom->apparmor_switch);
    for (const auto& cg : job.seldom->cgroups) {
        std::string args = quoteValue(cg.controller) + ' ' + quoteValue(cg.name);
        if (!cg.key.empty()) {
            args += ' ' + quoteValue(cg.key) + ' ' + quoteValue(cg.value);
        }
        line(out, "cgroup", args);
    }
    if (job.debug) {
        out += "debug\n";
    }
    for (const auto& [keyword, occurrences] : job.seldom->plugin_stanzas) {
        for (const auto& args : occurrences) {
            std::string text;
            for (const auto& arg : args) {
                text += (text.empty() ? "" : " ") + quoteValue(arg);
            }
            line(out, keyword, text);
        }
    }
    process(out, job, model::ProcessType::PreStart);
    process(out, job, model::ProcessType::Main);
    process(out, job, model::ProcessType::PostStart);
    process(out, job, model::ProcessType::PreStop);
    process(out, job, model::ProcessType::PostStop);
    return out;
}

}  // namespace tend::conf
