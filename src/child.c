/*
 * The single-threaded child: enters what a multi-threaded process cannot (user and time
 * namespaces), in util-linux nsenter's order, then executes the program.
 *
 * Compiled when nsenter is built, by bun:ffi's TinyCC with -nostdlib; its machine code is carried
 * in the binary and started with libc's clone() (src/child-code.ts, src/child.ts). So it includes
 * nothing and has no data of its own: no globals, no string literals, no function addresses
 * taken. libc is reached through the function pointers in the job (its F_* slots), the kernel
 * through libc's syscall() with the numbers in the job (J_NR + N_*: src/syscalls.ts), everything
 * else through the job's other J_* slots (laid out by src/child-layout.ts); the code is the same
 * wherever it is loaded, which the build checks.
 *
 * The same code holds the waiting parent's signal handler (nsenter_forward, installed by
 * src/wait.ts): a handler of Bun's would only run once the event loop turns, and waiting in the
 * event loop cost ~1.5 ms a run against a blocking waitpid().
 *
 * After clone() from a multi-threaded process only async-signal-safe calls are safe in the child:
 * that is all this file calls; credentials, in particular, go to the kernel directly (see
 * syscalls.ts), not through libc's wrappers. The child never returns to JavaScript: it executes the program
 * or reports the failed step on the error pipe (step, errno, argument) and exits.
 */

/* Every libc function called here returns int (or its result is unused): call them as such, or
 * a -1 would arrive zero-extended in a long and pass for a valid descriptor. signal() returns a
 * pointer, syscall() a long. */
typedef int (*fn)();
typedef long (*lfn)();
typedef int *(*errno_fn)();

/* The F_* (function pointers), J_* (job slots) and S_* (steps) enums come first, written by
 * src/child-layout.ts from its tables and put in front of this text before it is compiled. */

#define CALL(j, f) ((fn)(j)[f])
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWNS 0x20000
#define CLONE_FS 0x200
#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000
#define CLONE_PARENT 0x8000
#define CLONE_PARENT_SETTID 0x100000
#define SIGCONT 18
#define SIGCHLD 17
#define SIGKILL 9
#define SIG_SETMASK 2
#define ENOENT 2
#define ENXIO 6
#define ENOTDIR 20
#define O_PATH 010000000
#define R_OK 4
#define PR_SET_PDEATHSIG 1
#define POLLIN 1
#define AT_EMPTY_PATH 0x1000
#define STATX_TYPE 1
#define TYPE_MASK 0170000
#define TYPE_SOCKET 0140000
#define AT_STATX_DONT_SYNC 0x4000

/* The first function: the machine code carried in the binary starts here. */
void nsenter_code_begin(void) {}

/* A system call by its index in the job's table (N_*): the result, or -1 with errno set. Every
 * argument goes as a long, as syscall() reads them. */
static long sys(long *j, int n, long a, long b, long c, long d, long e) {
  return ((lfn)j[F_SYSCALL])(j[J_NR + n], a, b, c, d, e);
}

static void fail(long *j, int step, int arg) {
  int record[3];
  record[0] = step;
  record[1] = *((errno_fn)j[F_ERRNO])();
  record[2] = arg;
  sys(j, N_WRITE, j[J_ERR_PIPE], (long)record, 12, 0, 0);
  sys(j, N_EXIT_GROUP, step == S_EXEC ? (record[1] == ENOENT ? 127 : 126) : 1, 0, 0, 0, 0);
}

/* A failed step whose errno is ERR (a condition found here, not a system call's). */
static void fail_as(long *j, int step, int err, int arg) {
  *((errno_fn)j[F_ERRNO])() = err;
  fail(j, step, arg);
}

/*
 * Signal handlers are Bun's until here (nsenter blocked every signal before the clone, so none
 * ran): back to the default, as exec would, except what is ignored stays ignored (SIGCHLD, which
 * nsenter set to the default to wait, as the job says). Every signal stays blocked until the
 * program is executed (program: the mask nsenter had, given back just before): one that comes while
 * credentials change (the user set, or a user namespace's owner, may send it) would otherwise act
 * on a process that may be dumpable then, and that user may raise its core limit (prlimit(2)) as
 * well (a reviewer's finding). SIGKILL and SIGSTOP are never blocked.
 */
static void default_signals(long *j) {
  int sig;
  for (sig = 1; sig < 65; sig++) {
    if (((lfn)j[F_SIGNAL])(sig, 0) == 1) CALL(j, F_SIGNAL)(sig, 1);
  }
  if (j[J_IGNORE_SIGCHLD]) CALL(j, F_SIGNAL)(SIGCHLD, 1);
}

