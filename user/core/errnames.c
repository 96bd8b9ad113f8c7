// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <string.h>

#include "core/errnames.h"

/* One table, values from <errno.h> itself: never a hand-copied number. */
#define E(x)                                                                                       \
	{                                                                                          \
#x, x                                                                              \
	}
static const struct {
	const char *name;
	int val;
} table[] = {
	E(EPERM),	    E(ENOENT),	     E(EINTR),	      E(EIO),	       E(ENXIO),
	E(E2BIG),	    E(EBADF),	     E(EAGAIN),	      E(ENOMEM),       E(EACCES),
	E(EFAULT),	    E(EBUSY),	     E(EEXIST),	      E(ENODEV),       E(ENOTDIR),
	E(EISDIR),	    E(EINVAL),	     E(ENFILE),	      E(EMFILE),       E(EFBIG),
	E(ENOSPC),	    E(ESPIPE),	     E(EROFS),	      E(EMLINK),       E(EPIPE),
	E(ERANGE),	    E(EDEADLK),	     E(ENAMETOOLONG), E(ENOLCK),       E(ENOSYS),
	E(ENOTEMPTY),	    E(ELOOP),	     E(ENOMSG),	      E(ENODATA),      E(ETIME),
	E(ENOSR),	    E(ENOLINK),	     E(EPROTO),	      E(EOVERFLOW),    E(EILSEQ),
	E(ENOTSOCK),	    E(EDESTADDRREQ), E(EMSGSIZE),     E(EPROTOTYPE),   E(ENOPROTOOPT),
	E(EPROTONOSUPPORT), E(EOPNOTSUPP),   E(EAFNOSUPPORT), E(EADDRINUSE),   E(EADDRNOTAVAIL),
	E(ENETDOWN),	    E(ENETUNREACH),  E(ENETRESET),    E(ECONNABORTED), E(ECONNRESET),
	E(ENOBUFS),	    E(EISCONN),	     E(ENOTCONN),     E(ESHUTDOWN),    E(ETIMEDOUT),
	E(ECONNREFUSED),    E(EHOSTDOWN),    E(EHOSTUNREACH), E(EALREADY),     E(EINPROGRESS),
	E(ESTALE),	    E(EDQUOT),	     E(ECANCELED),    E(EKEYREJECTED), E(ENOTRECOVERABLE),
};
#undef E

int fc_errno_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return table[i].val;
	return -1;
}

const char *fc_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].val == err)
			return table[i].name;
	return "E?";
}

const char *const *fc_errno_names(void)
{
	static const char *names[sizeof(table) / sizeof(table[0]) + 1];

	if (!names[0])
		for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
			names[i] = table[i].name;
	return names;
}
