// SPDX-License-Identifier: MIT
#include "sys/clone_into_cgroup.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdint>

namespace tend::sys {

#if defined(__x86_64__)

namespace {

// The kernel's struct clone_args (linux/sched.h), up to the cgroup field (CLONE_ARGS_SIZE_VER2).
struct CloneArgs {
    std::uint64_t flags;
    std::uint64_t pidfd;
    std::uint64_t child_tid;
    std::uint64_t parent_tid;
    std::uint64_t exit_signal;
    std::uint64_t stack;
    std::uint64_t stack_size;
    std::uint64_t tls;
    std::uint64_t set_tid;
    std::uint64_t set_tid_size;
    std::uint64_t cgroup;
};

constexpr std::uint64_t kCloneVm = 0x00000100;
constexpr std::uint64_t kCloneFiles = 0x00000400;
constexpr std::uint64_t kCloneVfork = 0x00004000;
constexpr std::uint64_t kCloneIntoCgroup = 0x200000000ULL;
constexpr std::size_t kChildStackSize = 256 * 1024;

// One stack per thread that spawns, kept for the process's life: the child is done with it
// before the parent resumes, and mapping one per spawn would cost an unmap's TLB shootdown.
void* childStack() {
    thread_local void* stack = [] {
        void* mapped = ::mmap(nullptr, kChildStackSize, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        return mapped == MAP_FAILED ? nullptr : mapped;
    }();
    return stack;
}

}  // namespace

bool canCloneIntoCgroup() {
    return true;
}

pid_t cloneIntoCgroup(int cgroup_dir_fd, bool share_descriptors, void (*entry)(const void*),
                      const void* argument) {
    void* stack = childStack();
    if (!stack) {
        errno = ENOMEM;
        return -1;
    }
    CloneArgs args{};
    args.flags = kCloneVm | kCloneVfork | (cgroup_dir_fd >= 0 ? kCloneIntoCgroup : 0) |
                 (share_descriptors ? kCloneFiles : 0);
    args.exit_signal = SIGCHLD;
    args.stack = reinterpret_cast<std::uint64_t>(stack);  // the kernel starts at stack + size
    args.stack_size = kChildStackSize;
    args.cgroup = cgroup_dir_fd >= 0 ? static_cast<std::uint64_t>(cgroup_dir_fd) : 0;
    long result = SYS_clone3;
    // The syscall keeps every register but rax, rcx and r11, so the child finds `entry` and its
    // argument in r12 and r13. Its stack top is page-aligned; the call leaves it as the ABI
    // expects at a function's entry.
    register auto* entry_register asm("r12") = entry;
    register const void* argument_register asm("r13") = argument;
    asm volatile(
        "syscall\n\t"
        "testq %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xorl %%ebp, %%ebp\n\t"
        "movq %%r13, %%rdi\n\t"
        "callq *%%r12\n\t"
        "ud2\n"
        "1:\n\t"
        : "+a"(result)
        : "D"(&args), "S"(sizeof args), "r"(entry_register), "r"(argument_register)
        : "rcx", "r11", "memory");
    if (result < 0) {
        errno = static_cast<int>(-result);
        return -1;
    }
    return static_cast<pid_t>(result);
}

#else

bool canCloneIntoCgroup() {
    return false;
}

pid_t cloneIntoCgroup(int, bool, void (*)(const void*), const void*) {
    errno = ENOSYS;
    return -1;
}

#endif

}  // namespace tend::sys
