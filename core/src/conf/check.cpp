// SPDX-License-Identifier: MIT
#include "conf/check.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tend/grammar/parse.hpp"

namespace tend::conf {

namespace {

std::size_t countIn(const CheckedFile& file, grammar::Severity severity) {
    return static_cast<std::size_t>(
        std::count_if(file.findings.begin(), file.findings.end(),
                      [&](const CheckFinding& f) { return f.diagnostic.severity == severity; }));
}

std::vector<CheckFinding> syntaxFindings(std::vector<grammar::Diagnostic> diagnostics) {
    std::vector<CheckFinding> out;
    out.reserve(diagnostics.size());
    for (auto& d : diagnostics) {
        out.push_back({FindingKind::Syntax, std::move(d)});
    }
    return out;
}

void checkFile(const std::string& name, const std::filesystem::path& path,
               const StanzaRegistry& registry, CheckReport& report) {
    LoadResult result = loadJobFile(name, path, registry);
    report.files.push_back({name, path.string(), syntaxFindings(std::move(result.diagnostics)),
                            std::move(result.job)});
}

// Finds where a loaded job's stanzas were written. The JobClass keeps the byte offsets of its
// conditions' operands but not which file, the `.conf` or its `.override`, they came from, so
// the files are read and parsed again, only for jobs that have something to report.
class StanzaLocator {
  public:
    explicit StanzaLocator(const CheckedFile& file) : conf_path_(file.path) {
        std::vector<grammar::Diagnostic> unreadable;
        add(conf_path_, unreadable);
        std::filesystem::path override_path = conf_path_;
        override_path.replace_extension(".override");
        std::error_code ec;
        // An override with errors was ignored, so none of its stanzas is in force.
        const bool ignored =
            std::any_of(file.findings.begin(), file.findings.end(), [&](const CheckFinding& f) {
                return f.diagnostic.severity == grammar::Severity::Error &&
                       f.diagnostic.path == override_path.string();
            });
        if (!ignored && std::filesystem::exists(override_path, ec)) {
            add(override_path, unreadable);
        }
    }

    grammar::Diagnostic locate(const model::JobClass& job, const LintFinding& finding) const {
        const Site site = find(job, finding.stanza);
        if (site.file == nullptr) {
            return fileDiagnostic(conf_path_, finding.message, finding.severity);
        }
        grammar::DiagnosticSink sink(site.file->source);
        sink.report(finding.offset.value_or(site.stanza->offset), finding.severity,
                    finding.message);
        return sink.take().front();
    }

  private:
    struct Parsed {
        grammar::SourceText source;
        grammar::JobFileAst ast;
    };
    struct Site {
        const Parsed* file = nullptr;
        const grammar::Stanza* stanza = nullptr;
    };

    void add(const std::filesystem::path& path, std::vector<grammar::Diagnostic>& unreadable) {
        if (auto source = readSource(path, unreadable)) {
            auto parsed = grammar::parseJobFile(*source);
            files_.push_back({std::move(*source), std::move(parsed.ast)});
        }
    }

    // The occurrence in force: the last one, and the override's before the `.conf`'s. For
    // `start on` / `stop on`, the one whose condition is the job's, since `manual` may have
    // dropped the last one written.
    Site find(const model::JobClass& job, const std::string& stanza) const {
        const auto space = stanza.find(' ');
        const std::string keyword = stanza.substr(0, space);
        const std::string first_arg = space == std::string::npos ? "" : stanza.substr(space + 1);
        const grammar::EventCondition* condition = nullptr;
        if (stanza == "start on" || stanza == "stop on") {
            const auto& wanted = stanza == "start on" ? job.start_on : job.stop_on;
            if (!wanted) {
                return {};
            }
            condition = &*wanted;
        }
        for (auto file = files_.rbegin(); file != files_.rend(); ++file) {
            const auto& stanzas = file->ast.stanzas;
            for (auto it = stanzas.rbegin(); it != stanzas.rend(); ++it) {
                if (it->keyword != keyword ||
                    (!first_arg.empty() && (it->args.empty() || it->args[0].text != first_arg))) {
                    continue;
                }
                if (condition != nullptr && (!it->condition || !(*it->condition == *condition))) {
                    continue;
                }
                return {&*file, &*it};
            }
        }
        return {};
    }

