// SPDX-License-Identifier: MIT
// The 35 stanzas of Upstart 1.13's job language, with its arity and value rules, plus
// `expect notify` (tend's sd_notify readiness). Semantics follow init(5): scalars replace, lists
// accumulate, `manual` drops the `start on` seen so far.
#include <sys/resource.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <optional>
#include <type_traits>
#include <utility>

#include "conf/resources.hpp"
#include "conf/stanza_registry.hpp"
#include "model/signals.hpp"

namespace tend::conf {

namespace {

using model::JobClass;
using model::SeldomStanzas;

std::optional<long long> parseInteger(std::string_view text, long long min, long long max) {
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max) {
        return std::nullopt;
    }
    return value;
}

// A field of the class itself, or of its out-of-line part (allocated only when set).
template <class Owner>
StanzaHandler text(std::optional<std::string> Owner::*field, std::string what) {
    return [field, what = std::move(what)](StanzaContext& c) {
        if (c.expectArgs(0, 1, what)) {
            if constexpr (std::is_same_v<Owner, JobClass>) {
                c.job().*field = c.arg(0).text;
            } else {
                c.job().seldom.edit().*field = c.arg(0).text;
            }
        }
    };
}

StanzaHandler flag(bool JobClass::*field) {
    return [field](StanzaContext& c) {
        if (c.expectArgs(0, 0, "")) {
            c.job().*field = true;
        }
    };
}

// `exec CMD` / `script` ... `end script` for the main process, `pre-start exec` etc. for hooks.
void setProcess(StanzaContext& c, model::ProcessType type, std::size_t consumed) {
    const bool script = c.stanza().block.has_value();
    if (script) {
        c.job().processes.set(type, model::Process{true, c.stanza().block->body});
        return;
    }
    if (c.expectSomeArgs(consumed, "a command")) {
        c.job().processes.set(type, model::Process{false, c.commandFrom(consumed)});
    }
}

StanzaHandler hook(model::ProcessType type) {
    return [type](StanzaContext& c) {
        const std::string name(model::processTypeName(type));
        if (c.argCount() == 0) {
            c.error(c.endOffset(), "expected 'exec' or 'script' after '" + name + "'");
            return;
        }
        const std::string& form = c.arg(0).text;
        if (form == "exec") {
            setProcess(c, type, 1);
        } else if (form == "script") {
            if (c.stanza().block) {
                setProcess(c, type, 1);
            } else {
                c.expectArgs(1, 0, "");
            }
        } else {
            c.error(c.arg(0).offset, "unknown stanza '" + name + " " + c.raw(0) + "': expected '" +
                                         name + " exec' or '" + name + " script'");
        }
    };
}

void condition(StanzaContext& c, std::optional<grammar::EventCondition> JobClass::*field) {
    const std::string& keyword = c.stanza().keyword;
    if (c.stanza().condition) {
        c.job().*field = *c.stanza().condition;
    } else if (c.argCount() == 0) {
        c.error(c.endOffset(), "expected 'on' after '" + keyword + "'");
    } else {
        c.error(c.arg(0).offset, "unknown stanza '" + keyword + " " + c.raw(0) +
                                     "'; did you mean '" + keyword + " on " + c.raw(0) + "'?");
    }
}

std::optional<int> signalArg(StanzaContext& c, std::size_t index) {
    const auto signal = model::parseSignal(c.arg(index).text);
    if (!signal) {
        c.error(c.arg(index).offset, "illegal signal '" + c.raw(index) +
                                         "': expected a signal name such as TERM or a number");
    }
    return signal;
}

std::optional<unsigned> secondsArg(StanzaContext& c, std::size_t index) {
    const auto value = parseInteger(c.arg(index).text, 0, INT_MAX);
    if (!value) {
        c.error(c.arg(index).offset, "illegal interval '" + c.raw(index) +
                                         "': expected a non-negative number of seconds");
        return std::nullopt;
    }
    return static_cast<unsigned>(*value);
}

void unknownSubStanza(StanzaContext& c, std::string_view expected) {
    c.error(c.arg(0).offset,
            "unknown stanza '" + c.spelled(1) + "': expected " + std::string(expected));
}

void kill(StanzaContext& c) {
    if (c.argCount() == 0) {
        c.error(c.endOffset(), "expected 'signal' or 'timeout' after 'kill'");
    } else if (c.arg(0).text == "signal") {
        if (c.expectArgs(1, 1, "a signal name or number")) {
            if (const auto signal = signalArg(c, 1)) {
                c.job().kill_signal = *signal;
            }
        }
    } else if (c.arg(0).text == "timeout") {
        if (c.expectArgs(1, 1, "a number of seconds")) {
            if (const auto seconds = secondsArg(c, 1)) {
                c.job().kill_timeout = *seconds;
            }
        }
    } else {
        unknownSubStanza(c, "'kill signal' or 'kill timeout'");
    }
}

void reload(StanzaContext& c) {
    if (c.argCount() == 0) {
        c.error(c.endOffset(), "expected 'signal' after 'reload'");
    } else if (c.arg(0).text != "signal") {
        unknownSubStanza(c, "'reload signal'");
    } else if (c.expectArgs(1, 1, "a signal name or number")) {
        if (const auto signal = signalArg(c, 1)) {
            c.job().reload_signal = *signal;
        }
    }
}

// "250ms", "2s", "1m" or a plain number of seconds, as milliseconds.
std::optional<std::uint32_t> parseDuration(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
        ++digits;
    }
    if (digits == 0 || digits > 9) {
        return std::nullopt;
    }
    const std::uint64_t value = std::stoull(std::string(text.substr(0, digits)));
    const std::string_view unit = text.substr(digits);
    std::uint64_t ms = 0;
    if (unit == "ms") {
        ms = value;
    } else if (unit.empty() || unit == "s") {
        ms = value * 1000;
    } else if (unit == "m" || unit == "min") {
        ms = value * 60000;
    } else {
        return std::nullopt;
    }
    if (ms > 24ull * 3600 * 1000) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(ms);
}

