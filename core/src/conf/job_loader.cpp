// SPDX-License-Identifier: MIT
#include "conf/job_loader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "model/shortage.hpp"
#include "tend/grammar/parse.hpp"

namespace tend::conf {

namespace {

bool anyError(const std::vector<grammar::Diagnostic>& diagnostics) {
    return std::any_of(diagnostics.begin(), diagnostics.end(), [](const grammar::Diagnostic& d) {
        return d.severity == grammar::Severity::Error;
    });
}

// Parses and applies one file onto `job`; returns false if it had errors.
enum class FileRole { Conf, Override };

bool applyFile(const grammar::SourceText& source, FileRole role, const StanzaRegistry& registry,
               model::JobClass& job, std::vector<grammar::Diagnostic>& out) {
    grammar::ParseResult parsed = grammar::parseJobFile(source);
    grammar::DiagnosticSink sink(source);
    registry.apply(parsed.ast, job, sink);
    // An empty `.conf` defines nothing; it is far more often a half-written or truncated file
    // than a wish, and treating it as an error keeps the last good definition in force.
    if (role == FileRole::Conf && parsed.ast.stanzas.empty() && parsed.ok()) {
        sink.error(0, "job file has no stanzas (is it empty or still being written?)");
    }
    auto semantic = sink.take();
    parsed.diagnostics.insert(parsed.diagnostics.end(), std::make_move_iterator(semantic.begin()),
                              std::make_move_iterator(semantic.end()));
    std::stable_sort(parsed.diagnostics.begin(), parsed.diagnostics.end(),
                     [](const grammar::Diagnostic& a, const grammar::Diagnostic& b) {
                         return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                     });
    const bool ok = !anyError(parsed.diagnostics);
    out.insert(out.end(), std::make_move_iterator(parsed.diagnostics.begin()),
               std::make_move_iterator(parsed.diagnostics.end()));
    return ok;
}

}  // namespace

bool LoadResult::hasErrors() const {
    return anyError(diagnostics);
}

grammar::Diagnostic fileDiagnostic(const std::filesystem::path& path, std::string message,
                                   grammar::Severity severity) {
    grammar::Diagnostic d;
    d.path = path.string();
    d.severity = severity;
    d.message = std::move(message);
    return d;
}

std::optional<grammar::SourceText> readSource(const std::filesystem::path& path,
                                              std::vector<grammar::Diagnostic>& problems) {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; a regular file
    // reads the same either way.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        const int error = errno;
        problems.push_back(
            fileDiagnostic(path, std::string("cannot open: ") + std::strerror(error)));
        problems.back().transient = model::isShortage(error);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        problems.push_back(fileDiagnostic(path, "not a regular file"));
        return std::nullopt;
    }
    if (static_cast<std::uint64_t>(st.st_size) > grammar::kMaxFileBytes) {
        ::close(fd);
        problems.push_back(fileDiagnostic(
            path, "file is " + std::to_string(st.st_size) + " bytes; job files are limited to " +
                      std::to_string(grammar::kMaxFileBytes) + " bytes"));
        return std::nullopt;
    }
    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    for (;;) {
        if (got == text.size()) {
            text.resize(text.size() + 4096);  // the file may have grown since fstat
        }
        const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            problems.push_back(
                fileDiagnostic(path, std::string("cannot read: ") + std::strerror(error)));
            problems.back().transient = model::isShortage(error);
            return std::nullopt;
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
        if (got > grammar::kMaxFileBytes) {
            break;  // the parser rejects it with the size in the message
        }
    }
    ::close(fd);
    text.resize(got);
    return grammar::SourceText(path.string(), std::move(text));
}

LoadResult loadJob(std::string name, const grammar::SourceText& conf,
                   const grammar::SourceText* override_text, const StanzaRegistry& registry) {
    LoadResult result;
    model::JobClass job;
    job.name = std::move(name);
    if (!applyFile(conf, FileRole::Conf, registry, job, result.diagnostics)) {
        return result;
    }
    if (override_text != nullptr) {
        model::JobClass merged = job;
        if (applyFile(*override_text, FileRole::Override, registry, merged, result.diagnostics)) {
            job = std::move(merged);
        } else {
            result.diagnostics.push_back(
                fileDiagnostic(override_text->path(),
                               "override ignored because of the errors above; '" + conf.path() +
                                   "' is in force alone",
                               grammar::Severity::Note));
        }
    }
    result.job = std::move(job);
    return result;
}

