// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "core/cgroup.h"
#include "core/inventory.h"
#include "core/qdisc.h"
#include "core/state.h"
#include "core/tc.h"
#include "core/util.h"

#define META_VAR "bpf_metadata_faultcell_run"

const char *fc_inv_kind_name(enum fc_inv_kind k)
{
	static const char *names[] = { "?",	 "prog",   "link",  "tc-filter",
				       "clsact", "frozen", "state", "qdisc" };

	return k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static int add(struct fc_inventory *inv, const struct fc_inv_item *it)
{
	if (inv->n == inv->cap) {
		int cap = inv->cap ? inv->cap * 2 : 32;
		void *p = realloc(inv->items, cap * sizeof(*it));

		if (!p)
			return -ENOMEM;
		inv->items = p;
		inv->cap = cap;
	}
	inv->items[inv->n++] = *it;
	return 0;
}

/* Read META_VAR out of a frozen .rodata map through the map's BTF. */
static int read_meta(int map_fd, const struct bpf_map_info *mi, char *run, size_t len)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var;
	struct btf *btf;
	char *val = NULL;
	__u32 key = 0;
	int id, i, err = -ENOENT;

	btf = btf__load_from_kernel_by_id(mi->btf_id);
	if (!btf)
		return -errno;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		goto out;
	sec = btf__type_by_id(btf, id);
	val = calloc(1, mi->value_size);
	if (!val) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(map_fd, &key, val)) {
		err = -errno;
		goto out;
	}
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), META_VAR))
			continue;
		if (vs->offset + vs->size > mi->value_size)
			break;
		snprintf(run, len, "%.*s", (int)vs->size, val + vs->offset);
		err = 0;
		break;
	}
out:
	free(val);
	btf__free(btf);
	return err;
}

int fc_prog_run_id(uint32_t prog_id, char *run, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info), map_ids[16], i, nr;
	int fd, err = -ENOENT;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)map_ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen)) {
		err = -errno;
		goto out;
	}
	nr = info.nr_map_ids < 16 ? info.nr_map_ids : 16;
	for (i = 0; i < nr && err; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(map_ids[i]);
		size_t nl;

		if (mfd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(mfd, &mi, &mlen) && mi.btf_id) {
			nl = strlen(mi.name);
			/* the kernel keeps 15 chars: "<obj>.rodata" is cut, ".rodata" stays a
			 * suffix */
			if (nl >= 7 && !strcmp(mi.name + nl - 7, ".rodata"))
				err = read_meta(mfd, &mi, run, len);
		}
		close(mfd);
	}
out:
	close(fd);
	return err;
}

static bool run_match(const char *want, const char *have)
{
	return !want || !strcmp(want, have);
}

static int collect_progs(struct fc_inventory *inv, const char *run, uint32_t **ids, int *nids)
{
	__u32 id = 0;
	int err;

	while (!bpf_prog_get_next_id(id, &id)) {
		struct fc_inv_item it = { .kind = INV_PROG, .id = id };
		struct bpf_prog_info info = {};
		__u32 ilen = sizeof(info);
		int fd;

		if (fc_prog_run_id(id, it.run, sizeof(it.run)) || !it.run[0] ||
		    !run_match(run, it.run))
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd >= 0) {
			if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
				snprintf(it.desc, sizeof(it.desc), "%s type %u", info.name,
					 info.type);
			close(fd);
		}
		err = add(inv, &it);
		if (err)
			return err;
		uint32_t *p = realloc(*ids, (*nids + 1) * sizeof(**ids));

		if (!p)
			return -ENOMEM;
		*ids = p;
		(*ids)[(*nids)++] = id;
	}
	return 0;
}

static int collect_links(struct fc_inventory *inv, uint32_t *prog_ids, int nids)
{
	__u32 id = 0;
	int err, i;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info = {};
		__u32 ilen = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		err = bpf_obj_get_info_by_fd(fd, &info, &ilen);
		close(fd);
		if (err)
			continue;
		for (i = 0; i < nids; i++) {
			if (prog_ids[i] != info.prog_id)
				continue;
			struct fc_inv_item it = { .kind = INV_LINK, .id = id, .aux = info.prog_id };

			snprintf(it.desc, sizeof(it.desc), "link type %u to prog %u", info.type,
				 info.prog_id);
			fc_prog_run_id(info.prog_id, it.run, sizeof(it.run));
			err = add(inv, &it);
			if (err)
				return err;
		}
	}
	return 0;
}

