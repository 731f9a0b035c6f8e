// SPDX-License-Identifier: MIT
#include "conf/check.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tend::conf {

namespace {

std::size_t errorsIn(const CheckedFile& file) {
    return static_cast<std::size_t>(std::count_if(
        file.diagnostics.begin(), file.diagnostics.end(),
        [](const grammar::Diagnostic& d) { return d.severity == grammar::Severity::Error; }));
}

void checkFile(const std::string& name, const std::filesystem::path& path,
               const StanzaRegistry& registry, CheckReport& report) {
    LoadResult result = loadJobFile(name, path, registry);
    report.files.push_back(
        {name, path.string(), std::move(result.diagnostics), std::move(result.job)});
}

}  // namespace

std::size_t CheckReport::errorCount() const {
    std::size_t total = 0;
    for (const auto& file : files) {
        total += errorsIn(file);
    }
    return total;
}

std::size_t CheckReport::filesWithErrors() const {
    return static_cast<std::size_t>(std::count_if(
        files.begin(), files.end(), [](const CheckedFile& f) { return errorsIn(f) > 0; }));
}

std::string CheckReport::text() const {
    std::string out;
    for (const auto& file : files) {
        for (const auto& diagnostic : file.diagnostics) {
            out += diagnostic.format();
        }
    }
    const std::size_t errors = errorCount();
    out += std::to_string(files.size()) + (files.size() == 1 ? " job file" : " job files") +
           " checked: ";
    out += errors == 0 ? "no errors"
                       : std::to_string(errors) + (errors == 1 ? " error" : " errors") + " in " +
                             std::to_string(filesWithErrors()) + " of them";
    out += '\n';
    return out;
}

std::string CheckReport::json() const {
    nlohmann::json files_json = nlohmann::json::array();
    for (const auto& file : files) {
        nlohmann::json diagnostics = nlohmann::json::array();
        for (const auto& d : file.diagnostics) {
            diagnostics.push_back({{"path", d.path},
                                   {"line", d.line},
                                   {"column", d.column},
                                   {"severity", grammar::severityName(d.severity)},
                                   {"message", d.message}});
        }
        files_json.push_back({{"job", file.job},
                              {"path", file.path},
                              {"loaded", file.job_class.has_value()},
                              {"diagnostics", std::move(diagnostics)}});
    }
    const nlohmann::json doc{
        {"files", std::move(files_json)}, {"errors", errorCount()}, {"ok", errorCount() == 0}};
    return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

CheckReport checkPaths(const std::vector<std::filesystem::path>& paths,
                       const StanzaRegistry& registry) {
    CheckReport report;
    for (const auto& path : paths) {
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec)) {
            std::vector<grammar::Diagnostic> problems;
            for (const JobFile& file : findJobFiles(path, problems)) {
                checkFile(file.name, file.path, registry, report);
            }
            if (!problems.empty()) {
                report.files.push_back({"", path.string(), std::move(problems), std::nullopt});
            }
            continue;
        }
        if (path.extension() == ".override") {
            std::filesystem::path conf = path;
            conf.replace_extension(".conf");
            if (!std::filesystem::exists(conf, ec)) {
                report.files.push_back(
                    {"",
                     path.string(),
                     {fileDiagnostic(path,
                                     "override has no '" + conf.filename().string() +
                                         "' beside it, so it applies to nothing",
                                     grammar::Severity::Warning)},
                     std::nullopt});
                continue;
            }
            checkFile(conf.stem().string(), conf, registry, report);
            continue;
        }
        checkFile(path.stem().string(), path, registry, report);
    }
    return report;
}

}  // namespace tend::conf