std::optional<std::uint32_t> durationArg(StanzaContext& c, std::size_t index) {
    const auto value = parseDuration(c.arg(index).text);
    if (!value) {
        c.error(c.arg(index).offset,
                "illegal duration '" + c.raw(index) +
                    "': expected a number with 'ms', 's' or 'm' (at most 24 h)");
    }
    return value;
}

void respawnDelay(StanzaContext& c) {
    if (c.argCount() < 2) {
        c.error(c.endOffset(),
                "expected an initial delay after 'respawn delay' (for example 100ms)");
        return;
    }
    if (c.argCount() > 3) {
        c.error(c.arg(3).offset, "unexpected '" + c.raw(3) + "' after 'respawn delay INITIAL MAX'");
        return;
    }
    const auto initial = durationArg(c, 1);
    if (!initial) {
        return;
    }
    std::uint32_t max = std::max<std::uint32_t>(*initial, 30000);
    if (c.argCount() == 3) {
        const auto parsed = durationArg(c, 2);
        if (!parsed) {
            return;
        }
        if (*parsed < *initial) {
            c.error(c.arg(2).offset, "the maximum respawn delay '" + c.raw(2) +
                                         "' is shorter than the initial delay '" + c.raw(1) + "'");
            return;
        }
        max = *parsed;
    }
    c.job().respawn_delay = JobClass::RespawnDelay{*initial, max};
}

void respawn(StanzaContext& c) {
    if (c.argCount() == 0) {
        c.job().respawn = true;
        return;
    }
    if (c.arg(0).text == "delay") {
        respawnDelay(c);
        return;
    }
    if (c.arg(0).text != "limit") {
        unknownSubStanza(
            c, "'respawn', 'respawn limit COUNT SECONDS' or 'respawn delay INITIAL [MAX]'");
        return;
    }
    if (c.argCount() >= 2 && c.arg(1).text == "unlimited") {
        if (c.expectArgs(1, 1, "")) {
            c.job().respawn_limit = 0;
            c.job().respawn_interval = 0;
        }
        return;
    }
    if (c.argCount() == 1) {
        c.error(c.endOffset(), "expected a count (or 'unlimited') after 'respawn limit'");
        return;
    }
    if (!c.expectArgs(1, 2, "an interval in seconds")) {
        return;
    }
    const auto limit = parseInteger(c.arg(1).text, 0, INT_MAX);
    if (!limit) {
        c.error(c.arg(1).offset,
                "illegal limit '" + c.raw(1) + "': expected 'unlimited' or a non-negative integer");
        return;
    }
    if (const auto interval = secondsArg(c, 2)) {
        c.job().respawn_limit = static_cast<unsigned>(*limit);
        c.job().respawn_interval = *interval;
    }
}

