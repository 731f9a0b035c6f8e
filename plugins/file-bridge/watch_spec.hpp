// SPDX-License-Identifier: MIT
// What one `file FILE=... EVENT=...` match of a job asks to watch, and the path helpers the
// watching shares.
//
// A WatchSpec is the parsed form: the FILE text that events carry (the job's own words, so that
// its condition matches them), the absolute path it names, whether that is a file, a directory
// (a trailing `/`) or a glob over a directory's entries, which kinds of change the job can match,
// and whether a directory is watched as a whole tree (RECURSIVE=yes). Equal specs are watched
// once however many jobs share them.
#pragma once

#include <tend/plugin/plugin.hpp>

#include <compare>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tend::file_bridge {

// The kinds of change, as bits (a spec wants a set of them) and as the EVENT value.
enum Kind : unsigned { Create = 1, Modify = 2, Delete = 4 };
inline constexpr unsigned kAllKinds = Create | Modify | Delete;
std::string_view kindName(Kind kind);

struct WatchSpec {
    enum class Target { File, Directory, Glob };
    // FILE as the events carry it: what the job wrote, with $VARs expanded the way its condition
    // expands them and a leading `~` (or a path relative to $HOME) left as written.
    std::string file;
    // Absolute and normalised (no `//`, no `/./`, no trailing `/` but for the root). For a glob,
    // the directory part.
    std::string path;
    std::string glob;  // the last component's pattern, for Target::Glob
    Target target = Target::File;
    unsigned kinds = kAllKinds;
    bool recursive = false;
    // RECURSIVE as the job wrote it: the event echoes it back, or the job's condition (which
    // needs every KEY it names) would never match.
    std::string recursive_text;

    friend auto operator<=>(const WatchSpec&, const WatchSpec&) = default;
};

// Expands `$VAR`, `${VAR:-x}` and a leading `~` as PluginHost::expand() does.
using Expander = std::function<std::optional<std::string>(std::string_view)>;

struct ParsedSpec {
    std::optional<WatchSpec> spec;
    std::string error;  // why the match cannot be watched, when spec is empty
};

ParsedSpec parseWatchSpec(const plugin::EventMatch& match, const Expander& expand);

// fnmatch(3) with FNM_PATHNAME | FNM_PERIOD: `*` matches neither `/` nor a leading dot.
bool globMatches(const std::string& pattern, const std::string& name);
bool hasGlob(std::string_view text);

// Collapses `//` and `/./` and drops a trailing `/` (but keeps "/"); `..` is left to the caller.
std::string normalisePath(std::string_view path);
std::string joinPath(std::string_view dir, std::string_view name);
std::string parentOf(std::string_view path);  // "/" for "/x" and for "/"
std::string baseName(std::string_view path);
// Whether `path` is `ancestor` or lies below it.
bool isSelfOrBelow(std::string_view path, std::string_view ancestor);

}  // namespace tend::file_bridge
