// SPDX-License-Identifier: MIT
// The stanza registry turns a parsed job file into a JobClass. Each keyword maps to a handler;
// core stanzas register here exactly as plugin stanzas will, so there is no chain of
// `if (keyword == ...)` anywhere. A keyword no one claims is an error with a did-you-mean.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "model/job_class.hpp"
#include "tend/grammar/ast.hpp"
#include "tend/grammar/diagnostic.hpp"

namespace tend::conf {

// What a handler sees: the stanza, the JobClass being built, and helpers that report arity
// errors in the shared diagnostic format.
class StanzaContext {
  public:
    StanzaContext(const grammar::Stanza& stanza, model::JobClass& job,
                  grammar::DiagnosticSink& sink)
        : stanza_(stanza), job_(job), sink_(sink) {}

    const grammar::Stanza& stanza() const { return stanza_; }
    model::JobClass& job() { return job_; }
    std::size_t argCount() const { return stanza_.args.size(); }
    const grammar::Token& arg(std::size_t index) const { return stanza_.args.at(index); }

    // Checks that exactly `count` arguments follow the first `consumed` ones. `what` names the
    // missing value ("a signal name or number"). Reports and returns false otherwise.
    bool expectArgs(std::size_t consumed, std::size_t count, std::string_view what);
    // Checks for at least one argument after `consumed`.
    bool expectSomeArgs(std::size_t consumed, std::string_view what);

    void error(std::uint32_t offset, std::string message) {
        sink_.error(offset, std::move(message));
    }
    void warning(std::uint32_t offset, std::string message) {
        sink_.warning(offset, std::move(message));
    }
    // Where a missing argument would have started: just past the last token on the line.
    std::uint32_t endOffset() const;
    // The keyword and the first `words` arguments, as the user wrote them: "kill timeout".
    std::string spelled(std::size_t words) const;
    // The raw source text of an argument, for messages.
    std::string raw(std::size_t index) const;
    // The rest of the line from argument `index` on, raw (quotes kept, continuations collapsed):
    // what `exec` runs.
    std::string commandFrom(std::size_t index) const;

  private:
    const grammar::Stanza& stanza_;
    model::JobClass& job_;
    grammar::DiagnosticSink& sink_;
};

using StanzaHandler = std::function<void(StanzaContext&)>;

class StanzaRegistry {
  public:
    struct Entry {
        std::string keyword;
        std::string owner;  // "core" or the plugin that registered it
        StanzaHandler handler;
    };

    // A registry holding the 35 Upstart stanzas plus tend's own.
    static StanzaRegistry withCoreStanzas();

    // Returns false if the keyword is already taken. A keyword may be two words, `log rotate`:
    // a plugin's sub-stanza beside a core stanza (`log timestamp`). It wins over the one-word
    // keyword when the stanza's first argument is its second word, and its handler sees the
    // arguments after that word.
    bool add(std::string keyword, std::string owner, StanzaHandler handler);
    bool remove(std::string_view keyword);
    const Entry* find(std::string_view keyword) const;
    std::vector<std::string_view> keywords() const;

    // The closest registered keyword within a small edit distance, or empty.
    std::string suggest(std::string_view unknown) const;

    // Applies every stanza in order. Used twice for a job with an override: the `.override`
    // file's stanzas are applied over the `.conf` result, which is Upstart's merge rule.
    void apply(const grammar::JobFileAst& ast, model::JobClass& job,
               grammar::DiagnosticSink& sink) const;

    // A copy for use on another thread: core stanzas as they are, each plugin's stanza through
    // `plugin_handler(entry)` instead of its own handler, whose code is the plugin's (not
    // thread-safe, and unloaded with the plugin).
    StanzaRegistry withPluginStanzasThrough(
        const std::function<StanzaHandler(const Entry&)>& plugin_handler) const;
    // A plugin's stanza whose plugin has gone: a job file that uses it gets "needs plugin X"
    // rather than "unknown stanza".
    void retire(std::string keyword, std::string owner) {
        two_word_keywords_ += keyword.find(' ') != std::string::npos;
        retired_[std::move(keyword)] = std::move(owner);
    }

  private:
    std::map<std::string, Entry, std::less<>> entries_;
    std::map<std::string, std::string, std::less<>> retired_;
    std::size_t two_word_keywords_ = 0;  // ever added or retired: 0 spares the lookup
};

void registerCoreStanzas(StanzaRegistry& registry);

}  // namespace tend::conf