void normalExit(StanzaContext& c) {
    if (c.argCount() == 0) {
        c.error(c.endOffset(), "expected 'exit' after 'normal'");
        return;
    }
    if (c.arg(0).text != "exit") {
        unknownSubStanza(c, "'normal exit'");
        return;
    }
    if (!c.expectSomeArgs(1, "exit statuses or signal names")) {
        return;
    }
    for (std::size_t i = 1; i < c.argCount(); ++i) {
        const std::string& word = c.arg(i).text;
        const bool numeric =
            !word.empty() && (word[0] == '-' || (word[0] >= '0' && word[0] <= '9'));
        if (numeric) {
            if (const auto status = parseInteger(word, 0, INT_MAX)) {
                c.job().normal_exit.push_back({false, static_cast<int>(*status)});
                continue;
            }
        } else if (const auto signal = model::parseSignal(word)) {
            c.job().normal_exit.push_back({true, *signal});
            continue;
        }
        c.error(c.arg(i).offset, "illegal exit status '" + c.raw(i) +
                                     "': expected a non-negative integer or a signal name");
    }
}

template <class Enum, std::size_t N>
StanzaHandler choice(Enum JobClass::*field, std::pair<std::string_view, Enum> const (&values)[N],
                     std::string what) {
    return [field, &values, what = std::move(what)](StanzaContext& c) {
        if (!c.expectArgs(0, 1, what)) {
            return;
        }
        for (const auto& [name, value] : values) {
            if (c.arg(0).text == name) {
                c.job().*field = value;
                return;
            }
        }
        c.error(c.arg(0).offset,
                "unknown " + c.stanza().keyword + " type '" + c.raw(0) + "': expected " + what);
    };
}

constexpr std::pair<std::string_view, model::Expect> kExpectValues[] = {
    {"none", model::Expect::None},     {"stop", model::Expect::Stop},
    {"daemon", model::Expect::Daemon}, {"fork", model::Expect::Fork},
    {"notify", model::Expect::Notify},
};
constexpr std::pair<std::string_view, model::Console> kConsoleValues[] = {
    {"log", model::Console::Log},         {"none", model::Console::None},
    {"output", model::Console::Output},   {"owner", model::Console::Owner},
    {"journal", model::Console::Journal},
};

void umask(StanzaContext& c) {
    if (!c.expectArgs(0, 1, "an octal file mode")) {
        return;
    }
    unsigned value = 0;
    const std::string& word = c.arg(0).text;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value, 8);
    if (word.empty() || ec != std::errc{} || end != word.data() + word.size() || value > 0777) {
        c.error(c.arg(0).offset, "illegal file creation mask '" + c.raw(0) +
                                     "': expected an octal number up to 0777");
        return;
    }
    c.job().umask = static_cast<mode_t>(value);
}

void nice(StanzaContext& c) {
    if (!c.expectArgs(0, 1, "a nice value from -20 to 19")) {
        return;
    }
    if (const auto value = parseInteger(c.arg(0).text, -20, 19)) {
        c.job().nice = static_cast<int>(*value);
    } else {
        c.error(c.arg(0).offset, "illegal nice value '" + c.raw(0) + "': expected -20 to 19");
    }
}

void oom(StanzaContext& c) {
    if (c.argCount() == 0) {
        c.error(c.endOffset(), "expected 'score' or an adjustment after 'oom'");
        return;
    }
    if (c.arg(0).text == "score") {
        if (!c.expectArgs(1, 1, "a score from -1000 to 1000, or 'never'")) {
            return;
        }
        if (c.arg(1).text == "never") {
            c.job().oom_score = -1000;
        } else if (const auto score = parseInteger(c.arg(1).text, -1000, 1000)) {
            c.job().oom_score = static_cast<int>(*score);
        } else {
            c.error(c.arg(1).offset,
                    "illegal OOM score '" + c.raw(1) + "': expected -1000 to 1000, or 'never'");
        }
        return;
    }
    // The pre-2.6.36 `oom_adj` scale, which Upstart converts to `oom_score_adj`.
    if (!c.expectArgs(0, 1, "an adjustment from -17 to 15, or 'never'")) {
        return;
    }
    if (c.arg(0).text == "never") {
        c.job().oom_score = -1000;
    } else if (const auto adj = parseInteger(c.arg(0).text, -17, 15)) {
        c.job().oom_score = static_cast<int>(*adj > 0 ? *adj * 1000 / 15 : *adj * 1000 / 17);
    } else {
        c.error(c.arg(0).offset, "illegal OOM adjustment '" + c.raw(0) +
                                     "': expected -17 to 15, 'never', or 'oom score N'");
    }
}

