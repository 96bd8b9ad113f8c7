// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * file-error (design.md §4): fail the cell's open/read/write of files under a path prefix.
 *
 * A cell-only filter would break exec and library loading of every process in the cell, so
 * the path is always checked (unless the user forced "every path"): bpf_d_path of the file,
 * compared with the prefix. The verifier allows bpf_d_path only in some hooks, which decides
 * the programs (measured on Debian 6.1 and 6.12):
 *
 *   open   lsm/file_open              preferred: the LSM hook meant for denying
 *          lsm_cgroup/file_open        attached to the cell itself
 *          fmod_ret/security_file_open when "bpf" is not an active LSM
 *          kprobe/openat + bpf_override_return   kernels with CONFIG_BPF_KPROBE_OVERRIDE
 *   read,  fmod_ret/security_file_permission
 *   write  (lsm/file_permission is refused bpf_d_path: it is not a sleepable LSM hook)
 *
 * Tracing and LSM programs may not use the coarse clock: the control check is fc_armed_fine.
 */
#include "fc_common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "fc_fileerr.h"

#define MAY_WRITE 0x2
#define MAY_READ  0x4

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fc_fileerr_cfg);
} fc_fileerr_cfg SEC(".maps");

struct path_buf {
	char s[FC_FE_PATH_MAX];
};

/* bpf_d_path's output: too big for the 512-byte stack next to everything else */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_buf);
} fc_fe_buf SEC(".maps");

/* The prefix, without a trailing slash ("/" stays "/"); load-time constants. */
const volatile char fc_fe_prefix[FC_FE_PATH_MAX] = {};
const volatile __u32 fc_fe_prefix_len = 1;
const volatile __u32 fc_fe_all_paths = 0;

static __always_inline bool fe_chance(__u64 p_fixed)
{
	return (__u64)bpf_get_prandom_u32() < p_fixed;
}

static __always_inline bool fe_claim(__u64 *total, __u64 limit)
{
	if (!limit)
		return true;
	if (__sync_fetch_and_add(total, 1) < limit)
		return true;
	fc_stat_add(FE_COUNT_EXHAUSTED, 1);
	return false;
}

/* The file's path starts with the prefix, at a component boundary ("/a/b" is not "/a/bc"). */
static __always_inline int path_match(const struct path *path)
{
	__u32 zero = 0, n = fc_fe_prefix_len;
	struct path_buf *b = bpf_map_lookup_elem(&fc_fe_buf, &zero);
	long len;
	char c;

	if (!b)
		return -1;
	len = bpf_d_path((struct path *)path, b->s, sizeof(b->s));
	if (len <= 0)
		return -1;
	if (n == 0 || n >= FC_FE_PATH_MAX - 1 || len - 1 < n)
		return 0;
	if (bpf_strncmp(b->s, n, (const char *)fc_fe_prefix))
		return 0;
	/* "/" as the prefix matches everything; else the next character ends a component */
	if (n == 1)
		return 1;
	c = b->s[n & (FC_FE_PATH_MAX - 1)];
	return c == '/' || c == 0;
}

static __always_inline int pick_errno(struct fc_fileerr_cfg *c)
{
	__u64 r = bpf_get_prandom_u32();

	for (int i = 0; i < FC_FE_MAX_ERRNOS; i++) {
		if (i >= c->nerr)
			break;
		if (r < c->cum[i])
			return c->err[i];
	}
	return c->nerr ? c->err[0] : 5 /* EIO */;
}

/* The whole decision: 0 = let it through, else the negative errno to fail it with. */
static __always_inline int fe_decide(const struct path *path, __u32 op)
{
	struct fc_fileerr_cfg *c;
	__u32 zero = 0;
	int m, err;

	fc_stat_add(FE_SEEN, 1);
	/* the cheap filters first: this runs for every file operation on the host */
	if (fc_cell_task() != 0)
		return 0;
	c = bpf_map_lookup_elem(&fc_fileerr_cfg, &zero);
	if (!c || !(c->ops & op))
		return 0;
	if (!fc_fe_all_paths) {
		m = path_match(path);
		if (m < 0)
			fc_stat_add(FE_NOPATH, 1);
		if (m <= 0)
			return 0;
	}
	fc_stat_add(FE_MATCHED, 1);
	if (!fc_armed_fine())
		return 0;
	if (!fe_chance(c->p_fail) || !fe_claim(&c->failed, c->count_limit))
		return 0;
	err = pick_errno(c);
	fc_stat_add(FE_INJECTED, 1);
	fc_stat_first(FC_STAT_FIRST_HIT_NS);
	return -err;
}

