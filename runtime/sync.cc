#include "runtime/sync.h"

#include <errno.h>
#include <sys/socket.h>

namespace gantry::runtime {

// Reads one message; EOF is reported as type 0.
Result<SyncMessage> receive_sync(int fd) {
  SyncMessage m;
  ssize_t n;
  do {
    n = ::recv(fd, &m, sizeof m, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("read from container init");
  if (n == 0) {
    m.type = static_cast<SyncType>(0);
    return m;
  }
  if (n != static_cast<ssize_t>(sizeof m)) {
    return Error(ErrorCode::kInternal, "container init sent a short message");
  }
  return m;
}

Status send_sync(int fd, SyncType type) {
  SyncMessage m;
  m.type = type;
  if (::send(fd, &m, sizeof m, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof m)) {
    return sys_error("write to container init");
  }
  return ok_status();
}

}  // namespace gantry::runtime