std::optional<std::uint64_t> limitValue(StanzaContext& c, std::size_t index) {
    const std::string& word = c.arg(index).text;
    if (word == "unlimited") {
        return model::kUnlimited;
    }
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (word.empty() || ec != std::errc{} || end != word.data() + word.size() ||
        value == model::kUnlimited) {
        c.error(c.arg(index).offset, "illegal limit '" + c.raw(index) +
                                         "': expected 'unlimited' or a non-negative integer");
        return std::nullopt;
    }
    return value;
}

void limit(StanzaContext& c) {
    if (c.argCount() == 0) {
        c.error(c.endOffset(), "expected a resource name after 'limit'");
        return;
    }
    const auto resource = resourceByName(c.arg(0).text);
    if (!resource) {
        c.error(c.arg(0).offset, "unknown resource '" + c.raw(0) +
                                     "' in 'limit': expected one of " + resourceNameList());
        return;
    }
    if (c.argCount() == 2) {
        c.error(c.endOffset(), "expected a hard limit after '" + c.spelled(2) + "'");
        return;
    }
    if (!c.expectArgs(1, 2, "a soft and a hard limit")) {
        return;
    }
    const auto soft = limitValue(c, 1);
    const auto hard = limitValue(c, 2);
    if (soft && hard) {
        c.job().seldom.edit().limits[*resource] = model::ResourceLimit{*soft, *hard};
    }
}

void apparmor(StanzaContext& c) {
    if (c.argCount() == 0) {
        c.error(c.endOffset(), "expected 'load' or 'switch' after 'apparmor'");
    } else if (c.arg(0).text == "load") {
        if (c.expectArgs(1, 1, "a profile path")) {
            c.job().seldom.edit().apparmor_load = c.arg(1).text;
        }
    } else if (c.arg(0).text == "switch") {
        if (c.expectArgs(1, 1, "a profile name")) {
            c.job().seldom.edit().apparmor_switch = c.arg(1).text;
        }
    } else {
        unknownSubStanza(c, "'apparmor load' or 'apparmor switch'");
    }
}

void cgroup(StanzaContext& c) {
    if (!c.expectSomeArgs(0, "a controller name")) {
        return;
    }
    if (c.argCount() > 4) {
        c.expectArgs(0, 4, "");
        return;
    }
    model::CgroupSetting setting;
    setting.controller = c.arg(0).text;
    setting.name = std::string(model::kDefaultCgroupName);
    switch (c.argCount()) {
    case 2:
        setting.name = c.arg(1).text;
        break;
    case 3:
        setting.key = c.arg(1).text;
        setting.value = c.arg(2).text;
        break;
    case 4:
        setting.name = c.arg(1).text;
        setting.key = c.arg(2).text;
        setting.value = c.arg(3).text;
        break;
    default:
        break;
    }
    if (c.argCount() >= 3 && setting.key.empty()) {
        // Nothing to set: and printed back, the value would be read as the cgroup's name.
        const std::size_t key_index = c.argCount() - 2;
        c.error(c.arg(key_index).offset, "cgroup: the key to set must not be empty");
        return;
    }
    // One entry per controller, name and key: a later value replaces an earlier one.
    for (auto& existing : c.job().seldom.edit().cgroups) {
        if (existing.controller == setting.controller && existing.name == setting.name &&
            existing.key == setting.key) {
            existing.value = setting.value;
            return;
        }
    }
    c.job().seldom.edit().cgroups.push_back(std::move(setting));
}

void env(StanzaContext& c) {
    if (!c.expectArgs(0, 1, "KEY=VALUE or KEY")) {
        return;
    }
    const std::string& word = c.arg(0).text;
    const auto eq = word.find('=');
    if (eq == 0 || word.empty()) {
        c.error(c.arg(0).offset, "expected a variable name before '=' in 'env " + c.raw(0) + "'");
        return;
    }
    if (eq == std::string::npos) {
        c.job().env.push_back({word, std::nullopt});
    } else {
        c.job().env.push_back({word.substr(0, eq), word.substr(eq + 1)});
    }
}

void appendWords(StanzaContext& c, std::vector<std::string>& list, std::string_view what) {
    if (c.expectSomeArgs(0, what)) {
        for (std::size_t i = 0; i < c.argCount(); ++i) {
            list.push_back(c.arg(i).text);
        }
    }
}

}  // namespace