/*
 * 6.12's verifier wants an LSM program's return in [-MAX_ERRNO, 0] and forgets the range
 * across a negation: bound the returned value itself, where clang cannot reason it away.
 */
static __always_inline int lsm_ret(int err)
{
	/* opaque to clang: both compares stay on the value returned */
	barrier_var(err);
	if (err > 0)
		return 0;
	if (err < -4095)
		return -5;
	return err;
}

SEC("lsm/file_open")
int BPF_PROG(fc_fe_lsm_open, struct file *file)
{
	return lsm_ret(fe_decide(&file->f_path, FC_FE_OPEN));
}

/* lsm_cgroup: 1 allows, 0 denies (EPERM unless bpf_set_retval says otherwise). */
SEC("lsm_cgroup/file_open")
int BPF_PROG(fc_fe_lsmcg_open, struct file *file)
{
	int err = fe_decide(&file->f_path, FC_FE_OPEN);

	if (!err)
		return 1;
	bpf_set_retval(err);
	return 0;
}

/* fmod_ret: a non-zero return skips the function and becomes its result. */
SEC("fmod_ret/security_file_open")
int BPF_PROG(fc_fe_fmod_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	return fe_decide(&file->f_path, FC_FE_OPEN);
}

SEC("fmod_ret/security_file_permission")
int BPF_PROG(fc_fe_fmod_perm, struct file *file, int mask, int ret)
{
	__u32 op = mask & MAY_WRITE ? FC_FE_WRITE : mask & MAY_READ ? FC_FE_READ : 0;

	if (ret || !op)
		return ret;
	return fe_decide(&file->f_path, op);
}

/*
 * Kernels with CONFIG_BPF_KPROBE_OVERRIDE only (none of Debian's): syscalls are on the
 * error-injection list, so openat itself can be failed. No struct path here: the name the
 * caller passed is compared, so only absolute names can match. Chosen only when the probe saw
 * bpf_override_return work; never loaded otherwise.
 */
SEC("ksyscall/openat")
int BPF_KSYSCALL(fc_fe_kprobe_open, int dfd, const char *name)
{
	__u32 zero = 0, n = fc_fe_prefix_len;
	struct fc_fileerr_cfg *c;
	struct path_buf *b;
	int err;

	fc_stat_add(FE_SEEN, 1);
	if (fc_cell_task() != 0)
		return 0;
	c = bpf_map_lookup_elem(&fc_fileerr_cfg, &zero);
	b = bpf_map_lookup_elem(&fc_fe_buf, &zero);
	if (!c || !b || !(c->ops & FC_FE_OPEN))
		return 0;
	if (!fc_fe_all_paths) {
		if (bpf_probe_read_user_str(b->s, sizeof(b->s), name) <= 0 || n == 0 ||
		    n >= FC_FE_PATH_MAX - 1 || bpf_strncmp(b->s, n, (const char *)fc_fe_prefix))
			return 0;
		if (n > 1 && b->s[n & (FC_FE_PATH_MAX - 1)] != '/' &&
		    b->s[n & (FC_FE_PATH_MAX - 1)] != 0)
			return 0;
	}
	fc_stat_add(FE_MATCHED, 1);
	if (!fc_armed_fine() || !fe_chance(c->p_fail) || !fe_claim(&c->failed, c->count_limit))
		return 0;
	err = pick_errno(c);
	fc_stat_add(FE_INJECTED, 1);
	fc_stat_first(FC_STAT_FIRST_HIT_NS);
	bpf_override_return(ctx, -err);
	return 0;
}
