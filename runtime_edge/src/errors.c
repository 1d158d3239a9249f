#include "errors.h"

#include <stdio.h>

static _Thread_local char last_error[512];

ep_status ep_failv(ep_status status, const char *fmt, va_list args) {
  vsnprintf(last_error, sizeof last_error, fmt, args);
  return status;
}

ep_status ep_fail(ep_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  ep_failv(status, fmt, args);
  va_end(args);
  return status;
}

const char *ep_last_error(void) { return last_error; }

const char *ep_status_name(ep_status status) {
  static const char *const NAMES[] = {"OK", "ARGUMENT", "MODEL", "UNSUPPORTED", "MEMORY", "STATE", "IO",
                                      "KERNEL"};
  return (unsigned)status < sizeof NAMES / sizeof NAMES[0] ? NAMES[status] : "UNKNOWN";
}