static int collect_state(struct fc_inventory *inv, const char *run)
{
	static char ids[64][FC_RUN_ID_LEN];
	struct fc_state *st = malloc(sizeof(*st));
	int n, i, r, err = 0, saved;

	if (!st)
		return -ENOMEM;
	n = fc_state_list(ids, 64);
	for (i = 0; i < n && !err; i++) {
		if (!run_match(run, ids[i]) || fc_state_load(ids[i], st))
			continue;
		struct fc_inv_item it = { .kind = INV_STATE };

		snprintf(it.run, sizeof(it.run), "%s", ids[i]);
		snprintf(it.desc, sizeof(it.desc), "state file of run %s (pid %d)", ids[i],
			 st->pid);
		err = add(inv, &it);
		/* recorded ifindexes belong to the run's netns; a vanished netns took them along */
		if (fc_netns_enter(st->netns, &saved))
			continue;
		for (r = 0; r < st->nrecs && !err; r++) {
			const struct fc_rec *rec = &st->recs[r];
			struct fc_inv_item ri = {};

			snprintf(ri.run, sizeof(ri.run), "%s", ids[i]);
			if (rec->kind == REC_TC_FILTER) {
				int pid = fc_tc_filter_prog_id(rec->ifindex, rec->egress,
							       rec->handle, rec->prio);

				if (pid <= 0)
					continue;
				ri.kind = INV_TC_FILTER;
				ri.id = rec->ifindex;
				ri.aux = rec->handle << 16 | (rec->prio & 0xffff);
				snprintf(ri.desc, sizeof(ri.desc),
					 "tc filter ifindex %d %s handle 0x%x prio %u prog %d",
					 rec->ifindex, rec->egress ? "egress" : "ingress",
					 rec->handle, rec->prio, pid);
			} else if (rec->kind == REC_CLSACT) {
				if (!fc_tc_clsact_exists(rec->ifindex))
					continue;
				ri.kind = INV_CLSACT;
				ri.id = rec->ifindex;
				snprintf(ri.desc, sizeof(ri.desc),
					 "clsact qdisc on %s (ifindex %d)", rec->ifname,
					 rec->ifindex);
			} else if (rec->kind == REC_QDISC) {
				if (!fc_qdisc_rec_present(rec))
					continue;
				ri.kind = INV_QDISC;
				ri.id = rec->ifindex;
				ri.aux = rec->handle;
				snprintf(
				    ri.desc, sizeof(ri.desc),
				    "%s qdisc %x: on %s (ifindex %d), replacing the kernel's %s",
				    rec->qkind, rec->handle >> 16, rec->ifname, rec->ifindex,
				    rec->qwas);
			} else if (rec->kind == REC_FREEZE) {
				if (fc_cgroup_is_frozen(rec->path) != 1)
					continue;
				ri.kind = INV_FROZEN;
				snprintf(ri.desc, sizeof(ri.desc), "frozen cgroup %s", rec->path);
			}
			err = add(inv, &ri);
		}
		fc_netns_restore(saved);
	}
	free(st);
	return err;
}

int fc_inventory_collect(struct fc_inventory *inv, const char *run)
{
	uint32_t *ids = NULL;
	int nids = 0, err;

	memset(inv, 0, sizeof(*inv));
	err = collect_progs(inv, run, &ids, &nids);
	err = err ?: collect_links(inv, ids, nids);
	err = err ?: collect_state(inv, run);
	free(ids);
	return err;
}

void fc_inventory_free(struct fc_inventory *inv)
{
	free(inv->items);
	memset(inv, 0, sizeof(*inv));
}

static bool same(const struct fc_inv_item *a, const struct fc_inv_item *b)
{
	return a->kind == b->kind && a->id == b->id && a->aux == b->aux &&
	       !strcmp(a->run, b->run) && (a->kind != INV_FROZEN || !strcmp(a->desc, b->desc));
}

int fc_inventory_new_items(const struct fc_inventory *before, const struct fc_inventory *after,
			   char *out, size_t outlen)
{
	int n = 0, i, j;
	size_t used = 0;

	if (out && outlen)
		out[0] = 0;
	for (i = 0; i < after->n; i++) {
		for (j = 0; j < before->n; j++)
			if (same(&after->items[i], &before->items[j]))
				break;
		if (j < before->n)
			continue;
		n++;
		if (out && used < outlen)
			used +=
			    snprintf(out + used, outlen - used, "%s%s %u (run %s): %s",
				     used ? "; " : "", fc_inv_kind_name(after->items[i].kind),
				     after->items[i].id, after->items[i].run, after->items[i].desc);
	}
	return n;
}