    std::filesystem::path conf_path_;
    std::vector<Parsed> files_;
};

EventSources sessionSources(const CheckReport& report, const StanzaRegistry& registry,
                            const CheckOptions& options) {
    EventSources sources;
    for (const auto& file : report.files) {
        if (file.job_class) {
            sources.addJob(*file.job_class);
        } else if (!file.job.empty()) {
            sources.addJobName(file.job);
        }
    }
    for (const auto& dir : options.context) {
        std::vector<grammar::Diagnostic> ignored;
        for (const JobFile& file : findJobFiles(dir, ignored)) {
            LoadResult loaded = loadJobFile(file.name, file.path, registry);
            if (loaded.job) {
                sources.addJob(*loaded.job);
            } else {
                sources.addJobName(file.name);
            }
        }
    }
    for (const auto& pattern : options.assumed_events) {
        sources.assumeEvents(pattern);
    }
    for (const auto& pattern : options.provided_jobs) {
        sources.assumeJobs(pattern);
    }
    if (options.loaded_plugins) {
        sources.setLoadedPlugins(*options.loaded_plugins);
    }
    return sources;
}

void lint(CheckReport& report, const StanzaRegistry& registry, const CheckOptions& options) {
    const EventSources sources = sessionSources(report, registry, options);
    for (auto& file : report.files) {
        if (!file.job_class) {
            continue;
        }
        const auto findings = lintJob(*file.job_class, sources);
        if (findings.empty()) {
            continue;
        }
        const StanzaLocator locator(file);
        for (const auto& finding : findings) {
            file.findings.push_back({finding.kind, locator.locate(*file.job_class, finding)});
        }
    }
}

std::string counted(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + ' ' + (n == 1 ? one : many);
}

}  // namespace

std::size_t CheckReport::errorCount() const {
    std::size_t total = 0;
    for (const auto& file : files) {
        total += countIn(file, grammar::Severity::Error);
    }
    return total;
}

std::size_t CheckReport::warningCount() const {
    std::size_t total = 0;
    for (const auto& file : files) {
        total += countIn(file, grammar::Severity::Warning);
    }
    return total;
}

std::size_t CheckReport::filesWithErrors() const {
    return static_cast<std::size_t>(std::count_if(files.begin(), files.end(), [](const auto& f) {
        return countIn(f, grammar::Severity::Error) > 0;
    }));
}

bool CheckReport::failed(bool warnings_fail) const {
    return errorCount() > 0 || (warnings_fail && warningCount() > 0);
}

std::string CheckReport::text() const {
    std::string out;
    for (const auto& file : files) {
        for (const auto& finding : file.findings) {
            out += finding.diagnostic.format();
        }
    }
    const std::size_t errors = errorCount();
    const std::size_t warnings = warningCount();
    out += counted(files.size(), "job file", "job files") + " checked: ";
    out += errors == 0 ? "no errors"
                       : counted(errors, "error", "errors") + " in " +
                             std::to_string(filesWithErrors()) + " of them";
    if (warnings > 0) {
        out += ", " + counted(warnings, "warning", "warnings");
    }
    out += '\n';
    return out;
}

std::string CheckReport::json(bool warnings_fail) const {
    return jsonText(document(warnings_fail));
}

std::string CheckReport::jsonText(const nlohmann::json& document) {
    return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

void CheckReport::showPathsAsGiven(const std::filesystem::path& base,
                                   const std::vector<std::filesystem::path>& given) {
    const auto shown = [&](const std::string& path) -> std::string {
        const auto full = std::filesystem::path(path).lexically_normal();
        for (const auto& as_given : given) {
            if (!as_given.is_relative()) {
                continue;
            }
            const auto below = full.lexically_relative((base / as_given).lexically_normal());
            if (below.empty() || *below.begin() == "..") {
                continue;
            }
            return below == "." ? as_given.string() : (as_given / below).string();
        }
        return path;
    };
    for (auto& file : files) {
        file.path = shown(file.path);
        for (auto& finding : file.findings) {
            finding.diagnostic.path = shown(finding.diagnostic.path);
        }
    }
}

nlohmann::json CheckReport::document(bool warnings_fail) const {
    nlohmann::json files_json = nlohmann::json::array();
    nlohmann::json all = nlohmann::json::array();
    for (const auto& file : files) {
        nlohmann::json diagnostics = nlohmann::json::array();
        for (const auto& [kind, d] : file.findings) {
            nlohmann::json entry{{"path", d.path},
                                 {"line", d.line},
                                 {"column", d.column},
                                 {"severity", grammar::severityName(d.severity)},
                                 {"kind", findingKindName(kind)},
                                 {"message", d.message}};
            diagnostics.push_back(entry);
            entry["job"] = file.job;
            all.push_back(std::move(entry));
        }
        files_json.push_back({{"job", file.job},
                              {"path", file.path},
                              {"loaded", file.job_class.has_value()},
                              {"diagnostics", std::move(diagnostics)}});
    }
    return nlohmann::json{{"files", std::move(files_json)},
                          {"findings", std::move(all)},
                          {"errors", errorCount()},
                          {"warnings", warningCount()},
                          {"ok", !failed(warnings_fail)}};
}

CheckReport checkPaths(const std::vector<std::filesystem::path>& paths,
                       const StanzaRegistry& registry, const CheckOptions& options) {
    CheckReport report;
    for (const auto& path : paths) {
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) {
            std::vector<grammar::Diagnostic> problems;
            for (const JobFile& file : findJobFiles(path, problems)) {
                checkFile(file.name, file.path, registry, report);
            }
            if (!problems.empty()) {
                report.files.push_back(
                    {"", path.string(), syntaxFindings(std::move(problems)), std::nullopt});
            }
            continue;
        }
        if (path.extension() == ".override") {
            std::filesystem::path conf = path;
            conf.replace_extension(".conf");
            if (!std::filesystem::exists(conf, ec)) {
                report.files.push_back(
                    {"", path.string(),
                     syntaxFindings({fileDiagnostic(path,
                                                    "override has no '" + conf.filename().string() +
                                                        "' beside it, so it applies to nothing",
                                                    grammar::Severity::Warning)}),
                     std::nullopt});
                continue;
            }
            checkFile(conf.stem().string(), conf, registry, report);
            continue;
        }
        checkFile(path.stem().string(), path, registry, report);
    }
    if (options.lint) {
        lint(report, registry, options);
    }
    return report;
}

}  // namespace tend::conf
