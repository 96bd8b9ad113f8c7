/* SPDX-License-Identifier: BSD-2-Clause */
/* Kernel function names, checked against the running kernel's BTF (no config files). */
#ifndef FC_KSYM_H
#define FC_KSYM_H

#include <stddef.h>

/*
 * Is @name a function in /sys/kernel/btf/vmlinux? 0 when it is; -ENOENT with the nearest name
 * in @near ("" when nothing is close); -EOPNOTSUPP when the kernel has no BTF.
 */
int fc_kernel_func_check(const char *name, char *near, size_t len);

#endif
