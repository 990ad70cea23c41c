/* gantry_test_payload: a tiny static program the integration tests run inside containers, so a
 * test does not depend on what a rootfs ships. One subcommand per probe:
 *   payload exit N            exit with status N
 *   payload kill-self SIG     raise signal SIG
 *   payload sleep SECONDS     sleep (for kill / timeout tests)
 *   payload print-status KEY  print the value of KEY from /proc/self/status (e.g. CapEff)
 *   payload ids               print "uid gid groups cwd"
 *   payload keyctl            call keyctl(KEYCTL_GET_KEYRING_ID); print "ok" or the errno name
 *   payload mount             try to mount a tmpfs on /mnt; print "ok" or the errno name
 *   payload fork-bomb N       fork up to N children, print how many succeeded
 *   payload daemonize SECS    double-fork a grandchild that sleeps SECS, parent exits 0
 *   payload alloc MB          allocate and touch MB megabytes
 *   payload write PATH        create PATH and write "x"; print "ok" or the errno name
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

static const char* errname(int e) {
  switch (e) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case ENOENT: return "ENOENT";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    default: return strerror(e);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: payload <probe> [args]\n");
    return 2;
  }
  const char* cmd = argv[1];
  const char* arg = argc > 2 ? argv[2] : "0";
  if (strcmp(cmd, "exit") == 0) return atoi(arg);
  if (strcmp(cmd, "kill-self") == 0) {
    raise(atoi(arg));
    return 99;
  }
  if (strcmp(cmd, "sleep") == 0) {
    sleep((unsigned)atoi(arg));
    return 0;
  }
  if (strcmp(cmd, "print-status") == 0) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[512];
    size_t n = strlen(arg);
    while (f && fgets(line, sizeof line, f)) {
      if (strncmp(line, arg, n) == 0 && line[n] == ':') {
        char* v = line + n + 1;
        while (*v == ' ' || *v == '\t') v++;
        fputs(v, stdout);
        return 0;
      }
    }
    return 1;
  }
  if (strcmp(cmd, "ids") == 0) {
    gid_t groups[64];
    int ng = getgroups(64, groups);
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
    printf("%u %u ", (unsigned)getuid(), (unsigned)getgid());
    for (int i = 0; i < ng; i++) printf("%s%u", i ? "," : "", (unsigned)groups[i]);
    printf(" %s\n", cwd);
    return 0;
  }
  if (strcmp(cmd, "keyctl") == 0) {
    long r = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);
    printf("%s\n", r >= 0 ? "ok" : errname(errno));
    return 0;
  }
  if (strcmp(cmd, "mount") == 0) {
    int r = mount("tmpfs", "/mnt", "tmpfs", 0, NULL);
    printf("%s\n", r == 0 ? "ok" : errname(errno));
    return 0;
  }
  if (strcmp(cmd, "fork-bomb") == 0) {
    int want = atoi(arg), got = 0;
    for (int i = 0; i < want; i++) {
      pid_t p = fork();
      if (p == 0) {
        pause();
        _exit(0);
      }
      if (p < 0) break;
      got++;
    }
    printf("%d\n", got);
    fflush(stdout);
    kill(0, SIGKILL);
    return 0;
  }
  if (strcmp(cmd, "daemonize") == 0) {
    pid_t p = fork();
    if (p == 0) {
      setsid();
      if (fork() == 0) {
        sleep((unsigned)atoi(arg));
        _exit(0);
      }
      _exit(0);
    }
    waitpid(p, NULL, 0);
    return 0;
  }
  if (strcmp(cmd, "alloc") == 0) {
    size_t mb = (size_t)atol(arg);
    for (size_t i = 0; i < mb; i++) {
      char* p = malloc(1 << 20);
      if (!p) return 3;
      memset(p, 1, 1 << 20);
    }
    printf("allocated\n");
    return 0;
  }
  if (strcmp(cmd, "write") == 0) {
    int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1) {
      printf("%s\n", errname(errno));
      return 0;
    }
    close(fd);
    printf("ok\n");
    return 0;
  }
  fprintf(stderr, "payload: unknown probe '%s'\n", cmd);
  return 2;
}