/* Whether the mount namespace is among those ENTERED: a failure after it, util-linux writes from
 * the target's files (steps.ts), so the record says so (256 added to the namespace's index). */
static int mount_entered(long *j, int *entered, int n) {
  int i;
  for (i = 0; i < n; i++) {
    if (entered[i] && j[J_NS_TYPE + i] == CLONE_NEWNS) return 256;
  }
  return 0;
}

/* util-linux's two passes: all but the user namespace, errors ignored; then the rest, fatal. */
static void enter_namespaces(long *j) {
  int entered[8];
  int n = (int)j[J_NS_COUNT];
  int pass, i;
  for (i = 0; i < n; i++) entered[i] = 0;
  for (pass = 0; pass < 2; pass++) {
    for (i = 0; i < n; i++) {
      if (entered[i] || (pass == 0 && j[J_NS_TYPE + i] == CLONE_NEWUSER)) continue;
      /* A process sharing its filesystem attributes cannot enter a mount namespace: under qemu-user
       * even this child has threads (qemu's). Nothing otherwise. */
      if (j[J_NS_TYPE + i] == CLONE_NEWNS) sys(j, N_UNSHARE, CLONE_FS, 0, 0, 0, 0);
      if (sys(j, N_SETNS, j[J_NS_FD + i], j[J_NS_TYPE + i], 0, 0, 0) != 0) {
        if (pass == 1) fail(j, S_SETNS, i + mount_entered(j, entered, n));
        continue;
      }
      sys(j, N_CLOSE, j[J_NS_FD + i], 0, 0, 0, 0);
      entered[i] = 1;
    }
  }
}

/* Whether FD is a socket, by its inode's type as the kernel has it (a type never changes: no file
 * system's server is asked, AT_STATX_DONT_SYNC; a FUSE one could hold this process for good). */
static int is_socket(long *j, long fd) {
  unsigned int statx[64]; /* struct statx: stx_mode (16 bits) at byte 28 */
  char empty = 0;
  return sys(j, N_STATX, fd, (long)&empty, AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE, (long)statx) == 0 &&
         (statx[7] & TYPE_MASK) == TYPE_SOCKET;
}

#define AT_FDCWD -100
#define RESOLVE_NO_MAGICLINKS 0x02
static void change_directories(long *j) {
  long cwd = j[J_CWD];
  long root = j[J_ROOT];
  if (j[J_KEEP_CWD] >= 0) {
    /* Opened with the job's flags (child.ts keptCwdFlags). */
    cwd = sys(j, N_OPENAT, AT_FDCWD, j[J_DOT], j[J_KEEP_CWD], 0, 0);
    if (cwd < 0) fail(j, S_OPEN_CWD, 0);
  }
  if (root >= 0) {
    if (sys(j, N_FCHDIR, root, 0, 0, 0, 0) != 0) fail(j, S_ROOT_FCHDIR, 0);
    if (sys(j, N_CHROOT, j[J_DOT], 0, 0, 0, 0) != 0) fail(j, S_CHROOT, 0);
    if (sys(j, N_CHDIR, j[J_SLASH], 0, 0, 0, 0) != 0) fail(j, S_CHDIR_ROOT, 0);
    sys(j, N_CLOSE, root, 0, 0, 0, 0);
  }
  if (j[J_WDNS]) {
    /* The target's path: only a directory is opened (O_DIRECTORY, in the job: it differs between
     * architectures), and not blocking: a FIFO there would hold the child, and nsenter with it. A
     * non-directory gets util-linux's words, from its fchdir. Through no magic link (openat2, Linux
     * 5.6: ENOSYS before): /proc/self/fd/N in the target's files would reach a directory this
     * process holds (J_OWNER, the host's procfs), as in nsenter (execute.ts). The struct open_how
     * is written field by field: the machine code carries no data. */
    long how[3];
    how[0] = j[J_WDNS_FLAGS];
    how[1] = 0;
    how[2] = RESOLVE_NO_MAGICLINKS;
    cwd = sys(j, N_OPENAT2, AT_FDCWD, j[J_WDNS], (long)how, sizeof how, 0);
    if (cwd < 0 && *((errno_fn)j[F_ERRNO])() == ENOTDIR) {
      /* A file there (opened only as a path: no device or FIFO is opened), not a path through one. */
      long there = sys(j, N_OPENAT, AT_FDCWD, j[J_WDNS], O_PATH, 0, 0);
      if (there >= 0) {
        int socket = is_socket(j, there);
        sys(j, N_CLOSE, there, 0, 0, 0, 0);
        /* util-linux's words from its fchdir if its open (read-only) would have succeeded; else
         * from its open, which checks the right to read, then fails a socket. */
        if (sys(j, N_FACCESSAT, AT_FDCWD, j[J_WDNS], R_OK, 0, 0) == 0) {
          if (socket) fail_as(j, S_OPEN_WDNS, ENXIO, 0);
          fail(j, S_WD_FCHDIR, 0);
        }
      }
    }
    if (cwd < 0) fail(j, S_OPEN_WDNS, 0);
  }
  if (cwd >= 0) {
    if (sys(j, N_FCHDIR, cwd, 0, 0, 0, 0) != 0) fail(j, S_WD_FCHDIR, 0);
    sys(j, N_CLOSE, cwd, 0, 0, 0, 0);
  }
}

