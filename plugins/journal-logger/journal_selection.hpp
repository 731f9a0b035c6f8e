// SPDX-License-Identifier: MIT
// Which jobs journal-logger copies to the journal: `setting jobs all` (the default) or `setting
// jobs NAME,NAME...` in plugins.d/journal-logger.conf, and a job's own `journal on|off` stanza
// over that.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tend::journal {

class JobSelection {
  public:
    // `all`, or names separated by commas (spaces around them are ignored). Returns the error
    // text, or empty with the selection set; on error the selection is left as it was.
    std::string applySetting(std::string_view text);

    // A job file's `journal` stanza: `on` or `off`. nullopt (with `error` set) for anything
    // else.
    static std::optional<bool> parseStanza(const std::vector<std::string>& args,
                                           std::string* error = nullptr);

    // The job's stanza, or none (nullopt) when its file has none or it is removed.
    void setOverride(const std::string& job, std::optional<bool> on);

    bool selected(std::string_view job) const;
    bool all() const { return all_; }
    const std::set<std::string, std::less<>>& names() const { return names_; }

  private:
    bool all_ = true;
    std::set<std::string, std::less<>> names_;
    std::map<std::string, bool, std::less<>> overrides_;
};

}  // namespace tend::journal
