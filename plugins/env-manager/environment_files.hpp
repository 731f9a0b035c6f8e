// SPDX-License-Identifier: MIT
// environment.d files, as systemd's environment.d(5) has them, kept simple: one `KEY=VALUE` a
// line, `#` comments and blank lines skipped, blanks around the line and the `=` dropped, a
// value wholly in matching quotes taken without them, and `$VAR`, `${VAR}`, `${VAR:-default}`
// and `${VAR:+alternate}` expanded against what is set already (an unset variable expands to
// nothing; `\$` is a plain `$`). A bad line is reported as `file:line:col: error: ...` and
// skipped; the rest applies.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tend::env_manager {

struct FileAssignment {
    std::string name;
    std::string value;
    std::string where;  // "file:line", for the variable's origin
};

// A variable's value as the lines so far see it, or nullopt when unset.
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

// Expands `text` (a value) by the rules above. On a malformed reference, returns nullopt with
// the problem in `error` and its 0-based offset in `at`.
std::optional<std::string> expandValue(std::string_view text, const Lookup& lookup,
                                       std::string& error, std::size_t& at);

// Reads one file's text, `label` naming it in diagnostics and origins. Each good line is
// expanded against the assignments before it in `out` (this file's and earlier files'), then
// `below`, and appended to `out`; each bad one adds a diagnostic to `errors`.
void parseEnvironmentFile(std::string_view text, const std::string& label, const Lookup& below,
                          std::vector<FileAssignment>& out, std::vector<std::string>& errors);

bool validVariableName(std::string_view name);

}  // namespace tend::env_manager
