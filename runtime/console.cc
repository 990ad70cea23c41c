#include "runtime/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/init.h"
#include "runtime/sync.h"

namespace gantry::runtime {

void setup_console(int socket_fd, unsigned short rows, unsigned short cols) {
  int master = ::open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) init_fail(InitStep::kConsole, errno, -1, "/dev/pts/ptmx");
  int unlock = 0;
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0) init_fail(InitStep::kConsole, errno);
  int n = -1;
  if (::ioctl(master, TIOCGPTN, &n) != 0) init_fail(InitStep::kConsole, errno);
  char slave_path[32];
  ::snprintf(slave_path, sizeof slave_path, "/dev/pts/%d", n);
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) init_fail(InitStep::kConsole, errno, -1, slave_path);
  if (rows != 0 || cols != 0) {
    struct winsize ws = {};
    ws.ws_row = rows;
    ws.ws_col = cols;
    if (::ioctl(slave, TIOCSWINSZ, &ws) != 0) init_fail(InitStep::kConsole, errno, -1, slave_path);
  }
  // /dev/console is the container's terminal, as on a real machine.
  int console = ::open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (console >= 0) {
    ::close(console);
    if (::mount(slave_path, "/dev/console", nullptr, MS_BIND, nullptr) != 0) {
      init_fail(InitStep::kConsole, errno, -1, "/dev/console");
    }
  } else if (errno != EROFS) {
    init_fail(InitStep::kConsole, errno, -1, "/dev/console");
  }

  struct msghdr msg = {};
  char data[32];
  size_t len = ::strlen(slave_path);
  ::memcpy(data, slave_path, len);
  struct iovec iov = {data, len};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  ::memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
  if (::sendmsg(socket_fd, &msg, MSG_NOSIGNAL) < 0) init_fail(InitStep::kConsoleSend, errno);
  ::close(master);
  ::close(socket_fd);

  if (::ioctl(slave, TIOCSCTTY, 0) != 0) init_fail(InitStep::kConsole, errno, -1, slave_path);
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) init_fail(InitStep::kConsole, errno, -1, slave_path);
  }
  if (slave > 2) ::close(slave);
}

Result<UniqueFd> connect_console_socket(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(ErrorCode::kInvalidArgument, "console socket path '" + path + "' too long");
  }
  ::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return sys_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return sys_error("connect to console socket '" + path + "'");
  }
  return fd;
}

int receive_fd(int socket_fd) {
  struct msghdr msg = {};
  char data[256];
  struct iovec iov = {data, sizeof data};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC) < 0) return -errno;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  if (cmsg == nullptr || cmsg->cmsg_type != SCM_RIGHTS) return -EBADMSG;
  int fd;
  ::memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
  return fd;
}

}  // namespace gantry::runtime