/*
 * Whether the line of BUF (LEN bytes, a /proc status file) that starts with FIRST "id:" ("Uid:",
 * "Gid:") holds ID four times: real, effective, saved and filesystem id.
 */
static int four_times(char *buf, long len, char first, long id) {
  long i, value;
  int n, digits;
  for (i = 0; i + 4 < len; i++) {
    if ((i > 0 && buf[i - 1] != '\n') || buf[i] != first || buf[i + 1] != 'i' || buf[i + 2] != 'd' || buf[i + 3] != ':')
      continue;
    i += 4;
    for (n = 0; n < 4; n++) {
      while (i < len && (buf[i] == '\t' || buf[i] == ' ')) i++;
      for (value = 0, digits = 0; i < len && buf[i] >= '0' && buf[i] <= '9'; i++, digits++) value = value * 10 + (buf[i] - '0');
      if (!digits || value != id) return 0;
    }
    return 1;
  }
  return 0;
}

/*
 * -S/-G follow into a user namespace: the owner of the target's /proc directory as the namespace
 * entered sees it (util-linux fstat()s it there), so the ids are the target's own inside (this
 * host's view may be another user there, or none). statx(2), whose layout every architecture
 * shares: stx_uid at byte 20, stx_gid at 24. The owner is the target's effective id, and root's
 * once the target is gone; the target may have held this process until then (stopped it, frozen
 * the cgroup it joined), or be running a setuid program (su waiting for a password is euid 0). So
 * the target's status, read after the owner and as the namespace sees it too, must show the
 * owner's id as all four of its ids: it is then the target's own, of a target that still lives
 * (a status of one that has gone cannot be read: ESRCH).
 */
#define STATX_UID 8
#define STATX_GID 16
#define O_CLOEXEC 02000000
#define ESRCH 3
#define EPERM 1
static void follow_owner(long *j) {
  unsigned int statx[64]; /* struct statx: 256 bytes */
  char buf[2048];         /* the status file's start: Uid and Gid are its 9th and 10th lines */
  char name[7];           /* set a byte at a time: the machine code carries no data */
  long fd, len;
  if (j[J_OWNER] < 0) return;
  name[0] = 's';
  name[1] = 't';
  name[2] = 'a';
  name[3] = 't';
  name[4] = 'u';
  name[5] = 's';
  name[6] = 0;
  /* "" (AT_EMPTY_PATH): the directory itself. */
  if (sys(j, N_STATX, j[J_OWNER], (long)&name[6], AT_EMPTY_PATH, STATX_UID | STATX_GID, (long)statx) != 0)
    fail(j, S_STAT, 0);
  fd = sys(j, N_OPENAT, j[J_OWNER], (long)name, O_CLOEXEC, 0, 0);
  len = fd < 0 ? -1 : sys(j, N_READ, fd, (long)buf, sizeof buf, 0, 0);
  if (len < 0) fail_as(j, S_STAT, ESRCH, 0);
  sys(j, N_CLOSE, fd, 0, 0, 0, 0);
  sys(j, N_CLOSE, j[J_OWNER], 0, 0, 0, 0);
  if (((j[J_FOLLOW] & 1) && !four_times(buf, len, 'U', statx[5])) ||
      ((j[J_FOLLOW] & 2) && !four_times(buf, len, 'G', statx[6])))
    fail_as(j, S_MIXED_IDS, EPERM, 0);
  if (j[J_FOLLOW] & 1) j[J_UID] = statx[5];
  if (j[J_FOLLOW] & 2) j[J_GID] = statx[6];
}

