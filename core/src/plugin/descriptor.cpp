// SPDX-License-Identifier: MIT
#include "plugin/descriptor.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace tend::plugin {

namespace {

constexpr std::size_t kMaxPluginBytes = 256u << 20;
constexpr std::string_view kSection = ".tend_plugin";

std::vector<std::string> splitList(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view item = text.substr(start, end - start);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (!item.empty()) {
            out.emplace_back(item);
        }
        start = end + 1;
    }
    return out;
}

// The section holds NUL-terminated strings in the order the linker put them: TEND_PLUGIN's
// descriptor and, when the plugin declares its events, TEND_PLUGIN_EMITS's.
std::vector<std::string_view> sectionStrings(std::string_view section) {
    std::vector<std::string_view> out;
    while (!section.empty()) {
        const auto nul = section.find('\0');
        const std::string_view text = section.substr(0, nul);
        if (!text.empty()) {
            out.push_back(text);
        }
        section = nul == std::string_view::npos ? std::string_view{} : section.substr(nul + 1);
    }
    return out;
}

constexpr std::string_view kEmitsHeader = "tend-plugin-emits\n";

}  // namespace

std::variant<Descriptor, std::string> parseDescriptor(std::string_view section) {
    std::string_view text;
    std::vector<std::string> emits;
    for (const std::string_view part : sectionStrings(section)) {
        if (part.starts_with(kEmitsHeader)) {
            for (std::string_view rest = part.substr(kEmitsHeader.size()); !rest.empty();) {
                const auto end = rest.find('\n');
                const std::string_view line = rest.substr(0, end);
                if (line.starts_with("emits=")) {
                    const auto listed = splitList(line.substr(6));
                    emits.insert(emits.end(), listed.begin(), listed.end());
                }
                rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
            }
        } else if (text.empty()) {
            text = part;
        }
    }
    if (!text.starts_with("tend-plugin\n")) {
        return std::string("its .tend_plugin section is not a tend plugin descriptor");
    }
    Descriptor descriptor;
    bool api_seen = false;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        const std::string_view key = line.substr(0, eq);
        const std::string_view value = line.substr(eq + 1);
        if (key == "name") {
            descriptor.name = value;
        } else if (key == "version") {
            descriptor.version = value;
        } else if (key == "api") {
            api_seen = true;
            descriptor.api_version = std::atoi(std::string(value).c_str());
        } else if (key == "requires") {
            descriptor.requires_plugins = splitList(value);
        } else if (key == "optional") {
            descriptor.optional_plugins = splitList(value);
        } else if (key == "provides") {
            descriptor.provides = splitList(value);
        }
    }
    descriptor.emits = std::move(emits);
    if (descriptor.name.empty() || !api_seen) {
        return std::string("its descriptor has no name or no API version");
    }
    for (char c : descriptor.name) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
            return "its name '" + descriptor.name + "' is not made of letters, digits, - and _";
        }
    }
    return descriptor;
}

std::variant<Descriptor, std::string> readDescriptor(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::string("cannot open: ") + std::strerror(errno);
    }
    struct stat st {};
    std::string bytes;
    if (::fstat(fd, &st) == 0 && st.st_size > 0 &&
        static_cast<std::size_t>(st.st_size) <= kMaxPluginBytes) {
        bytes.resize(static_cast<std::size_t>(st.st_size));
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
            if (n <= 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        bytes.resize(done);
    }
    ::close(fd);
    if (bytes.size() < sizeof(Elf64_Ehdr)) {
        return std::string("not a plugin: the file is too short to be a shared library");
    }
    Elf64_Ehdr header;
    std::memcpy(&header, bytes.data(), sizeof header);
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
        return std::string("not a plugin: not an ELF file");
    }
    if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
        header.e_machine != EM_X86_64 || header.e_type != ET_DYN) {
        return std::string("not a plugin: not a 64-bit x86-64 shared library");
    }
    const auto within = [&](std::uint64_t offset, std::uint64_t size) {
        return offset <= bytes.size() && size <= bytes.size() - offset;
    };
    // Every loadable segment must be in the file: a half-copied library crashes dlopen.
    if (!within(header.e_phoff, std::uint64_t(header.e_phnum) * sizeof(Elf64_Phdr))) {
        return std::string("truncated: its program headers run past the end of the file");
    }
    for (unsigned i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment;
        std::memcpy(&segment, bytes.data() + header.e_phoff + i * sizeof(Elf64_Phdr),
                    sizeof segment);
        if (segment.p_type == PT_LOAD && !within(segment.p_offset, segment.p_filesz)) {
            return std::string(
                "truncated: a loadable segment runs past the end of the file "
                "(was it still being copied?)");
        }
    }
    if (header.e_shentsize != sizeof(Elf64_Shdr) ||
        !within(header.e_shoff, std::uint64_t(header.e_shnum) * sizeof(Elf64_Shdr)) ||
        header.e_shstrndx >= header.e_shnum) {
        return std::string("truncated: its section headers run past the end of the file");
    }
    const auto sectionAt = [&](unsigned index) {
        Elf64_Shdr section;
        std::memcpy(&section, bytes.data() + header.e_shoff + index * sizeof(Elf64_Shdr),
                    sizeof section);
        return section;
    };
    const Elf64_Shdr names = sectionAt(header.e_shstrndx);
    if (!within(names.sh_offset, names.sh_size)) {
        return std::string("truncated: its section names run past the end of the file");
    }
    for (unsigned i = 0; i < header.e_shnum; ++i) {
        const Elf64_Shdr section = sectionAt(i);
        if (section.sh_name >= names.sh_size) {
            continue;
        }
        const char* name = bytes.data() + names.sh_offset + section.sh_name;
        const std::size_t max = names.sh_size - section.sh_name;
        if (std::string_view(name, strnlen(name, max)) != kSection) {
            continue;
        }
        if (!within(section.sh_offset, section.sh_size)) {
            return std::string("truncated: its descriptor runs past the end of the file");
        }
        return parseDescriptor(std::string_view(bytes.data() + section.sh_offset, section.sh_size));
    }
    return std::string("not a tend plugin: it has no descriptor (built without TEND_PLUGIN?)");
}

}  // namespace tend::plugin
