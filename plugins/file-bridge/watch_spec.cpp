// SPDX-License-Identifier: MIT
// Reading a job's `file` match into a WatchSpec, the way upstart-file-bridge read it in a session.
#include "watch_spec.hpp"

#include <fnmatch.h>

#include <array>
#include <utility>

namespace tend::file_bridge {
namespace {

ParsedSpec failure(std::string why) {
    return ParsedSpec{std::nullopt, std::move(why)};
}

bool hasDotDot(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        if (path.substr(start, end - start) == "..") {
            return true;
        }
        start = end + 1;
    }
    return false;
}

constexpr std::array<Kind, 3> kKinds{Create, Modify, Delete};

}  // namespace

std::string_view kindName(Kind kind) {
    switch (kind) {
    case Create:
        return "create";
    case Modify:
        return "modify";
    case Delete:
        return "delete";
    }
    return "?";
}

bool globMatches(const std::string& pattern, const std::string& name) {
    return ::fnmatch(pattern.c_str(), name.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0;
}

bool hasGlob(std::string_view text) {
    return text.find_first_of("*?[") != std::string_view::npos;
}

std::string normalisePath(std::string_view path) {
    std::string out;
    out.reserve(path.size());
    std::size_t start = 0;
    while (start < path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const std::string_view part = path.substr(start, end - start);
        if (!part.empty() && part != ".") {
            out += '/';
            out += part;
        }
        start = end + 1;
    }
    return out.empty() ? "/" : out;
}

std::string joinPath(std::string_view dir, std::string_view name) {
    std::string out(dir);
    if (out.empty() || out.back() != '/') {
        out += '/';
    }
    out += name;
    return out;
}

std::string parentOf(std::string_view path) {
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos || slash == 0) {
        return "/";
    }
    return std::string(path.substr(0, slash));
}

std::string baseName(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

bool isSelfOrBelow(std::string_view path, std::string_view ancestor) {
    if (ancestor == "/") {
        return !path.empty() && path.front() == '/';
    }
    return path.starts_with(ancestor) &&
           (path.size() == ancestor.size() || path[ancestor.size()] == '/');
}

ParsedSpec parseWatchSpec(const plugin::EventMatch& match, const Expander& expand) {
    std::optional<std::string> file_text;
    std::optional<std::string> event_text;
    bool event_negated = false;
    std::optional<std::string> recursive_text;
    for (const auto& arg : match.args) {
        if (arg.key.empty()) {
            return failure("'" + arg.value +
                           "': file events take FILE=, EVENT= and RECURSIVE=, not positional "
                           "values");
        }
        if (arg.key == "FILE") {
            if (arg.negated) {
                return failure("FILE!=" + arg.value + " names no file to watch");
            }
            file_text = arg.value;
        } else if (arg.key == "EVENT") {
            event_text = arg.value;
            event_negated = arg.negated;
        } else if (arg.key == "RECURSIVE") {
            if (arg.negated) {
                return failure("RECURSIVE takes yes or no, not RECURSIVE!=");
            }
            recursive_text = arg.value;
        } else if (arg.key != "MATCH") {
            return failure(arg.key +
                           " is not a variable of file events (FILE, EVENT, MATCH, RECURSIVE): "
                           "the condition could never be true");
        }
    }
    if (!file_text || file_text->empty()) {
        return failure("no FILE=: nothing to watch");
    }

    WatchSpec spec;
    std::string absolute;
    const std::string& raw = *file_text;
    if (raw.front() == '~') {
        // `~` stays in FILE because the job's condition keeps it too (only $VARs expand there).
        if (raw.size() > 1 && raw[1] != '/') {
            return failure("FILE=" + raw + ": ~user is not supported");
        }
        const auto rest = expand(std::string_view(raw).substr(1));
        const auto home = expand("~");
        if (!rest || !home || home->empty() || home->front() != '/') {
            return failure("FILE=" + raw + ": a variable it uses, or $HOME, is not set");
        }
        spec.file = "~" + *rest;
        absolute = *home + *rest;
    } else {
        const auto expanded = expand(raw);
        if (!expanded || expanded->empty()) {
            return failure("FILE=" + raw + ": a variable it uses is not set");
        }
        spec.file = *expanded;
        if (spec.file.front() == '/') {
            absolute = spec.file;
        } else if (spec.file == "." || spec.file.starts_with("./")) {
            return failure("FILE=" + raw + ": relative paths are taken from $HOME; write '" +
                           spec.file.substr(spec.file.starts_with("./") ? 2 : 1) +
                           "' or '~/...' instead");
        } else {
            const auto home = expand("~");
            if (!home || home->empty() || home->front() != '/') {
                return failure("FILE=" + raw + ": a relative path needs $HOME, which is not set");
            }
            absolute = *home + "/" + spec.file;
        }
    }
    if (hasDotDot(absolute)) {
        return failure("FILE=" + raw + ": '..' is not allowed");
    }
    const bool directory = absolute.back() == '/';
    const std::string path = normalisePath(absolute);
    if (path != "/" && hasGlob(parentOf(path))) {
        return failure("FILE=" + raw + ": a glob may only be in the last part of the path");
    }
    if (path != "/" && hasGlob(baseName(path))) {
        if (directory) {
            return failure("FILE=" + raw +
                           ": a glob matches a directory's entries; drop the trailing /");
        }
        spec.target = WatchSpec::Target::Glob;
        spec.path = parentOf(path);
        spec.glob = baseName(path);
    } else {
        spec.target = directory ? WatchSpec::Target::Directory : WatchSpec::Target::File;
        spec.path = path;
    }

    if (event_text) {
        const auto value = expand(*event_text);
        if (!value) {
            return failure("EVENT=" + *event_text + ": a variable it uses is not set");
        }
        spec.kinds = 0;
        for (const Kind kind : kKinds) {
            const bool matches =
                ::fnmatch(value->c_str(), std::string(kindName(kind)).c_str(), 0) == 0;
            if (matches != event_negated) {
                spec.kinds |= kind;
            }
        }
        if (spec.kinds == 0) {
            return failure("EVENT" + std::string(event_negated ? "!=" : "=") + *value +
                           " leaves none of create, modify and delete");
        }
    }

    if (recursive_text) {
        const auto value = expand(*recursive_text);
        if (!value || (*value != "yes" && *value != "no")) {
            return failure("RECURSIVE=" + *recursive_text + ": it takes yes or no");
        }
        spec.recursive = *value == "yes";
        spec.recursive_text = *value;
        if (spec.recursive && spec.target == WatchSpec::Target::File) {
            return failure("FILE=" + raw +
                           " RECURSIVE=yes: a tree needs a directory (a FILE ending in /) or a "
                           "glob");
        }
    }
    return ParsedSpec{std::move(spec), {}};
}

}  // namespace tend::file_bridge