LoadResult loadJobFile(std::string name, const std::filesystem::path& path,
                       const StanzaRegistry& registry) {
    LoadResult result;
    auto conf = readSource(path, result.diagnostics);
    if (!conf) {
        return result;
    }
    std::filesystem::path override_path = path;
    override_path.replace_extension(".override");
    std::optional<grammar::SourceText> override_text;
    std::error_code ec;
    if (std::filesystem::exists(override_path, ec)) {
        override_text = readSource(override_path, result.diagnostics);
    }
    LoadResult loaded =
        loadJob(std::move(name), *conf, override_text ? &*override_text : nullptr, registry);
    loaded.diagnostics.insert(loaded.diagnostics.begin(), result.diagnostics.begin(),
                              result.diagnostics.end());
    return loaded;
}

std::vector<JobFile> findJobFiles(const std::filesystem::path& dir,
                                  std::vector<grammar::Diagnostic>& problems) {
    namespace fs = std::filesystem;
    std::vector<JobFile> files;
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
        problems.push_back(fileDiagnostic(dir, "cannot read job directory: " + ec.message()));
        problems.back().transient = model::isShortage(ec);
        return files;
    }
    // Which files have a .override comes from the same listing, so that a reload need not
    // look (and fail to find) one for every job.
    std::vector<std::string> overrides;
    // A failed step leaves the iterator at its end, so its error is looked at after the loop.
    for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
        const fs::path& path = it->path();
        const fs::path extension = path.extension();
        std::error_code entry_error;
        if ((extension != ".conf" && extension != ".override") || it->is_directory(entry_error)) {
            continue;
        }
        fs::path relative = path.lexically_relative(dir);
        relative.replace_extension();
        if (extension == ".override") {
            overrides.push_back(relative.generic_string());
            continue;
        }
        files.push_back({relative.generic_string(), path});
    }
    if (ec) {
        problems.push_back(fileDiagnostic(dir, "error while scanning: " + ec.message()));
        problems.back().transient = model::isShortage(ec);
    }
    std::sort(files.begin(), files.end(),
              [](const JobFile& a, const JobFile& b) { return a.name < b.name; });
    std::sort(overrides.begin(), overrides.end());
    for (auto& file : files) {
        file.has_override = std::binary_search(overrides.begin(), overrides.end(), file.name);
    }
    return files;
}

std::optional<JobFile> findJobFile(const std::filesystem::path& dir, const std::string& name) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path relative(name);
    if (name.empty() || relative.is_absolute() || !fs::is_directory(dir, ec)) {
        return std::nullopt;
    }
    // The listing skips what it cannot read, and does not follow a symlinked subdirectory (nor
    // does a name climb out of `dir`).
    const auto listable = [](const fs::path& directory) {
        return ::access(directory.c_str(), R_OK | X_OK) == 0;
    };
    if (!listable(dir)) {
        return std::nullopt;
    }
    fs::path at = dir;
    for (const fs::path& part : relative.parent_path()) {
        at /= part;
        if (part == ".." || part == "." || !fs::is_directory(fs::symlink_status(at, ec)) ||
            !listable(at)) {
            return std::nullopt;
        }
    }
    JobFile file{name, dir / (name + ".conf")};
    // As the listing: any entry but a directory (a symlink to one included).
    if (!fs::exists(fs::symlink_status(file.path, ec)) || fs::is_directory(file.path, ec)) {
        return std::nullopt;
    }
    const fs::path override_path = dir / (name + ".override");
    file.has_override =
        fs::exists(fs::symlink_status(override_path, ec)) && !fs::is_directory(override_path, ec);
    return file;
}

}  // namespace tend::conf
