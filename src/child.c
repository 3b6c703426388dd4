/*
 * The single-threaded child: enters what a multi-threaded process cannot (user and time
 * namespaces), in util-linux nsenter's order, then executes the program.
 *
 * Compiled at run time by bun:ffi's TinyCC with -nostdlib, so nothing is included: libc is
 * reached only through the function pointers in the job (its F_* slots), handed in from
 * JavaScript. The job is an array of 64-bit slots, laid out by src/child.ts.
 *
 * After fork() in a multi-threaded process only async-signal-safe calls are safe in the child:
 * that is all this file calls. The child never returns to JavaScript: it executes the program
 * or reports the failed step on the error pipe (step, errno, argument) and exits.
 */

/* Every libc function called here returns int (or its result is unused): call them as such, or
 * a -1 would arrive zero-extended in a long and pass for a valid descriptor. */
typedef int (*fn)();
typedef int *(*errno_fn)();

/* The F_* (function pointers), J_* (job slots) and S_* (steps) enums come first, written by
 * src/child.ts from its tables and put in front of this text before it is compiled. */

#define CALL(j, f) ((fn)(j)[f])
#define CLONE_NEWUSER 0x10000000
#define WUNTRACED 2
#define SIGSTOP 19
#define SIGCONT 18
#define SIGCHLD 17
#define ENOENT 2

static void fail(long *j, int step, int arg) {
  int record[3];
  record[0] = step;
  record[1] = *((errno_fn)j[F_ERRNO])();
  record[2] = arg;
  CALL(j, F_WRITE)(j[J_ERR_PIPE], record, 12);
  CALL(j, F_EXIT)(step == S_EXEC ? (record[1] == ENOENT ? 127 : 126) : 1);
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
      if (CALL(j, F_SETNS)(j[J_NS_FD + i], j[J_NS_TYPE + i]) != 0) {
        if (pass == 1) fail(j, S_SETNS, i);
        continue;
      }
      CALL(j, F_CLOSE)(j[J_NS_FD + i]);
      entered[i] = 1;
    }
  }
}

static void change_directories(long *j) {
  int cwd = (int)j[J_CWD];
  int root = (int)j[J_ROOT];
  if (j[J_KEEP_CWD]) {
    cwd = CALL(j, F_OPEN)(".", 0);
    if (cwd < 0) fail(j, S_OPEN_CWD, 0);
  }
  if (root >= 0) {
    if (CALL(j, F_FCHDIR)(root) != 0) fail(j, S_ROOT_FCHDIR, 0);
    if (CALL(j, F_CHROOT)(".") != 0) fail(j, S_CHROOT, 0);
    if (CALL(j, F_CHDIR)("/") != 0) fail(j, S_CHDIR_ROOT, 0);
    CALL(j, F_CLOSE)(root);
  }
  if (j[J_WDNS]) {
    cwd = CALL(j, F_OPEN)(j[J_WDNS], 0);
    if (cwd < 0) fail(j, S_OPEN_WDNS, 0);
  }
  if (cwd >= 0) {
    if (CALL(j, F_FCHDIR)(cwd) != 0) fail(j, S_WD_FCHDIR, 0);
    CALL(j, F_CLOSE)(cwd);
  }
}

/* The program's process, for the handler below (the only state outside the job). */
static long *forward_job;
static int forward_to;

static void forward(int sig) {
  CALL(forward_job, F_KILL)(forward_to, sig);
}

/* What nsenter's parent passes on to us, we pass on to the program (src/wait.ts). */
static const int FORWARDED[] = { 1, 2, 3, 10, 12, 15 };

/* util-linux continue_as_child(): fork into the PID namespace, wait, pass on the outcome. */
static void continue_as_child(long *j) {
  int status = 0;
  int child, ret, i;
  CALL(j, F_SIGNAL)(SIGCHLD, 0);
  child = CALL(j, F_FORK)();
  if (child < 0) fail(j, S_FORK, 0);
  if (child == 0) {
    for (i = 0; i < 6; i++) CALL(j, F_SIGNAL)(FORWARDED[i], 0);
    return;
  }
  forward_job = j;
  forward_to = child;
  for (i = 0; i < 6; i++) CALL(j, F_SIGNAL)(FORWARDED[i], (long)forward);
  /* Only the program's process keeps the error pipe: the parent sees EOF once it executes. */
  CALL(j, F_CLOSE)(j[J_ERR_PIPE]);
  for (;;) {
    ret = CALL(j, F_WAITPID)(child, &status, WUNTRACED);
    if (ret == child && (status & 0xff) == 0x7f) {
      CALL(j, F_KILL)(CALL(j, F_GETPID)(), SIGSTOP);
      CALL(j, F_KILL)(child, SIGCONT);
    } else {
      break;
    }
  }
  if ((status & 0x7f) == 0) CALL(j, F_EXIT)((status >> 8) & 0xff);
  if (ret == child) {
    CALL(j, F_SIGNAL)(status & 0x7f, 0);
    CALL(j, F_KILL)(CALL(j, F_GETPID)(), status & 0x7f);
  }
  CALL(j, F_EXIT)(1);
}

static void set_credentials(long *j, int groups_failed) {
  if (j[J_FORCE_GID]) {
    if (CALL(j, F_SETGROUPS)(0, 0) != 0 && groups_failed) fail(j, S_SETGROUPS, 0);
    if (CALL(j, F_SETGID)(j[J_GID]) != 0) fail(j, S_SETGID, 0);
  }
  if (j[J_FORCE_UID] && CALL(j, F_SETUID)(j[J_UID]) != 0) fail(j, S_SETUID, 0);
}

/*
 * util-linux cap_permitted_to_ambient() for --keep-caps: make the permitted capabilities
 * inheritable, then raise each effective one in the ambient set, so they survive execve.
 */
#define CAP_VERSION_3 0x20080522
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
static void keep_caps(long *j) {
  int header[2];
  unsigned int data[6]; /* two of {effective, permitted, inheritable} */
  long cap;
  header[0] = CAP_VERSION_3;
  header[1] = 0;
  if (CALL(j, F_CAPGET)(header, data) < 0) fail(j, S_CAPGET, 0);
  data[2] = data[1];
  data[5] = data[4];
  if (CALL(j, F_CAPSET)(header, data) < 0) fail(j, S_CAPSET, 0);
  for (cap = 0; cap < 64 && cap <= j[J_LAST_CAP]; cap++) {
    unsigned int word = data[cap < 32 ? 0 : 3];
    if (!(word & (1u << (cap & 31)))) continue;
    if (CALL(j, F_PRCTL)(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) fail(j, S_AMBIENT, 0);
  }
}

static void run(long *j) {
  int groups_failed = 0;
  /* Drop supplementary groups while still privileged; complain only if the later call fails too. */
  if (j[J_GROUPS] && CALL(j, F_SETGROUPS)(0, 0) != 0) groups_failed = 1;
  enter_namespaces(j);
  change_directories(j);
  if (j[J_FORK]) continue_as_child(j);
  set_credentials(j, groups_failed);
  if (j[J_KEEP_CAPS]) keep_caps(j);
  /* The program gets libc's environ as it is (--env has set it). */
  CALL(j, j[J_SEARCH] ? F_EXECVP : F_EXECV)(j[J_FILE], j[J_ARGV]);
  fail(j, S_EXEC, 0);
}

/* Returns the child's pid to the parent (or -1); the child never returns. */
int nsenter_child(long *j) {
  int pid = CALL(j, F_FORK)();
  if (pid != 0) return pid;
  run(j);
  return 0;
}
