/* Status codes with messages: the most recent failure's text is kept per thread. */
#ifndef EP_ERRORS_H
#define EP_ERRORS_H

#include <stdarg.h>

#include "edgepress_rt.h"

/* Records the formatted message as the calling thread's last error and returns `status`. */
ep_status ep_fail(ep_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ep_status ep_failv(ep_status status, const char *fmt, va_list args);

#endif
