// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "core/control.h"
#include "core/log.h"
#include "core/util.h"

int fc_core_open(struct fc_core *core, const char *run_id, uint32_t ringbuf_bytes)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct fc_control zero = {};
	__u32 key = 0;
	int err;

	memset(core, 0, sizeof(*core));
	core->control_fd = core->events_fd = -1;
	snprintf(core->run_id, sizeof(core->run_id), "%s", run_id);
	core->control_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fc_control", sizeof(__u32),
					  sizeof(struct fc_control), 1, NULL);
	if (core->control_fd < 0) {
		err = -errno;
		pr_warn("cannot create the control map: %s", strerror(errno));
		goto err_out;
	}
	err = bpf_map_update_elem(core->control_fd, &key, &zero, BPF_ANY);
	if (err) {
		err = -errno;
		goto err_out;
	}
	err = bpf_obj_get_info_by_fd(core->control_fd, &info, &len);
	if (err) {
		err = -errno;
		goto err_out;
	}
	core->control_map_id = info.id;
	core->events_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "fc_events", 0, 0,
					 ringbuf_bytes ?: 256 * 1024, NULL);
	if (core->events_fd < 0) {
		err = -errno;
		pr_warn("cannot create the event ring buffer: %s", strerror(errno));
		goto err_out;
	}
	return 0;
err_out:
	fc_core_close(core);
	return err;
}

void fc_core_close(struct fc_core *core)
{
	if (core->control_fd >= 0)
		close(core->control_fd);
	if (core->events_fd >= 0)
		close(core->events_fd);
	core->control_fd = core->events_fd = -1;
}

int fc_core_add_cell(struct fc_core *core, const struct fc_cell *cell)
{
	if (core->ncells >= FC_MAX_CELLS)
		return -E2BIG;
	core->cells[core->ncells++] = *cell;
	return 0;
}

int fc_obj_set_rodata(struct bpf_object *obj, const char *name, const void *data, size_t size)
{
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec, *var;
	struct bpf_map *map;
	struct btf *btf;
	size_t mapsz;
	char *base;
	int id, i;

	map = bpf_object__find_map_by_name(obj, ".rodata");
	btf = bpf_object__btf(obj);
	if (!map || !btf)
		return -ENOENT;
	/* libbpf 1.1 returns it const; before load it is the writable image of .rodata */
	base = (char *)bpf_map__initial_value(map, &mapsz);
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (!base || id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		var = btf__type_by_id(btf, vs->type);
		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (size > vs->size || vs->offset + vs->size > mapsz)
			return -E2BIG;
		memcpy(base + vs->offset, data, size);
		return 0;
	}
	return -ENOENT;
}

int fc_core_prepare(struct fc_core *core, struct bpf_object *obj)
{
	__u64 ids[FC_MAX_CELLS] = {};
	__u32 levels[FC_MAX_CELLS] = {}, n = core->ncells;
	struct bpf_map *map;
	int err, i;

	map = bpf_object__find_map_by_name(obj, "fc_control");
	if (map) {
		err = bpf_map__reuse_fd(map, core->control_fd);
		if (err)
			return err;
	}
	map = bpf_object__find_map_by_name(obj, "fc_events");
	if (map) {
		err = bpf_map__reuse_fd(map, core->events_fd);
		if (err)
			return err;
	}
	for (i = 0; i < core->ncells; i++) {
		ids[i] = core->cells[i].id;
		levels[i] = core->cells[i].level;
	}
	if (core->nobjs < (int)(sizeof(core->objs) / sizeof(core->objs[0])))
		core->objs[core->nobjs++] = obj;
	err = fc_obj_set_rodata(obj, "bpf_metadata_faultcell_run", core->run_id,
				strlen(core->run_id) + 1);
	err = err ?: fc_obj_set_rodata(obj, "fc_cell_id", ids, sizeof(ids));
	err = err ?: fc_obj_set_rodata(obj, "fc_cell_level", levels, sizeof(levels));
	err = err ?: fc_obj_set_rodata(obj, "fc_ncells", &n, sizeof(n));
	return err;
}

int fc_control_write(int fd, const struct fc_control *c)
{
	__u32 key = 0;

	return bpf_map_update_elem(fd, &key, c, BPF_ANY) ? -errno : 0;
}

int fc_core_read(struct fc_core *core, struct fc_control *out)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(core->control_fd, &key, out) ? -errno : 0;
}

int fc_core_arm(struct fc_core *core, uint64_t deadline_ns, uint64_t max_gap_ns)
{
	struct fc_control c = {};
	int err = fc_core_read(core, &c);

	if (err)
		return err;
	for (int i = 0; i < core->nobjs; i++)
		fc_obj_stats_reset(core->objs[i]);
	c.deadline_ns = deadline_ns;
	c.max_gap_ns = max_gap_ns;
	c.heartbeat_ns = fc_now_coarse_ns();
	c.enabled = 1;
	c.disabled_at_ns = 0;
	c.generation++;
	return fc_control_write(core->control_fd, &c);
}

int fc_core_heartbeat(struct fc_core *core)
{
	struct fc_control c;
	int err = fc_core_read(core, &c);

	if (err)
		return err;
	c.heartbeat_ns = fc_now_coarse_ns();
	c.generation++;
	return fc_control_write(core->control_fd, &c);
}

static int disable_fd(int fd)
{
	struct fc_control c;
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, &c))
		return -errno;
	if (!c.enabled)
		return 0;
	c.enabled = 0;
	c.disabled_at_ns = fc_now_ns();
	c.generation++;
	return fc_control_write(fd, &c);
}

int fc_core_disable(struct fc_core *core)
{
	return disable_fd(core->control_fd);
}

int fc_control_disable_by_id(uint32_t map_id)
{
	int fd, err;

	fd = bpf_map_get_fd_by_id(map_id);
	if (fd < 0)
		return -errno;
	err = disable_fd(fd);
	close(fd);
	return err;
}

static int stats_fd(struct bpf_object *obj)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "fc_stats");

	return map ? bpf_map__fd(map) : -ENOENT;
}

int fc_obj_stats(struct bpf_object *obj, uint64_t out[FC_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd = stats_fd(obj), c;
	__u64 *vals;

	if (fd < 0)
		return fd;
	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < FC_STAT_MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, vals))
			continue;
		for (c = 0; c < ncpu; c++) {
			if (k == FC_STAT_FIRST_ARMED_NS || k == FC_STAT_FIRST_INERT_NS ||
			    k == FC_STAT_FIRST_HIT_NS) {
				if (vals[c] && (!out[k] || vals[c] < out[k]))
					out[k] = vals[c];
			} else {
				out[k] += vals[c];
			}
		}
	}
	free(vals);
	return 0;
}

int fc_obj_stats_reset(struct bpf_object *obj)
{
	int ncpu = libbpf_num_possible_cpus(), fd = stats_fd(obj);
	__u64 *vals;
	int err = 0;

	if (fd < 0)
		return fd;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < FC_STAT_MAX && !err; k++)
		if (bpf_map_update_elem(fd, &k, vals, BPF_ANY))
			err = -errno;
	free(vals);
	return err;
}
