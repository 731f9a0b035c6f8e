// SPDX-License-Identifier: MIT
#include "conf/stanza_registry.hpp"

#include <algorithm>
#include <cctype>

#include "tend/grammar/quoting.hpp"

namespace tend::conf {

namespace {

// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring letters (`exce` -> `exec`) each cost one. Case is ignored.
std::size_t editDistance(std::string_view a, std::string_view b) {
    const auto same = [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    };
    const std::size_t width = b.size() + 1;
    std::vector<std::size_t> d((a.size() + 1) * width);
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i * width] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t best =
                std::min({d[(i - 1) * width + j] + 1, d[i * width + j - 1] + 1,
                          d[(i - 1) * width + j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
            if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1])) {
                best = std::min(best, d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    return d[a.size() * width + b.size()];
}

bool looksLikeShell(const StanzaContext& context) {
    return context.argCount() > 0 &&
           context.commandFrom(0).find_first_of("|;&><`$") != std::string::npos;
}

}  // namespace

std::uint32_t StanzaContext::endOffset() const {
    if (stanza_.args.empty()) {
        return stanza_.offset + static_cast<std::uint32_t>(stanza_.keyword.size());
    }
    const auto& last = stanza_.args.back();
    return last.offset + last.length;
}

std::string StanzaContext::spelled(std::size_t words) const {
    std::string out = stanza_.keyword;
    for (std::size_t i = 0; i < words && i < stanza_.args.size(); ++i) {
        out += ' ';
        out += raw(i);
    }
    return out;
}

std::string StanzaContext::raw(std::size_t index) const {
    const auto& token = stanza_.args.at(index);
    const std::string& text = sink_.source().text();
    return text.substr(token.offset, token.length);
}

std::string StanzaContext::commandFrom(std::size_t index) const {
    if (index >= stanza_.args.size()) {
        return {};
    }
    const auto& first = stanza_.args[index];
    const auto& last = stanza_.args.back();
    const std::string_view text = sink_.source().text();
    return grammar::collapseCommand(
        text.substr(first.offset, last.offset + last.length - first.offset));
}

bool StanzaContext::expectArgs(std::size_t consumed, std::size_t count, std::string_view what) {
    const std::size_t have = stanza_.args.size();
    if (have < consumed + count) {
        error(endOffset(), "expected " + std::string(what) + " after '" + spelled(have) + "'");
        return false;
    }
    if (have > consumed + count) {
        std::string message =
            "unexpected '" + raw(consumed + count) + "' after '" + spelled(consumed + count) + "'";
        message += count == 0   ? ": it takes no values"
                   : count == 1 ? ": it takes one value (quote text that contains spaces)"
                                : ": too many values";
        error(stanza_.args[consumed + count].offset, std::move(message));
        return false;
    }
    return true;
}

bool StanzaContext::expectSomeArgs(std::size_t consumed, std::string_view what) {
    if (stanza_.args.size() <= consumed) {
        error(endOffset(), "expected " + std::string(what) + " after '" + spelled(consumed) + "'");
        return false;
    }
    return true;
}

StanzaRegistry StanzaRegistry::withCoreStanzas() {
    StanzaRegistry registry;
    registerCoreStanzas(registry);
    return registry;
}

bool StanzaRegistry::add(std::string keyword, std::string owner, StanzaHandler handler) {
    if (entries_.contains(keyword)) {
        return false;
    }
    retired_.erase(keyword);
    two_word_keywords_ += keyword.find(' ') != std::string::npos;
    Entry entry{keyword, std::move(owner), std::move(handler)};
    entries_.emplace(std::move(keyword), std::move(entry));
    return true;
}

bool StanzaRegistry::remove(std::string_view keyword) {
    const auto it = entries_.find(keyword);
    if (it == entries_.end()) {
        return false;
    }
    entries_.erase(it);
    return true;
}

const StanzaRegistry::Entry* StanzaRegistry::find(std::string_view keyword) const {
    const auto it = entries_.find(keyword);
    return it == entries_.end() ? nullptr : &it->second;
}

StanzaRegistry StanzaRegistry::withPluginStanzasThrough(
    const std::function<StanzaHandler(const Entry&)>& plugin_handler) const {
    StanzaRegistry copy;
    copy.retired_ = retired_;
    copy.two_word_keywords_ = two_word_keywords_;
    for (const auto& [keyword, entry] : entries_) {
        copy.entries_.emplace(keyword,
                              Entry{entry.keyword, entry.owner,
                                    entry.owner == "core" ? entry.handler : plugin_handler(entry)});
    }
    return copy;
}

std::vector<std::string_view> StanzaRegistry::keywords() const {
    std::vector<std::string_view> out;
    out.reserve(entries_.size());
    for (const auto& [keyword, entry] : entries_) {
        out.push_back(keyword);
    }
    return out;
}

std::string StanzaRegistry::suggest(std::string_view unknown) const {
    std::string best;
    // One edit for short words, two for longer ones: `go` is not a typo of `oom`.
    std::size_t best_distance = unknown.size() <= 4 ? 2 : 3;
    for (const auto& [keyword, entry] : entries_) {
        const std::size_t distance = editDistance(unknown, keyword);
        if (distance < best_distance) {
            best_distance = distance;
            best = keyword;
        }
    }
    return best;
}

void StanzaRegistry::apply(const grammar::JobFileAst& ast, model::JobClass& job,
                           grammar::DiagnosticSink& sink) const {
    for (const grammar::Stanza& whole : ast.stanzas) {
        // `log rotate ...` goes to a two-word keyword's handler as `log rotate` with the rest.
        const grammar::Stanza* chosen = &whole;
        grammar::Stanza two_words;
        if (two_word_keywords_ > 0 && !whole.args.empty()) {
            const std::string keyword = whole.keyword + " " + whole.args.front().text;
            if (entries_.contains(keyword) || retired_.contains(keyword)) {
                two_words = whole;
                two_words.keyword = keyword;
                two_words.args.erase(two_words.args.begin());
                chosen = &two_words;
            }
        }
        const grammar::Stanza& stanza = *chosen;
        if (const Entry* entry = find(stanza.keyword)) {
            StanzaContext context(stanza, job, sink);
            entry->handler(context);
            continue;
        }
        if (const auto retired = retired_.find(stanza.keyword); retired != retired_.end()) {
            sink.error(stanza.offset, "stanza '" + stanza.keyword + "' needs plugin " +
                                          retired->second + ", which is not loaded");
            continue;
        }
        std::string message = "unknown stanza '" + stanza.keyword + "'";
        StanzaContext context(stanza, job, sink);
        if (looksLikeShell(context)) {
            message += "; a command line belongs after 'exec' or inside a 'script' block";
        } else if (const std::string near = suggest(stanza.keyword); !near.empty()) {
            message += "; did you mean '" + near + "'?";
        }
        sink.error(stanza.offset, std::move(message));
    }
}

}  // namespace tend::conf