static void set_credentials(long *j) {
  if (j[J_FORCE_GID]) {
    if (sys(j, N_SETGROUPS, 0, 0, 0, 0, 0) != 0 && j[J_GROUPS_FAILED]) fail(j, S_SETGROUPS, 0);
    if (sys(j, N_SETGID, j[J_GID], 0, 0, 0, 0) != 0) fail(j, S_SETGID, 0);
  }
  if (j[J_FORCE_UID] && sys(j, N_SETUID, j[J_UID], 0, 0, 0, 0) != 0) fail(j, S_SETUID, 0);
}

/*
 * util-linux cap_permitted_to_ambient() for --keep-caps: make the permitted capabilities
 * inheritable, then raise each effective one in the ambient set, so they survive execve.
 */
#define CAP_VERSION_3 0x20080522
#define PR_CAP_AMBIENT 47
#define PR_SET_DUMPABLE 4
#define PR_CAP_AMBIENT_RAISE 2
static void keep_caps(long *j) {
  int header[2];
  unsigned int data[6]; /* two of {effective, permitted, inheritable} */
  long cap;
  header[0] = CAP_VERSION_3;
  header[1] = 0;
  if (sys(j, N_CAPGET, (long)header, (long)data, 0, 0, 0) < 0) fail(j, S_CAPGET, 0);
  data[2] = data[1];
  data[5] = data[4];
  if (sys(j, N_CAPSET, (long)header, (long)data, 0, 0, 0) < 0) fail(j, S_CAPSET, 0);
  for (cap = 0; cap < 64 && cap <= j[J_LAST_CAP]; cap++) {
    unsigned int word = data[cap < 32 ? 0 : 3];
    if (!(word & (1u << (cap & 31)))) continue;
    if (sys(j, N_PRCTL, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) fail(j, S_AMBIENT, 0);
  }
}

/*
 * What a change of credentials undoes (entering a user namespace another user owns, setuid,
 * setgid, capset), set again after each such step:
 * - Not dumpable: with fs.suid_dumpable=1 the kernel makes a process whose credentials changed
 *   dumpable, and the target's root could then ptrace it and write the memory it shares with
 *   nsenter.
 * - Dying with nsenter (killed while the target holds it, stopped or blocked, nothing may go on to
 *   start the program later), and the program after it: the kernel clears PR_SET_PDEATHSIG.
 *   nsenter dying before an arming is seen on its life pipe (J_LIFE: nsenter alone holds its
 *   write end, so it turns readable as nsenter exits), not by a pidfd of nsenter's, which a
 *   process the target may take over before it executes must not hold (setns(2) takes a pidfd: a
 *   reviewer entered the host's namespaces through it); not by PID: the program's process sees its
 *   parent, nsenter or whoever adopts it, as 0 (outside the PID namespace it is in).
 */
static void rearm(long *j) {
  int poll[2];
  long zero[2];
  long parent;
  sys(j, N_PRCTL, PR_SET_DUMPABLE, 0, 0, 0, 0);
  sys(j, N_PRCTL, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  poll[0] = (int)j[J_LIFE];
  poll[1] = POLLIN; /* events; revents (the upper half) 0 */
  zero[0] = 0;
  zero[1] = 0;
  if (sys(j, N_PPOLL, (long)poll, 1, (long)zero, 0, 8) > 0) sys(j, N_EXIT_GROUP, 1, 0, 0, 0, 0);
  /* And for the child, in nsenter's PID namespace, its parent by PID: adopted once nsenter is
   * gone, a moment before the life pipe turns readable. (The program's process sees 0.) */
  parent = sys(j, N_GETPPID, 0, 0, 0, 0, 0);
  if (parent != 0 && parent != j[J_PARENT]) sys(j, N_EXIT_GROUP, 1, 0, 0, 0, 0);
}

/*
 * No core while credentials change: a process whose credentials changed is dumpable until rearm()
 * (with fs.suid_dumpable=2, most distributions', a signal then has a core written, as root's; 1 is
 * refused, execute.ts), and the target (the owner of the user namespace entered, or the uid set,
 * either may signal this process then) could have one written of the memory this process shares
 * with nsenter. RLIMIT_CORE 1 writes none, to a file (smaller than a page) or to a pipe (the
 * kernel refuses that one: umh_pipe_setup's guard); a hard limit of 0 cannot be raised to 1, and 0
 * writes no file, and core handlers skip it. Set first thing, kept in the job for the program.
 */
#define RLIMIT_CORE 4
static void hold_cores(long *j) {
  long one[2];
  if (sys(j, N_PRLIMIT64, 0, RLIMIT_CORE, 0, (long)&j[J_CORE_LIMIT], 0) != 0) return;
  one[0] = 1;
  one[1] = j[J_CORE_LIMIT + 1];
  if (sys(j, N_PRLIMIT64, 0, RLIMIT_CORE, (long)one, 0, 0) == 0) j[J_CORE_HELD] = 1;
}

/* The program's limit is nsenter's (set once this process is not dumpable: rearm). */
static void release_cores(long *j) {
  if (j[J_CORE_HELD]) sys(j, N_PRLIMIT64, 0, RLIMIT_CORE, (long)&j[J_CORE_LIMIT], 0, 0);
}

/* The program's process: credentials, capabilities, exec. The program gets libc's environ as it
 * is, or with --env the target's, given to execve(pe) (J_ENVP). It dies with nsenter (rearm).
 * Until it has executed (it holds the life pipe until then: unexecuted), a signal nsenter passes
 * on kills it; once it has, the signal comes with a SIGCONT: the target may have stopped it
 * (nsenter_forward). */
static int program(long *j) {
  set_credentials(j);
  if (j[J_KEEP_CAPS]) keep_caps(j);
  rearm(j);
  release_cores(j);
  CALL(j, F_SIGPROCMASK)(SIG_SETMASK, j[J_MASK], 0);
  if (j[J_ENVP]) ((fn)j[j[J_SEARCH] ? J_EXECVPE : J_EXECVE])(j[J_FILE], j[J_ARGV], j[J_ENVP]);
  else CALL(j, j[J_SEARCH] ? F_EXECVP : F_EXECV)(j[J_FILE], j[J_ARGV]);
  fail(j, S_EXEC, 0);
  return 1;
}

/* Where clone() starts the program's process in a PID namespace (a global function is called
 * through a table TinyCC makes outside the code: only clone() calls this one). */
int nsenter_program(long *j) {
  /* Armed at once, though program() arms again after the credentials: a process the target stops
   * before that second arming then dies with nsenter, instead of lingering stopped until continued
   * (when the life pipe's check would end it). */
  rearm(j);
  /* A signal nsenter passed on before this process was cloned (its memory a copy of the child's
   * then: one recorded later is not seen here, and nsenter kills this process, wait.ts). */
  if (j[J_PENDING]) sys(j, N_KILL, sys(j, N_GETPID, 0, 0, 0, 0, 0), j[J_PENDING], 0, 0, 0);
  return program(j);
}

/*
 * The descriptors the program's process is not to have: all but J_KEEP's (the caller's, the error
 * pipe, the life pipe), by close_range(2) between them (Linux 5.9), or one by one up to J_FD_MAX.
 * It is in the target's PID namespace until it executes, where the target's root may take it over
 * (CAP_SYS_PTRACE): nsenter's own, close-on-exec, would be there until then (Bun's eventpoll,
 * namespace files, a pidfd of nsenter's, which setns(2) takes: a reviewer's finding).
 */
#define CLOSE_RANGE_ALL 0xffffffffL
static void close_span(long *j, long from, long to) {
  long fd;
  if (to < from || sys(j, N_CLOSE_RANGE, from, to, 0, 0, 0) == 0) return;
  for (fd = from; fd <= to && fd <= j[J_FD_MAX]; fd++) sys(j, N_CLOSE, fd, 0, 0, 0, 0);
}
/* Every descriptor but the COUNT in KEEP (ascending). */
static void close_but(long *j, long *keep, long count) {
  long i, from = 0;
  for (i = 0; i < count; i++) {
    close_span(j, from, keep[i] - 1);
    if (keep[i] + 1 > from) from = keep[i] + 1;
  }
  close_span(j, from, CLOSE_RANGE_ALL);
}
static void close_unkept(long *j) {
  close_but(j, (long *)j[J_KEEP], j[J_KEEP_COUNT]);
}

/*
 * Where clone() starts the child. With a PID namespace the program must be a child of a process
 * that entered it: it is cloned as a copy of this process (not sharing this memory, which is
 * nsenter's or, with a time namespace, a copy of nsenter's that goes on running here: the target's
 * root may take over that process until it executes, a reviewer's finding), with none of nsenter's
 * descriptors (close_unkept) and not the page shared with nsenter (MADV_DONTFORK), this process
 * suspended until it executes (CLONE_VFORK, as posix_spawn does), and with nsenter for its parent
 * (CLONE_PARENT), which waits for it at home and has its PID from the shared page, where the
 * kernel writes it (CLONE_PARENT_SETTID; checked there, program_pid); then this process leaves.
 */
#define MADV_DONTFORK 10
int nsenter_child(long *j) {
  /* nsenter's life pipe: its write end nsenter's alone (rearm). */
  sys(j, N_CLOSE, j[J_LIFE_WRITE], 0, 0, 0, 0);
  /* Not dumpable, before anything is entered: once in the target's user namespace, its root could
   * otherwise ptrace this process and through it write the memory it shares with nsenter, which is
   * host root (the program's process is a copy: nsenter_child's clone below). Per memory: nsenter
   * itself goes non-dumpable too, which costs it nothing; the program is dumpable again once it
   * executes. (rearm) */
  rearm(j);
  hold_cores(j);
  default_signals(j);
  /* --join-cgroup: this process joins the target's cgroup ("0": the writer), and so the program's
   * process it may clone; nsenter, waiting at home, stays in its own (its memory is not the
   * target's to pay for, nor its freezer's to hold). A character on the stack: the machine code
   * carries no data. */
  if (j[J_CGROUP_PROCS] >= 0) {
    char zero = '0';
    if (sys(j, N_WRITE, j[J_CGROUP_PROCS], (long)&zero, 1, 0, 0) != 1) fail(j, S_JOIN_CGROUP, 0);
  }
  /* Drop supplementary groups while still privileged; complain only if the later call fails too. */
  if (j[J_GROUPS] && sys(j, N_SETGROUPS, 0, 0, 0, 0, 0) != 0) j[J_GROUPS_FAILED] = 1;
  enter_namespaces(j);
  rearm(j);
  change_directories(j);
  follow_owner(j);
  if (!j[J_FORK]) return program(j);
  sys(j, N_MADVISE, (long)&j[J_PROGRAM_PID], REGION, MADV_DONTFORK, 0, 0);
  close_unkept(j);
  if (CALL(j, F_CLONE)(j[J_PROGRAM_ENTRY], j[J_PROGRAM_STACK], CLONE_VFORK | CLONE_PARENT | CLONE_PARENT_SETTID | SIGCHLD,
                       j, (long)&j[J_PROGRAM_PID]) < 0)
    fail(j, S_FORK, 0);
  /* The pipe closes as this process exits, not before: nsenter, once it reads the end, reaps this
   * process, which the target could stop between a close() and an exit, but not inside exit. */
  sys(j, N_EXIT_GROUP, 0, 0, 0, 0, 0);
  return 0;
}

/*
 * --net-socket's network namespace, taken where no close of the target's file can hold nsenter: a
 * FUSE file's every close asks its server (FUSE_FLUSH) and waits for the answer, through SIGKILL,
 * and the target chooses what its descriptor is, between any check and pidfd_getfd(). So this
 * process, a clone without nsenter's descriptor table (a copy of it), takes the target's
 * descriptor, asks a socket for its namespace (nothing else: an ioctl on another file goes to its
 * driver or file system; its type from the inode, AT_STATX_DONT_SYNC, asks no server either), and
 * reports on the error pipe: a failed step (1 pidfd_getfd, 2 the namespace's ioctl, with the
 * descriptor) or {0, the namespace's descriptor here, 0}, which nsenter takes with pidfd_getfd
 * before it kills this process. One left holding a FUSE file is left to close it, not waited for.
 */
#define SIOCGSKNS 0x894C
#define ENOTTY 25
/*
 * This process's report on the error pipe (STEP, ERR, ARG), once it has closed every descriptor
 * but the error pipe and the two in KEEP (ascending; the target's, SK, and the namespace's, or SK
 * twice): closing SK, when it leaves or is killed (as soon as nsenter has read this), may wait on a
 * FUSE server for good, or on a socket's lingering, and the copies of nsenter's descriptors it
 * has, the caller's among them, must not wait with it (a pipe the caller gave nsenter would never
 * end for its reader: a reviewer's finding). Before the report, not after: nsenter kills this
 * process as soon as it has read it (and what was left open, above SK, stayed open).
 */
static void report(long *j, int step, int err, int arg, long *keep) {
  long kept[3];
  int record[3];
  long pipe = j[J_ERR_PIPE];
  /* The three ascending, the error pipe put in its place. */
  kept[0] = pipe < keep[0] ? pipe : keep[0];
  kept[1] = pipe < keep[0] ? keep[0] : (pipe < keep[1] ? pipe : keep[1]);
  kept[2] = pipe < keep[1] ? keep[1] : pipe;
  close_but(j, kept, 3);
  record[0] = step;
  record[1] = err;
  record[2] = arg;
  sys(j, N_WRITE, pipe, (long)record, 12, 0, 0);
}

/* The target's descriptor SK is not a socket with a network namespace (ERR): reported, and gone. */
static void socket_failed(long *j, int err, long sk) {
  long keep[2];
  keep[0] = sk;
  keep[1] = sk;
  report(j, 2, err, (int)sk, keep);
  sys(j, N_EXIT_GROUP, 1, 0, 0, 0, 0);
}

int nsenter_socket(long *j) {
  long keep[2];
  long sk, ns;
  sys(j, N_CLOSE, j[J_LIFE_WRITE], 0, 0, 0, 0);
  rearm(j);
  sk = sys(j, N_PIDFD_GETFD, j[J_SOCKET_PIDFD], j[J_SOCKET_FD], 0, 0, 0);
  if (sk < 0) fail(j, 1, 0);
  if (!is_socket(j, sk)) socket_failed(j, ENOTTY, sk);
  ns = sys(j, N_IOCTL, sk, SIOCGSKNS, 0, 0, 0);
  if (ns < 0) socket_failed(j, *((errno_fn)j[F_ERRNO])(), sk);
  keep[0] = sk < ns ? sk : ns;
  keep[1] = sk < ns ? ns : sk;
  report(j, 0, (int)ns, 0, keep);
  /* Until nsenter has taken it and kills this process (or is gone: rearm's death signal). */
  for (;;) sys(j, N_PPOLL, 0, 0, 0, 0, 8);
  return 0;
}

/* An address inside this code: where the call to here() returns to. (Taking a function's address
 * instead goes through a table outside the code on arm64.) */
static long here(void) {
  return (long)__builtin_return_address(0);
}

/* Where the job is, for the signal handler: the REGION after the code's (src/child.ts maps them
 * so, the code REGION-aligned). */
static long *job_page(void) {
  return (long *)((here() & -(long)REGION) + REGION);
}

/* Whether PID, a child of nsenter's, has exited (not reaped: WNOWAIT). */
#define P_PID 1
#define WNOHANG 1
#define WEXITED 4
#define WNOWAIT 0x01000000
static int exited(long *j, long pid) {
  int info[32]; /* siginfo_t: si_pid at byte 16 */
  int i;
  for (i = 0; i < 32; i++) info[i] = 0;
  return sys(j, N_WAITID, P_PID, pid, (long)info, WEXITED | WNOHANG | WNOWAIT, 0) == 0 && info[4] != 0;
}

/*
 * Whether PID, a process being started, has yet to execute the program: it still holds the life
 * pipe's read end (close-on-exec; kcmp(2) KCMP_FILE), as the child and the program's process do
 * from their clone() to their execve(), whether they share nsenter's memory or are copies. Not a
 * process that has exited. kcmp failing (ENOSYS without CONFIG_KCMP): taken as executed.
 */
#define KCMP_FILE 0
static int unexecuted(long *j, long pid) {
  if (exited(j, pid)) return 0;
  return sys(j, N_KCMP, pid, sys(j, N_GETPID, 0, 0, 0, 0, 0), KCMP_FILE, j[J_LIFE], j[J_LIFE]) == 0;
}

/*
 * The program's process's PID, where the child has cloned one (the kernel writes it to the shared
 * page, J_PROGRAM_PID: child-layout.ts), when it names a child of nsenter's other than the child;
 * else 0.
 */
static long program_pid(long *j) {
  int info[32];
  int i;
  long pid = j[J_PROGRAM_PID];
  for (i = 0; i < 32; i++) info[i] = 0;
  /* A pid_t: the kernel wrote 32 bits, and waitid and kill take 32. */
  if (pid <= 0 || pid > 0x7fffffff || pid == j[J_CHILD]) return 0;
  return sys(j, N_WAITID, P_PID, pid, (long)info, WEXITED | WNOHANG | WNOWAIT, 0) == 0 ? pid : 0;
}

/*
 * A signal for PID, a process being started. One still running our code is killed, as the
 * signal's default action would, by SIGKILL: a stop or the target's cgroup freezer holds any
 * other signal (a frozen process that is also stopped keeps it pending until thawed), and nsenter
 * dies of the signal itself (J_KILLED, wait.ts). One that has executed the program gets the
 * signal, with a SIGCONT: the target may have stopped it.
 */
static void starting(long *j, long pid, int sig) {
  if (unexecuted(j, pid)) {
    j[J_KILLED] = sig;
    sys(j, N_KILL, pid, SIGKILL, 0, 0, 0);
    return;
  }
  sys(j, N_KILL, pid, sig, 0, 0, 0);
  sys(j, N_KILL, pid, SIGCONT, 0, 0, 0);
}

/*
 * Whether the kernel made SIG for nsenter's process group, the program's too, which has it
 * already: a terminal's ^C, ^\, ^Z and resize go to its foreground group, and its hangup's SIGHUP
 * to that group, but to a session leader alone (nsenter under ssh -t, tmux, setsid: passed on).
 * Not one made for nsenter alone: an alarm it was started with (setitimer survives execve), its
 * CPU limit's SIGXCPU, an O_ASYNC descriptor's SIGIO. INFO is a siginfo_t: si_code at int 2, a
 * process's (SI_USER, SI_QUEUE, SI_TKILL) at most 0.
 */
#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGTSTP 20
#define SIGWINCH 28
static int group_got(long *j, int sig, int *info, long me) {
  if (info[2] <= 0) return 0;
  if (sig == SIGINT || sig == SIGQUIT || sig == SIGTSTP || sig == SIGWINCH) return 1;
  return sig == SIGHUP && sys(j, N_GETSID, 0, 0, 0, 0, 0) != me;
}

/*
 * The waiting parent's handler for the signals it passes on (src/wait.ts): to the program
 * (J_FORWARD_TO), but one its process group got too (group_got); while it is being started, to
 * the child and the program's process (the one that will be the program: with the default action,
 * the signal ends it before it executes, and nsenter then leaves as it did); before, as if there
 * were no handler. Installed with SA_SIGINFO (wait.ts) before J_FORWARD_TO names the program, but
 * for SIGCHLD (child.ts), whose INFO is not read.
 *
 * Only on nsenter's own thread, the one that reaps: run on another of Bun's threads (one the
 * kernel chose because nsenter's thread blocked the signal, in clone() or in this handler), it
 * would read a PID that nsenter's thread could reap, and free for another process, before its
 * kill(). Sent on to that thread, the signal waits there while it is blocked, and this handler
 * runs there, once. Async-signal-safe calls only, and errno left as it was.
 */
void nsenter_forward(int sig, int *info, void *context) {
  long *j = job_page();
  int *err = ((errno_fn)j[F_ERRNO])();
  int saved = *err;
  long me = sys(j, N_GETPID, 0, 0, 0, 0, 0);
  if (sys(j, N_GETTID, 0, 0, 0, 0, 0) != me) {
    sys(j, N_TGKILL, me, me, sig, 0, 0);
    *err = saved;
    return;
  }
  int to = (int)j[J_FORWARD_TO];
  if (sig == SIGCHLD) {
    /* Installed for a PID namespace's start (child.ts): the program's process has exited, so the
     * child has nothing left to do but leave, and the target (the owner of a user namespace it
     * entered) may have stopped it before it could: it must not keep nsenter from the program's
     * status. nsenter reads the program's PID from the job (the kernel wrote it there). */
    long program = to < 0 ? program_pid(j) : 0;
    if (program > 0 && exited(j, program)) sys(j, N_KILL, j[J_CHILD], SIGKILL, 0, 0, 0);
  } else if (to == 0) {
    CALL(j, F_SIGNAL)(sig, 0);
    sys(j, N_KILL, me, sig, 0, 0, 0);
  } else if (to < 0) {
    /* Kept for the program's process, which may be in the making (the child is in its clone()): it
     * passes it on to itself before it executes (nsenter_program), where twice is no harm. Once
     * the program's process exists it gets it, and the child, left only to say which PID that
     * process has (nsenter reads it from the job without it) and to leave, is killed: the target
     * may hold it stopped, and nsenter would wait for it. nsenter's thread blocks every signal
     * until clone() has returned, the child's PID written: there is always one here. */
    long program = program_pid(j);
    j[J_PENDING] = sig;
    if (program > 0) {
      starting(j, program, sig);
      sys(j, N_KILL, j[J_CHILD], SIGKILL, 0, 0, 0);
    } else if (j[J_CHILD] > 0)
      starting(j, j[J_CHILD], sig);
  } else if (!group_got(j, sig, info, me)) {
    sys(j, N_KILL, to, sig, 0, 0, 0);
  }
  *err = saved;
}

/* The last function: the machine code carried in the binary ends here. */
void nsenter_code_end(void) {}