void registerCoreStanzas(StanzaRegistry& r) {
    const std::string core = "core";
    r.add("description", core, text(&JobClass::description, "a quoted description"));
    r.add("author", core, text(&SeldomStanzas::author, "a quoted author"));
    r.add("version", core, text(&SeldomStanzas::version, "a quoted version"));
    r.add("usage", core, text(&SeldomStanzas::usage, "a quoted usage text"));
    r.add("chdir", core, text(&SeldomStanzas::chdir, "a directory"));
    r.add("chroot", core, text(&SeldomStanzas::chroot, "a directory"));
    r.add("setuid", core, text(&SeldomStanzas::setuid, "a user name"));
    r.add("setgid", core, text(&SeldomStanzas::setgid, "a group name"));
    r.add("instance", core, [](StanzaContext& c) {
        if (c.expectArgs(0, 1, "an instance name template")) {
            c.job().instance = c.arg(0).text;
        }
    });
    r.add("env", core, env);
    r.add("export", core,
          [](StanzaContext& c) { appendWords(c, c.job().exports, "variable names"); });
    r.add("emits", core, [](StanzaContext& c) { appendWords(c, c.job().emits, "event names"); });
    r.add("start", core, [](StanzaContext& c) {
        if (!c.stanza().condition && c.argCount() >= 1 && c.arg(0).text == "timeout") {
            if (c.expectArgs(1, 1, "a duration such as 30s")) {
                if (const auto ms = durationArg(c, 1)) {
                    c.job().start_timeout_ms = *ms;
                }
            }
            return;
        }
        condition(c, &JobClass::start_on);
    });
    r.add("log", core, [](StanzaContext& c) {
        if (c.argCount() == 1 && (c.arg(0).text == "timestamp" || c.arg(0).text == "plain")) {
            c.job().log_timestamps = c.arg(0).text == "timestamp";
        } else if (c.argCount() == 0) {
            c.error(c.endOffset(), "expected 'timestamp' or 'plain' after 'log'");
        } else {
            c.error(c.arg(0).offset, "unknown stanza 'log " + c.raw(0) +
                                         "'; expected 'log timestamp' or 'log plain'");
        }
    });
    r.add("stop", core, [](StanzaContext& c) { condition(c, &JobClass::stop_on); });
    r.add("session", core, [](StanzaContext& c) {
        if (c.argCount() == 1 && c.arg(0).text == "linger") {
            c.job().session_linger = true;
        } else if (c.argCount() == 0) {
            c.error(c.endOffset(), "expected 'linger' after 'session'");
        } else {
            c.error(c.arg(0).offset,
                    "unknown stanza 'session " + c.raw(0) + "'; expected 'session linger'");
        }
    });
    r.add("manual", core, [](StanzaContext& c) {
        if (c.expectArgs(0, 0, "")) {
            c.job().start_on.reset();
        }
    });
    r.add("exec", core, [](StanzaContext& c) { setProcess(c, model::ProcessType::Main, 0); });
    r.add("script", core, [](StanzaContext& c) {
        if (c.stanza().block) {
            setProcess(c, model::ProcessType::Main, 0);
        } else {
            c.expectArgs(0, 0, "");
        }
    });
    r.add("pre-start", core, hook(model::ProcessType::PreStart));
    r.add("post-start", core, hook(model::ProcessType::PostStart));
    r.add("pre-stop", core, hook(model::ProcessType::PreStop));
    r.add("post-stop", core, hook(model::ProcessType::PostStop));
    r.add("expect", core,
          choice(&JobClass::expect, kExpectValues, "'fork', 'daemon', 'stop', 'notify' or 'none'"));
    r.add("console", core,
          choice(&JobClass::console, kConsoleValues,
                 "'log', 'journal', 'output', 'owner' or 'none'"));
    r.add("task", core, flag(&JobClass::task));
    r.add("debug", core, flag(&JobClass::debug));
    r.add("kill", core, kill);
    r.add("reload", core, reload);
    r.add("respawn", core, respawn);
    r.add("normal", core, normalExit);
    r.add("umask", core, umask);
    r.add("nice", core, nice);
    r.add("oom", core, oom);
    r.add("limit", core, limit);
    r.add("apparmor", core, apparmor);
    r.add("cgroup", core, cgroup);
}

}  // namespace tend::conf
