// SPDX-License-Identifier: MIT
// The inotify side: the system calls (behind a seam the tests can replace), and the table of
// watched directories.
//
// Every watch is on a directory, never on a file: a file is watched through its directory, so
// that it can come and go. One inotify watch serves every spec that cares about a directory;
// the table maps each watch descriptor to the Interests in it, indexed by entry name where the
// interest is in one name, so that an event costs a hash lookup plus the patterns.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tend::file_bridge {

// One event as read from inotify.
struct RawEvent {
    int wd = -1;
    std::uint32_t mask = 0;
    std::string name;
};

// inotify_add_watch and inotify_rm_watch. addWatch returns the watch descriptor, or -errno.
class InotifyCalls {
  public:
    virtual ~InotifyCalls() = default;
    virtual int addWatch(const std::string& path, std::uint32_t mask) = 0;
    virtual void removeWatch(int wd) = 0;
};

// The real thing: an inotify instance, non-blocking and close-on-exec.
class Inotify final : public InotifyCalls {
  public:
    Inotify();  // throws std::system_error when inotify_init1 fails
    ~Inotify() override;
    Inotify(const Inotify&) = delete;
    Inotify& operator=(const Inotify&) = delete;

    int fd() const { return fd_; }
    int addWatch(const std::string& path, std::uint32_t mask) override;
    void removeWatch(int wd) override;
    // Reads what is queued, up to about `limit` events, until the queue is empty (EAGAIN).
    // Returns false if it stopped at the limit with more perhaps left.
    bool read(std::deque<RawEvent>& out, std::size_t limit);

  private:
    int fd_ = -1;
};

// One spec's interest in one directory.
struct Interest {
    enum class Kind {
        Name,     // one entry: a watched file, or a watched directory as an entry of its parent
        Entries,  // every entry, or those matching `name` as a glob
        Toward,   // `name` is the next step down to a directory that does not exist yet
    };
    Kind kind = Kind::Name;
    std::string dir;   // the directory, as the spec sees it (no trailing `/`)
    std::string name;  // Name, Toward: the entry; Entries: the glob, or empty for all
    bool recursive = false;
    std::uint32_t mask = 0;  // the inotify events it needs
    std::size_t spec = 0;    // the owner's id
    // Entries known to exist: a create seen twice (by a scan and by inotify) counts once, and a
    // rename onto a known entry is a change of it rather than its creation.
    std::unordered_set<std::string> known;
    // Where the interest is registered: the watch, and the directory's identity then.
    int wd = -1;
    dev_t dev = 0;
    ino_t ino = 0;
};

class WatchTable {
  public:
    explicit WatchTable(InotifyCalls& calls) : calls_(calls) {}

    // Registers the interest on its directory, whose identity is (dev, ino) now. Returns 0, or
    // the errno with which inotify refused.
    int add(Interest& interest, dev_t dev, ino_t ino);
    // Unregisters it; the directory's watch goes when nobody needs it.
    void remove(Interest& interest);
    // The kernel dropped the watch (IN_IGNORED): the interests in it stay with their owners,
    // unregistered, until they are removed or added again.
    void forget(int wd);

    // The interests an event about entry `name` of watch `wd` may concern. A copy: handling an
    // event may change the table.
    std::vector<Interest*> concerned(int wd, const std::string& name) const;
    std::vector<Interest*> all(int wd) const;
    std::size_t watchCount() const { return dirs_.size(); }

  private:
    struct Dir {
        std::uint32_t mask = 0;
        dev_t dev = 0;
        ino_t ino = 0;
        std::unordered_map<std::string, std::vector<Interest*>> named;
        std::vector<Interest*> entries;
        std::vector<std::string> paths;  // every path it was added under
    };
    void drop(int wd);

    InotifyCalls& calls_;
    std::unordered_map<int, Dir> dirs_;
    std::unordered_map<std::string, int> wd_of_;
};

}  // namespace tend::file_bridge
